"""Retention's operations, by sub-domain: policies, holds, the deletion run."""

from retention.service.deletion import (
    DueItem,
    RunResult,
    due_items,
    erase_due_case,
    run,
    status,
)
from retention.service.holds import (
    HOLDS_SHOWN,
    HoldNotFound,
    active_hold,
    holds_in_force,
    lift_hold,
    place_hold,
)
from retention.service.policies import (
    DEFAULTS,
    PolicyNotFound,
    policies,
    policy_for,
    set_months,
)

__all__ = [
    "DEFAULTS",
    "HOLDS_SHOWN",
    "DueItem",
    "HoldNotFound",
    "PolicyNotFound",
    "RunResult",
    "active_hold",
    "due_items",
    "erase_due_case",
    "holds_in_force",
    "lift_hold",
    "place_hold",
    "policies",
    "policy_for",
    "run",
    "set_months",
    "status",
]
