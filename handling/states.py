"""Case handling's named values: the one place their codes are written.

Each is a `StrEnum`: a member *is* its stored string, so the database, the JSON API,
the audit chain and templates see the plain code ("closed"), and a query or a
comparison with the member matches rows written before these names existed. Labels
(nb/en) are kept beside their use: state labels in handling/workflow.py, track labels
in handling/codes.py.
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    """Where a case is in its workflow (DOMAIN.md, "The case")."""

    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    INVESTIGATION = "investigation"
    MEASURES_DECIDED = "measures_decided"
    MEASURES_DONE = "measures_done"
    EVALUATED = "evaluated"
    CLOSED = "closed"
    DROPPED = "dropped"
    FORWARDED = "forwarded"
    REOPENED = "reopened"


class Track(StrEnum):
    """The kind of case, which decides routing, deadlines and retention."""

    HMS_DEVIATION = "hms_deviation"
    WHISTLEBLOWING = "whistleblowing"
    HR_MATTER = "hr_matter"


class AccessLevel(StrEnum):
    """How a user may see a case (service.access_level): as a handler, or as the safety
    representative of a case whose exposed person consented to share it."""

    HANDLER = "handler"
    SAFETY_REP = "safety_rep"


class GrantKind(StrEnum):
    """Why a handler has a grant for an existing case (CaseGrant.kind)."""

    # Given by a handler who has the case, or by the group's lead.
    GRANT = "grant"
    # Assigning the case to a colleague who joined the group later.
    ASSIGNED = "assigned"
    # The server's break-glass command; needs no group membership.
    BREAK_GLASS = "break_glass"


class Side(StrEnum):
    """The two sides of a case's conversation (CaseMessage.author_kind, and whose view
    of the messages is built)."""

    HANDLER = "handler"
    REPORTER = "reporter"


# No further work is expected (deadlines still open are cancelled).
FINISHED_STATES = frozenset({CaseState.CLOSED, CaseState.DROPPED})
# States in which the case is still being worked on (the default queue).
ACTIVE_STATES = frozenset(CaseState) - FINISHED_STATES
# Where investigation belongs (DOMAIN.md: "[undersøkelse]: varsel and harassment").
INVESTIGATION_TRACKS = frozenset({Track.WHISTLEBLOWING, Track.HR_MATTER})
