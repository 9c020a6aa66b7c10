"""The handler's queue and the safety representative's list: filtered, sorted, counted
and paged in SQL (see `queue_for`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import defer, joinedload, lazyload, selectinload

from handling.models import Case, Deadline, HandlerGroup
from handling.service.access import visible_cases
from handling.service.base import DUE_SOON, _now
from handling.service.deadlines import deadline_status, next_open_deadline
from handling.service.routing import conflicts
from handling.workflow import FINISHED_STATES
from reporting.models import Report, ReportIncidentType, sealed_columns
from trygg import org, paging
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
    # The cursor of the next page (trygg/paging.py); None on the last page.
    next_cursor: str | None = None


QUEUE_FILTERS = ("state", "track", "deadline", "unit_id", "incident_type", "assigned")


def queue_for(
    user: User,
    filters: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
    limit: int = paging.DEFAULT_PAGE_SIZE,
    after: tuple[Any, ...] | None = None,
) -> Queue:
    """One page of the cases the user may work on (or, for a safety rep, see), nearest
    deadline first, with the counts over all their active cases.

    Filters: state (a state, "active" — the default — or "all"), track, deadline
    (overdue, due_soon, ok), unit_id (that unit and those below it), incident_type,
    assigned ("me" or "none"). `after` is the previous page's last sort key
    (next_due_at, opened_at, id), see trygg/paging.py. Everything is filtered, sorted and
    counted in SQL over `Case.next_due_at`, from `visible_cases`: three statements for
    the page, the counts and the rows' deadlines, however many cases there are.
    """
    now = _now(now)
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    visible = visible_cases(user)
    query = (
        select(Case)
        .where(visible, *_queue_conditions(filters, user, now))
        .order_by(Case.next_due_at.asc().nulls_last(), Case.opened_at, Case.id)
        .limit(limit + 1)
        .options(
            # What a queue row shows, and nothing more (a row never reads these).
            joinedload(Case.report).lazyload(Report.attachments),
            joinedload(Case.report).options(*(defer(c) for c in sealed_columns())),
            joinedload(Case.group).lazyload(HandlerGroup.members),
            joinedload(Case.group).lazyload(HandlerGroup.escalation_contacts),
            selectinload(Case.deadlines),
            lazyload(Case.exclusions),
            lazyload(Case.tasks),
            lazyload(Case.debriefings),
            lazyload(Case.section52),
        )
    )
    if after is not None:
        query = query.where(_after(*after))
    cases = list(db.session.scalars(query))
    page = paging.page_of(cases, limit, lambda c: (c.next_due_at, c.opened_at, c.id))
    items = []
    for case in page.items:
        if not _may_list(user, case):
            continue
        nearest = next_open_deadline(case)
        late = sum(1 for d in case.deadlines if d.is_open and d.due_at < now)
        items.append(QueueItem(case, nearest, deadline_status(case.next_due_at, now), late))
    return Queue(items, *_queue_counts(visible, now), next_cursor=page.next_cursor)


def _queue_conditions(filters: Mapping[str, Any], user: User, now: datetime) -> list[Any]:
    state = filters.get("state", "active")
    found: list[Any] = []
    if state == "active":
        found.append(_unfinished())
    elif state != "all":
        found.append(Case.state == state)
    if "track" in filters:
        found.append(Case.track == filters["track"])
    deadline = filters.get("deadline")
    if deadline == "overdue":
        found.append(Case.next_due_at < now)
    elif deadline == "due_soon":
        found.append(and_(Case.next_due_at >= now, Case.next_due_at < now + DUE_SOON))
    elif deadline == "ok":
        found.append(or_(Case.next_due_at.is_(None), Case.next_due_at >= now + DUE_SOON))
    if "unit_id" in filters:
        units = sorted(org.subtree_ids(int(filters["unit_id"])))
        found.append(exists().where(Report.id == Case.report_id, Report.unit_id.in_(units)))
    if "incident_type" in filters:
        found.append(
            exists().where(
                ReportIncidentType.report_id == Case.report_id,
                ReportIncidentType.incident_type == filters["incident_type"],
            )
        )
    assigned = filters.get("assigned")
    if assigned == "me":
        found.append(Case.assigned_user_id == user.id)
    elif assigned == "none":
        found.append(Case.assigned_user_id.is_(None))
    return found


def _unfinished() -> Any:
    # Spelled as the partial index ix_case_queue_active's condition, so planners use it.
    return Case.state.not_in(sorted(FINISHED_STATES))


def _after(due: datetime | None, opened: datetime, case_id: int) -> Any:
    """The rows after (due, opened, case_id) in the queue's order (no deadline last)."""
    later = or_(Case.opened_at > opened, and_(Case.opened_at == opened, Case.id > case_id))
    if due is None:
        return and_(Case.next_due_at.is_(None), later)
    return or_(
        Case.next_due_at.is_(None),
        Case.next_due_at > due,
        and_(Case.next_due_at == due, later),
    )


def _queue_counts(visible: Any, now: datetime) -> tuple[int, int, int, int]:
    """Over the user's active cases, whatever the filters: overdue cases, overdue
    deadlines, cases due within 24 hours, active cases. One statement, exact."""
    late_deadlines = (
        select(func.count())
        .select_from(Deadline)
        .join(Case, Case.id == Deadline.case_id)
        .where(
            visible,
            _unfinished(),
            # A case with an overdue deadline has its next one overdue: this bounds the
            # join to the overdue cases (a range of ix_case_queue_active).
            Case.next_due_at < now,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at < now,
        )
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            func.count().filter(Case.next_due_at < now),
            late_deadlines,
            func.count().filter(and_(Case.next_due_at >= now, Case.next_due_at < now + DUE_SOON)),
            func.count(),
        ).where(visible, _unfinished())
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def _may_list(user: User, case: Case) -> bool:
    """A safety representative is left out of cases they are named in: conflicts are
    sealed in the report, so this one check is not SQL (and reads per row, only for
    safety representatives: a handler's queue never decrypts)."""
    return not user.has_role("safety_rep") or user.id not in conflicts(case.report)
