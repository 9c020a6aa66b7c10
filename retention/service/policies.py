"""Retention policies: admin-editable rows with documented defaults (README)."""

from __future__ import annotations

from sqlalchemy import select

from handling.states import CaseState, Track
from retention.models import RetentionPolicy
from trygg import audit
from trygg.extensions import db, utcnow

# (scope, track, outcome) → months; the 0013 migration seeds the same rows.
DEFAULTS: dict[tuple[str, str | None, str | None], int] = {
    ("case", Track.HMS_DEVIATION, CaseState.CLOSED): 120,
    ("case", Track.HMS_DEVIATION, CaseState.DROPPED): 24,
    ("case", Track.HMS_DEVIATION, CaseState.FORWARDED): 60,
    ("case", Track.WHISTLEBLOWING, CaseState.CLOSED): 36,
    ("case", Track.WHISTLEBLOWING, CaseState.DROPPED): 12,
    ("case", Track.WHISTLEBLOWING, CaseState.FORWARDED): 36,
    ("case", Track.HR_MATTER, CaseState.CLOSED): 60,
    ("case", Track.HR_MATTER, CaseState.DROPPED): 24,
    ("case", Track.HR_MATTER, CaseState.FORWARDED): 60,
    ("report", None, None): 12,
    ("receipt", None, None): 12,
}
MAX_MONTHS = 600


class PolicyNotFound(Exception):
    """No retention policy with that id."""


def policies() -> list[RetentionPolicy]:
    return list(
        db.session.scalars(
            select(RetentionPolicy).order_by(
                RetentionPolicy.scope, RetentionPolicy.track, RetentionPolicy.outcome
            )
        )
    )


def policy_for(
    scope: str, track: str | None = None, outcome: str | None = None
) -> RetentionPolicy | None:
    """The policy of a scope (and a case's track and outcome); None: keep for now."""
    return db.session.scalar(
        select(RetentionPolicy).where(
            RetentionPolicy.scope == scope,
            RetentionPolicy.track.is_(None) if track is None else RetentionPolicy.track == track,
            RetentionPolicy.outcome.is_(None)
            if outcome is None
            else RetentionPolicy.outcome == outcome,
        )
    )


def set_months(policy_id: int, months: int, *, actor: str) -> RetentionPolicy:
    """Change how long a policy keeps things (1 … 600 months); audited."""
    policy = db.session.get(RetentionPolicy, policy_id)
    if policy is None:
        raise PolicyNotFound()
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(months)
    before = policy.months
    policy.months = months
    policy.updated_at = utcnow()
    audit.record(
        "retention.policy",
        actor=actor,
        object_type="retention_policy",
        object_id=policy.id,
        detail={"rule": policy.rule, "from": before, "to": months},
    )
    db.session.flush()
    return policy
