"""The handler's queue and the safety representative's list: filtered, sorted, counted
and paged in SQL (see `queue_for`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import aliased, contains_eager, defer, joinedload, lazyload

from handling import access
from handling.models import Case, Deadline, HandlerGroup
from handling.service import queue_order
from handling.service.access import handler_reach, rep_conflicts, visible_cases
from handling.service.base import DUE_SOON, _audit, _now
from handling.service.deadlines import deadline_status
from handling.states import AccessLevel
from handling.workflow import FINISHED_STATES
from reporting import service as reporting
from reporting.models import Report, ReportIncidentType, sealed_columns
from trygg import org, paging
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.roles import Role

# -- the queue --------------------------------------------------------------------------


@dataclass
class QueueItem:
    case: Case
    next_deadline: Deadline | None
    deadline_status: str
    overdue_deadlines: int
    # The reporter's messages the caller has not read; the assignee's name.
    unread: int = 0
    assignee: str | None = None
    # The report's types of incident (read with the page, not per row).
    incident_types: list[str] = field(default_factory=list)


@dataclass
class Queue:
    items: list[QueueItem]
    # Over the caller's whole queue of active cases, whatever the filters.
    overdue_cases: int
    overdue_deadlines: int
    due_soon_cases: int
    active_cases: int
    mine: int = 0
    unassigned: int = 0
    # The cursor of the next page (trygg/paging.py); None on the last page.
    next_cursor: str | None = None
    # A name search: how many cases' names were read, and whether the bound cut it short.
    name_search: NameSearchInfo | None = None


@dataclass(frozen=True)
class NameSearchInfo:
    searched: int
    capped: bool
    limit: int


# The page's report, joined under its own name (the filters' EXISTS on Report stay
# theirs), and the row's nearest open deadline. Made once: an alias made per request
# cost the request a few milliseconds of adapting its columns again.
SHOWN = aliased(Report, name="shown")
NEAREST = aliased(Deadline, name="nearest")

# A page row's columns before the counters that come beside it (see _page_statement).
ROW_COLUMNS = 7

QUEUE_FILTERS = ("state", "track", "deadline", "unit_id", "incident_type", "assigned")
# The most cases one name search opens (newest first): see README, "Finding a case".
NAME_SEARCH_LIMIT = 5000


def queue_for(
    user: User,
    filters: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
    limit: int = paging.DEFAULT_PAGE_SIZE,
    after: tuple[Any, ...] | None = None,
    sort: str = queue_order.DEFAULT_SORT,
    q: str | None = None,
) -> Queue:
    """One page of the cases the user may work on (or, for a safety rep, see), in the
    order `sort` names (nearest deadline first by default), with the counts over all
    their active cases.

    Filters: state (a state, "active" — the default — or "all"), track, deadline
    (overdue, due_soon, ok), unit_id (that unit and those below it), incident_type,
    assigned ("me" or "none"). `q`: part of a reference, or (for a handler) part of a
    name the case names (`_search`). `after` is the previous page's last sort key (see
    queue_order and trygg/paging.py). Filtered, sorted and counted in SQL from
    `visible_cases`: after the caller's groups, one statement gives the page with each
    row's nearest deadline, overdue deadlines and types of incident, and the counts
    beside it (alone when the page is empty), however many cases there are; a name
    search adds one.
    """
    now = _now(now)
    order = queue_order.Sort.parse(sort)
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    shown = SHOWN
    reach = handler_reach(user)
    visible = visible_cases(user, reach=reach, active=True)
    conditions = [visible_cases(user, shown, reach=reach), *_queue_conditions(filters, user, now)]
    hidden = rep_conflicts(user)
    if hidden:  # a safety rep named in a shared case: not listed, not counted
        visible = and_(visible, Case.id.not_in(hidden))
        conditions.append(Case.id.not_in(hidden))
    searched = _search(user, q, conditions, shown) if q else None
    if searched is not None:
        conditions.append(searched[0])
    value = queue_order.sort_value(order.column, user, shown)
    query = _page_statement(user, visible, conditions, value, order, now, limit)
    if after is not None:
        query = query.where(queue_order.after(order, value, after))
    rows = list(db.session.execute(query).all())
    page = paging.page_of(rows, limit, lambda r: queue_order.row_key(order, r[0], r[1]))
    items = _items(user, page.items, now)
    if searched is not None and searched[1] is not None:
        _audit_hits(user, items, searched[1])
    if rows:
        counted = rows[0][ROW_COLUMNS:]
    else:  # an empty page: the counters alone
        counted = db.session.execute(_counts_query(visible, user, now)).one()
    overdue, late, due_soon, active, mine, unassigned = (int(n) for n in counted)
    return Queue(
        items,
        overdue,
        late,
        due_soon,
        active,
        mine,
        unassigned,
        next_cursor=page.next_cursor,
        name_search=searched[2] if searched is not None else None,
    )


def _page_statement(
    user: User,
    visible: Any,
    conditions: list[Any],
    value: Any,
    order: queue_order.Sort,
    now: datetime,
    limit: int,
) -> Any:
    """One page's rows, one more than `limit` (to know there is a next page): each case
    with its sort value, unread count, assignee, nearest open deadline, overdue deadlines
    and types of incident (ROW_COLUMNS in all), and the counters over all the user's
    active cases beside it."""
    shown, nearest = SHOWN, NEAREST
    # Computed once: as a plain subquery, a filter the planner thinks narrow (due within
    # 24 hours) made it run the count again for every row of the page.
    counts = (
        _counts_query(visible, user, now)
        .cte("counts")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        select(
            Case,
            value,
            queue_order.unread_count(user),
            _assignee_name(),
            nearest,
            _late_deadlines(now),
            _incident_types(shown),
            *counts.c,
        )
        .join(shown, shown.id == Case.report_id)
        .outerjoin(nearest, nearest.id == _nearest_open_id())
        .join(counts, true())
        .where(*conditions)
        .order_by(*queue_order.order_by(order, value))
        .limit(limit + 1)
        .options(*ROW_OPTIONS)
    )


def _items(user: User, rows: Sequence[Any], now: datetime) -> list[QueueItem]:
    """The page's rows as queue items. A safety representative is shown neither the
    messages nor who handles the case (the case page shows them only to handlers)."""
    as_handler = user.has_role(Role.HANDLER)
    items = []
    for case, _value, unread, assignee, next_deadline, late, types, *_counts in rows:
        if not as_handler:
            unread, assignee = 0, None
        items.append(
            QueueItem(
                case,
                next_deadline,
                deadline_status(case.next_due_at, now),
                int(late or 0),
                int(unread or 0),
                assignee,
                incident_types=sorted(types.split(",")) if types else [],
            )
        )
    return items


def _row_options(shown: Any) -> list[Any]:
    # What a queue row shows, and nothing more (a row never reads these); the report is
    # the one the page's statement joins.
    report = contains_eager(Case.report.of_type(shown))
    return [
        report.lazyload(shown.attachments),
        report.lazyload(shown.incident_type_rows),
        report.options(*(defer(getattr(shown, c.key)) for c in sealed_columns())),
        joinedload(Case.group).lazyload(HandlerGroup.members),
        joinedload(Case.group).lazyload(HandlerGroup.escalation_contacts),
        lazyload(Case.deadlines),
        lazyload(Case.exclusions),
        lazyload(Case.tasks),
        lazyload(Case.debriefings),
        lazyload(Case.section52),
    ]


# Made once, like SHOWN: building them per request cost about a millisecond.
ROW_OPTIONS = _row_options(SHOWN)


def _open_deadline() -> list[Any]:
    return [Deadline.case_id == Case.id, Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)]


def _nearest_open_id() -> Any:
    """SQL: the id of the row's nearest open deadline (`next_open_deadline` in SQL)."""
    return (
        select(Deadline.id)
        .where(*_open_deadline())
        .order_by(Deadline.due_at, Deadline.id)
        .limit(1)
        .scalar_subquery()
    )


def _late_deadlines(now: datetime) -> Any:
    """SQL: how many of the row's open deadlines are past."""
    return (
        select(func.count())
        .select_from(Deadline)
        .where(*_open_deadline(), Deadline.due_at < now)
        .scalar_subquery()
    )


def _incident_types(report: Any) -> Any:
    """SQL: the report's types of incident, comma-separated (codes have no commas)."""
    return (
        select(func.aggregate_strings(ReportIncidentType.incident_type, ","))
        .where(ReportIncidentType.report_id == report.id)
        .scalar_subquery()
    )


def _assignee_name() -> Any:
    return select(User.name).where(User.id == Case.assigned_user_id).scalar_subquery()


def _search(
    user: User, q: str, conditions: list[Any], shown: Any
) -> tuple[Any, set[int] | None, NameSearchInfo | None]:
    """SQL for "the reference contains q, or (a handler's name search) the case names
    someone whose name contains q"; the report ids the names matched; the search's size.

    A reference search is SQL. Names are sealed, so a name search opens the names of the
    caller's own cases as a handler (within the other filters, newest first, at most
    NAME_SEARCH_LIMIT) in the app: one statement, one key unwrap and two small opens per
    case. It runs only for text with letters and no digits (references have digits).
    """
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    by_reference = shown.reference.ilike(f"%{escaped}%", escape="\\")
    has_letters = sum(ch.isalpha() for ch in q) >= 2
    if not user.has_role(Role.HANDLER) or not has_letters or any(ch.isdigit() for ch in q):
        return by_reference, None, None
    among = (
        select(Case.report_id)
        .join(shown, shown.id == Case.report_id)
        .where(*conditions, access.handler_sees(user.id))
    )
    found = reporting.reports_naming(q, among, limit=NAME_SEARCH_LIMIT)
    info = NameSearchInfo(found.searched, found.capped, NAME_SEARCH_LIMIT)
    hits = found.report_ids
    if not hits:
        return by_reference, hits, info
    return or_(by_reference, Case.report_id.in_(sorted(hits))), hits, info


def _audit_hits(user: User, items: list[QueueItem], hits: set[int]) -> None:
    """A name search tells the caller that a case names someone: each case shown for
    that reason is a read of its content ("case.read", part "name_search")."""
    label = actor_label(user)
    for item in items:
        if item.case.report_id in hits:
            _audit("case.read", label, item.case, part="name_search", level=AccessLevel.HANDLER)


def default_state(user: User) -> str:
    """The queue's state filter when none is chosen: a safety representative who is not a
    handler sees every case shared with them, closed ones too ("all"); a handler sees
    the active cases."""
    roles = set(user.roles)
    return "all" if Role.SAFETY_REP in roles and Role.HANDLER not in roles else "active"


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
    assigned = filters.get("assigned")  # vocabulary: queue filter
    if assigned == "me":
        found.append(Case.assigned_user_id == user.id)
    elif assigned == "none":
        found.append(Case.assigned_user_id.is_(None))
    return found


def _unfinished() -> Any:
    # Spelled as the partial index ix_case_queue_active's condition, so planners use it.
    return Case.state.not_in(sorted(FINISHED_STATES))


def _counts_query(visible: Any, user: User, now: datetime) -> Any:
    """Over the user's active cases (`visible` for active cases only), whatever the
    filters: overdue cases, overdue deadlines, cases due within 24 hours, active cases,
    the user's own, unassigned. One aggregate in one pass over the cases, exact (the
    page's statement carries it); a case's overdue deadlines are counted only for the
    overdue cases (a case with an overdue deadline has its next one overdue)."""
    overdue = Case.next_due_at < now
    return select(
        func.count().filter(overdue).label("overdue_cases"),
        func.coalesce(func.sum(_late_deadlines(now)).filter(overdue), 0).label("overdue_deadlines"),
        func.count()
        .filter(and_(Case.next_due_at >= now, Case.next_due_at < now + DUE_SOON))
        .label("due_soon_cases"),
        func.count().label("active_cases"),
        func.count().filter(Case.assigned_user_id == user.id).label("mine"),
        func.count().filter(Case.assigned_user_id.is_(None)).label("unassigned"),
    ).where(visible, _unfinished())
