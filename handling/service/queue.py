"""The handler's queue and the safety representative's list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    select,
)

from handling import access
from handling.models import (
    Case,
    Deadline,
    Debriefing,
    FollowUpTask,
)
from handling.service.access import _safety_rep_may_see, _safety_rep_units
from handling.service.base import _now
from handling.service.deadlines import deadline_status, next_open_deadline
from handling.workflow import ACTIVE_STATES, STATES
from reporting.models import Report
from trygg import org
from trygg.accounts.models import User
from trygg.extensions import db

# -- the queue --------------------------------------------------------------------------


@dataclass
class QueueItem:
    case: Case
    next_deadline: Deadline | None
    deadline_status: str
    overdue_deadlines: int


@dataclass
class Queue:
    items: list[QueueItem]
    # Over the caller's whole queue of active cases, whatever the filters.
    overdue_cases: int
    overdue_deadlines: int
    due_soon_cases: int
    active_cases: int


QUEUE_FILTERS = ("state", "track", "deadline", "unit_id", "incident_type", "assigned")


def _handler_cases(user: User, states: set[str]) -> list[Case]:
    """Cases the user may handle (`handling.access.handler_sees`), in these states."""
    if not user.has_role("handler"):
        return []
    return list(
        db.session.scalars(select(Case).where(access.handler_sees(user.id), Case.state.in_(states)))
    )


def _safety_rep_cases(user: User) -> list[Case]:
    if not user.has_role("safety_rep"):
        return []
    units = _safety_rep_units(user)
    if not units:
        return []
    consented = (
        select(FollowUpTask.case_id)
        .where(FollowUpTask.consent_to_share.is_(True))
        .union(select(Debriefing.case_id).where(Debriefing.consent_to_share_summary.is_(True)))
    )
    candidates = db.session.scalars(
        select(Case)
        .join(Report, Report.id == Case.report_id)
        .where(Case.id.in_(consented), Report.unit_id.in_(units))
    )
    return [c for c in candidates if _safety_rep_may_see(user, c)]


def queue_for(
    user: User, filters: Mapping[str, Any] | None = None, *, now: datetime | None = None
) -> Queue:
    """The cases the user may work on (or, for a safety rep, see), nearest deadline first.

    Filters: state (a state, "active" — the default — or "all"), track, deadline
    (overdue, due_soon, ok), unit_id (that unit and those below it), incident_type,
    assigned ("me" or "none").
    """
    now = _now(now)
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    if "unit_id" in filters:
        filters["unit_ids"] = org.subtree_ids(int(filters["unit_id"]))
    wanted = filters.get("state", "active")
    # Active cases always (for the counts), and finished ones only when asked for.
    states = set(ACTIVE_STATES)
    states |= set(STATES) if wanted == "all" else {wanted} if wanted in STATES else set()
    cases = {c.id: c for c in _handler_cases(user, states)}
    for case in _safety_rep_cases(user):
        if case.state in states:
            cases.setdefault(case.id, case)

    items: list[QueueItem] = []
    overdue_cases = overdue_deadlines = due_soon_cases = active = 0
    for case in cases.values():
        nearest = next_open_deadline(case)
        status = deadline_status(nearest.due_at if nearest else None, now)
        late = sum(1 for d in case.deadlines if d.is_open and d.due_at < now)
        if case.state in ACTIVE_STATES:
            active += 1
            overdue_cases += status == "overdue"
            due_soon_cases += status == "due_soon"
            overdue_deadlines += late
        if _matches(case, status, filters, user):
            items.append(QueueItem(case, nearest, status, late))
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(
        key=lambda i: (
            i.next_deadline.due_at if i.next_deadline else far,
            i.case.opened_at,
            i.case.id,
        )
    )
    return Queue(items, overdue_cases, overdue_deadlines, due_soon_cases, active)


def _matches(case: Case, status: str, filters: Mapping[str, Any], user: User) -> bool:
    state = filters.get("state", "active")
    if state == "active" and case.state not in ACTIVE_STATES:
        return False
    if state not in {"active", "all"} and case.state != state:
        return False
    if "track" in filters and case.track != filters["track"]:
        return False
    if "deadline" in filters and status != filters["deadline"]:
        return False
    if "unit_ids" in filters and case.report.unit_id not in filters["unit_ids"]:
        return False
    if "incident_type" in filters and filters["incident_type"] not in case.report.incident_types:
        return False
    assigned = filters.get("assigned")
    if assigned == "me" and case.assigned_user_id != user.id:
        return False
    return not (assigned == "none" and case.assigned_user_id is not None)
