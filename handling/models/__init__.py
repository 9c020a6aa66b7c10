"""Cases and everything hanging off them: routing, exclusions, deadlines, follow-up.

A case shares its report's data key (reporting.models.Report.wrapped_key): every sealed
column here is AES-GCM under that key with associated data naming this table, the column
(without "_sealed") and the row id, so destroying the report's key erases the case too.
Only codes, flags, ids and times are stored in clear.

Deadlines are rows (ARCHITECTURE.md): `due_at` in UTC, met when the matching step is
recorded; `reminded_at`, `escalated_at`, `lease_owner` and `lease_until` are for the
scheduler tick, which claims open rows (`met_at` and `cancelled_at` empty) that are due.

The models live by sub-domain: config (handler groups, routing rules, deadline
policies), case (the case, exclusions, grants, readings), followup (deadlines, tasks,
debriefings, § 5-2) and timeline (messages, events). Every name is re-exported here, so
`from handling.models import Case` keeps working.
"""

from handling.models.case import (
    UNFINISHED,
    Case,
    CaseExclusion,
    CaseGrant,
    CaseReading,
    IdentityConsent,
)
from handling.models.config import (
    DeadlinePolicy,
    HandlerGroup,
    HandlerGroupEscalation,
    HandlerGroupMember,
    RoutingRule,
)
from handling.models.followup import (
    OPEN_DEADLINE,
    Deadline,
    Debriefing,
    FollowUpTask,
    Section52Check,
)
from handling.models.timeline import CaseEvent, CaseMessage

__all__ = [
    "OPEN_DEADLINE",
    "UNFINISHED",
    "Case",
    "CaseEvent",
    "CaseExclusion",
    "CaseGrant",
    "CaseMessage",
    "CaseReading",
    "Deadline",
    "DeadlinePolicy",
    "Debriefing",
    "FollowUpTask",
    "HandlerGroup",
    "HandlerGroupEscalation",
    "HandlerGroupMember",
    "IdentityConsent",
    "RoutingRule",
    "Section52Check",
]
