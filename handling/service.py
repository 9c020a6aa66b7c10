"""Case operations: opening, routing, conflict of interest, deadlines, workflow steps,
follow-up, debriefing, § 5-2, messages, access and the admin's routing and policies.

Services take plain data and domain objects, return domain objects, raise the domain
errors in handling/workflow.py, add and flush; the caller (request, CLI) commits once.
They never touch `request`, `flash` or redirects.

Time: deadlines are computed in Europe/Oslo and stored in UTC (see `add_duration`).
"""

from __future__ import annotations

import calendar
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from handling import access, codes, notices
from handling.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    CaseGrant,
    CaseMessage,
    Deadline,
    DeadlinePolicy,
    Debriefing,
    FollowUpTask,
    HandlerGroup,
    HandlerGroupEscalation,
    HandlerGroupMember,
    RoutingRule,
    Section52Check,
)
from handling.workflow import (
    ACTIVE_STATES,
    FINISHED_STATES,
    PLAIN_STATE,
    REPORTER_STATUS,
    STATES,
    CaseClosed,
    CaseError,
    CaseFacts,
    CaseNotFound,
    check,
)
from reporting import anonymous
from reporting import service as reporting
from reporting.codes import HARASSMENT, INCIDENT_TYPES, VIOLENCE_AND_THREATS
from reporting.models import Report
from trygg import access_changes, audit, crypto, keys, org, privacy
from trygg.accounts.models import Membership, User, UserRole
from trygg.audit import actor_label
from trygg.database import stored
from trygg.extensions import db, utcnow

OSLO = ZoneInfo("Europe/Oslo")
DUE_SOON = timedelta(hours=24)
TEXT_MAX = 10_000

# -- small helpers ----------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now if now is not None else utcnow()


def _key(case: Case) -> Any:
    return reporting.data_key(case.report)


def _seal(case: Case, table: str, column: str, row: int, value: str | None) -> bytes | None:
    if value is None or not value.strip():
        return None
    sealed: bytes = _key(case).seal(value, table=table, column=column, row=row)
    return sealed


def _open(case: Case, table: str, column: str, row: int, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    text: str = _key(case).open_text(blob, table=table, column=column, row=row)
    return text


def oslo_day(moment: datetime) -> date:
    """The calendar day of a stored (UTC) time in Oslo."""
    return moment.astimezone(OSLO).date()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _row_id(case: Case, model: Any, *, unordered: bool | None = None) -> int | None:
    """The id for a new row of a case (see trygg/privacy.py).

    An anonymous report's case and the rows written when it is opened or by its reporter
    get random ids: a sequential id would place them among other cases' rows, and so
    date the report, or what its reporter writes later, more precisely than the day.
    `unordered` defaults to whether the case is anonymous.
    """
    if unordered is None:
        unordered = case.report.anonymous
    return privacy.new_row_id(model, unordered=unordered)


def _dated_to_the_day(case: Case, actor: str, when: datetime) -> bool:
    """Written on an anonymous reporter's behalf: by them, or when their case opened.

    A handler's steps keep their time and sequential ids, which keep the order of
    events recorded in the same instant; they tell nothing about the reporter.
    """
    report = case.report
    return report.anonymous and (actor == "reporter" or when == report.created_at)


def _event(
    case: Case, kind: str, actor: str, now: datetime | None = None, /, **values: Any
) -> None:
    at = _now(now)
    db.session.add(
        CaseEvent(
            id=_row_id(case, CaseEvent, unordered=_dated_to_the_day(case, actor, at)),
            case_id=case.id,
            kind=kind,
            codes=values,
            actor=actor,
            at=at,
        )
    )


def _audit(
    action: str, actor: str, case: Case, /, *, at: datetime | None = None, **detail: Any
) -> None:
    audit.record(action, actor=actor, object_type="case", object_id=case.id, detail=detail, at=at)


def _require_unfinished(case: Case) -> None:
    if case.state in FINISHED_STATES:
        raise CaseClosed(_l("The case is closed. Reopen it to make changes."))


def _user(user_id: int | None, field_name: str) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise CaseError(_l("Pick a person from the list."), field_name)
    return user


# -- deadline arithmetic ----------------------------------------------------------------


def _from_oslo_wall(wall: datetime) -> datetime:
    """A naive Oslo wall-clock time as UTC.

    A wall time inside the spring-forward gap does not exist; fold=0 reads it with the
    offset from before the change, which lands one hour later (02:30 → 03:30 summer
    time). A wall time the autumn change repeats takes its first (earlier) occurrence,
    so a deadline is never later than the clock on the wall suggests.
    """
    return wall.replace(tzinfo=OSLO, fold=0).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_duration(start: datetime, amount: int, unit: str) -> datetime:
    """The deadline `amount` `unit`s after `start`, counted in Oslo time, as UTC.

    Convention: durations are wall-clock time in Europe/Oslo. "72 hours" from Saturday
    12:00 is Tuesday 12:00 on the Oslo clock, even when summer time ends in between
    (then 73 hours really pass) or begins (71 hours). This is how a person reading
    "within 72 hours" on a Norwegian clock counts, and it keeps deadlines set in
    hours and in days consistent (72 hours = 3 days). `same_day` is the end of the
    Oslo calendar day of `start` (23:59:59). Days, weeks and months are calendar
    arithmetic on the Oslo date, keeping the time of day (the 31st plus one month is
    the last day of the next month).
    """
    local = start.astimezone(OSLO)
    if unit == "same_day":
        return _from_oslo_wall(datetime.combine(local.date(), time(23, 59, 59)))
    wall = local.replace(tzinfo=None)
    if unit == "hours":
        wall += timedelta(hours=amount)
    elif unit == "days":
        wall += timedelta(days=amount)
    elif unit == "weeks":
        wall += timedelta(weeks=amount)
    elif unit == "months":
        wall = datetime.combine(_add_months(wall.date(), amount), wall.time())
    else:
        raise ValueError(f"unknown duration unit {unit!r}")
    return _from_oslo_wall(wall)


# The defaults from DOMAIN.md's deadline table; the 0003 migration seeds the same rows
# (a test keeps the two equal). (kind, track, incident type, min severity, amount, unit)
DEFAULT_POLICIES: list[tuple[str, str | None, str | None, int, int, str]] = [
    ("acknowledge", None, None, 1, 7, "days"),
    ("leader_contact", "hms_deviation", None, 1, 0, "same_day"),
    ("leader_contact", "hms_deviation", None, 3, 3, "hours"),
    ("individual_talk", "hms_deviation", None, 1, 72, "hours"),
    *[("learning_review", None, t, 1, 72, "hours") for t in sorted(VIOLENCE_AND_THREATS)],
    ("section_5_2_notice", None, None, 1, 0, "same_day"),
    ("investigation", "whistleblowing", None, 1, 6, "weeks"),
    ("reporter_feedback", None, None, 1, 3, "months"),
    ("recontact", "hms_deviation", None, 1, 4, "weeks"),
]


class PolicyLike(Protocol):
    """What `deadlines_due` reads of a policy: a DeadlinePolicy, or a row read as one."""

    @property
    def kind(self) -> str: ...
    @property
    def track(self) -> str | None: ...
    @property
    def incident_type(self) -> str | None: ...
    @property
    def min_severity(self) -> int: ...
    @property
    def amount(self) -> int: ...
    @property
    def unit(self) -> str: ...
    @property
    def active(self) -> bool: ...


def policies() -> list[DeadlinePolicy]:
    """Every deadline policy, by kind."""
    return list(
        db.session.scalars(
            select(DeadlinePolicy).order_by(
                DeadlinePolicy.kind, DeadlinePolicy.min_severity, DeadlinePolicy.id
            )
        )
    )


def deadlines_due(
    base: datetime,
    *,
    track: str,
    incident_types: Iterable[str],
    severity: int,
    section_5_2: bool,
    rows: Iterable[PolicyLike] | None = None,
) -> dict[str, datetime]:
    """Which deadlines apply to a case like this, and when each is due (UTC).

    For each kind the most specific active policy that matches wins: one naming the
    track beats one that does not, then one naming an incident type, then the highest
    minimum severity; among equals the earliest deadline. The § 5-2 notice applies only
    where the § 5-2 duty does.
    """
    types = set(incident_types)
    best: dict[str, tuple[tuple[int, int, int], datetime]] = {}
    for policy in policies() if rows is None else rows:
        if not policy.active:
            continue
        if policy.track is not None and policy.track != track:
            continue
        if policy.incident_type is not None and policy.incident_type not in types:
            continue
        if policy.min_severity > severity:
            continue
        if policy.kind == "section_5_2_notice" and not section_5_2:
            continue
        rank = (
            int(policy.track is not None),
            int(policy.incident_type is not None),
            policy.min_severity,
        )
        due = add_duration(base, policy.amount, policy.unit)
        current = best.get(policy.kind)
        if current is None or rank > current[0] or (rank == current[0] and due < current[1]):
            best[policy.kind] = (rank, due)
    return {kind: due for kind, (_rank, due) in best.items()}


def recompute_deadlines(case: Case, now: datetime | None = None) -> None:
    """Bring the case's open deadline rows in line with the policies.

    Counted from when the report arrived. Met and cancelled rows are history and stay;
    an open row whose step no longer applies is deleted; a changed due time resets the
    scheduler's reminder marks so the new time is reminded again.
    """
    report = case.report
    wanted = deadlines_due(
        report.created_at,
        track=case.track,
        incident_types=report.incident_types,
        severity=report.severity,
        section_5_2=case.section_5_2,
    )
    seen: set[str] = set()
    for row in list(case.deadlines):
        seen.add(row.kind)
        if not row.is_open:
            continue
        if row.kind not in wanted:
            case.deadlines.remove(row)
            db.session.delete(row)
        elif row.due_at != wanted[row.kind]:
            row.due_at = wanted[row.kind]
            row.reminded_at = row.escalated_at = None
    for kind, due in wanted.items():
        if kind not in seen:
            case.deadlines.append(
                Deadline(
                    id=_row_id(case, Deadline),
                    case_id=case.id,
                    kind=kind,
                    due_at=due,
                    created_at=_now(now),
                )
            )
    db.session.flush()


def _meet(case: Case, kind: str, actor: str, now: datetime) -> None:
    for row in case.deadlines:
        if row.kind == kind and row.is_open:
            row.met_at = now
            row.lease_owner = row.lease_until = None
            _event(case, "deadline_met", actor, now, kind=kind, late=now > row.due_at)


def _cancel_open_deadlines(case: Case, now: datetime) -> None:
    for row in case.deadlines:
        if row.is_open:
            row.cancelled_at = now
            row.lease_owner = row.lease_until = None


# Which follow-up task, when done, meets which deadline.
TASK_MEETS = {
    "leader_contact": "leader_contact",
    "bht_offer": "individual_talk",
    "individual_talk": "individual_talk",
    "psychological_first_aid": "learning_review",
    "learning_review": "learning_review",
    "recontact": "recontact",
}


def deadline_status(due: datetime | None, now: datetime) -> str:
    """overdue, due_soon (within 24 hours) or ok."""
    if due is None:
        return "ok"
    if due < now:
        return "overdue"
    if due < now + DUE_SOON:
        return "due_soon"
    return "ok"


def next_open_deadline(case: Case) -> Deadline | None:
    open_rows = [d for d in case.deadlines if d.is_open]
    return min(open_rows, key=lambda d: d.due_at) if open_rows else None


# -- routing and conflict of interest ---------------------------------------------------


def default_track(report: Report) -> str:
    """Harassment by a colleague or leader suggests whistleblowing; else HSE deviation."""
    types = set(report.incident_types)
    if types & HARASSMENT and report.counterpart_category in {"colleague", "leader"}:
        return "whistleblowing"
    return "hms_deviation"


def _unit_depth(unit_id: int) -> int:
    unit = org.get_unit(unit_id)
    return len(org.ancestors(unit)) if unit is not None else 0


def route(report: Report, track: str) -> HandlerGroup | None:
    """The group for a report: the most specific matching rule, else the default group.

    A rule naming a track beats one that does not, then one naming an incident type,
    then the one whose unit is deepest in the tree (the oldest rule breaks ties).
    A new case is routed by `_opening_statement` in SQL: keep the two in step.
    """
    types = set(report.incident_types)
    best: tuple[tuple[int, int, int, int], RoutingRule] | None = None
    for rule in db.session.scalars(select(RoutingRule).order_by(RoutingRule.id)):
        if rule.track is not None and rule.track != track:
            continue
        if rule.incident_type is not None and rule.incident_type not in types:
            continue
        if rule.unit_id is not None and (
            report.unit_id is None or report.unit_id not in org.subtree_ids(rule.unit_id)
        ):
            continue
        rank = (
            int(rule.track is not None),
            int(rule.incident_type is not None),
            _unit_depth(rule.unit_id) if rule.unit_id is not None else -1,
            -rule.id,
        )
        if best is None or rank > best[0]:
            best = (rank, rule)
    if best is not None:
        return best[1].group
    return db.session.scalar(select(HandlerGroup).where(HandlerGroup.is_default.is_(True)))


def fallback_group() -> HandlerGroup | None:
    # Its members joined in, one round trip (there is at most one: see _only_flag).
    return (
        db.session.scalars(
            select(HandlerGroup)
            .where(HandlerGroup.is_fallback.is_(True))
            .options(joinedload(HandlerGroup.members))
        )
        .unique()
        .first()
    )


def _people(report: Report) -> dict[str, Any]:
    """The report's sealed people record (reporting.models.people_template), no audit.

    System use only (conflict checks): it never leaves the service.
    """
    blob = report.people_sealed
    if blob is None:
        return {}
    text = reporting.data_key(report).open_text(
        blob, table="report", column="people", row=report.id
    )
    people: dict[str, Any] = json.loads(text)
    return people


def conflicts(report: Report) -> dict[int, set[str]]:
    """User id → the conflict-of-interest reasons that exclude them from this report.

    Named as involved (exposed, witness, counterpart, reporter); line manager of a named
    counterpart (a manager member of any of the counterpart's units); named by the
    reporter as someone who must not handle the case.
    """
    involved = reporting.involved_user_ids(report)
    found: dict[int, set[str]] = defaultdict(set)
    for role in ("exposed", "witnesses", "counterpart", "reporter"):
        for user_id in involved[role]:
            found[user_id].add("involved")
    for user_id in involved["must_not_handle"]:
        found[user_id].add("named_by_reporter")
    if involved["counterpart"]:
        unit_ids = select(Membership.unit_id).where(Membership.user_id.in_(involved["counterpart"]))
        managers = db.session.scalars(
            select(Membership.user_id).where(
                Membership.unit_id.in_(unit_ids), Membership.is_manager.is_(True)
            )
        )
        for user_id in set(managers) - involved["counterpart"]:
            found[user_id].add("line_manager")
    return dict(found)


def _handler_ids() -> set[int]:
    return set(db.session.scalars(select(UserRole.user_id).where(UserRole.role == "handler")))


def _sync_exclusions(
    case: Case,
    user_ids: Iterable[int],
    found: dict[int, set[str]] | None = None,
    at: datetime | None = None,
) -> None:
    """Record (and audit) the conflicts of interest of these users with the case."""
    candidates = set(user_ids)
    if not candidates:
        return
    found = conflicts(case.report) if found is None else found
    existing = {(e.user_id, e.reason) for e in case.exclusions}
    added = False
    for user_id in sorted(candidates & set(found)):
        for reason in sorted(found[user_id]):
            if (user_id, reason) in existing:
                continue
            case.exclusions.append(
                CaseExclusion(
                    id=_row_id(case, CaseExclusion),
                    case_id=case.id,
                    user_id=user_id,
                    reason=reason,
                    created_at=_now(at),
                )
            )
            _audit("case.exclude", "system", case, at=at, user_id=user_id, reason=reason)
            added = True
    if added:
        db.session.flush()


def eligible_handler_ids(group: HandlerGroup | None, case: Case) -> list[int]:
    """Members of the group who may handle the case: active handlers, not excluded.

    The rule is `notices.eligible_by_case`'s (which the scheduler runs for a batch).
    """
    if group is None:
        return []
    if not group.member_ids:
        return []
    excluded = {case.id: case.excluded_user_ids}
    return notices.eligible_by_case([(case.id, group.id)], excluded)[case.id]


def eligible_handlers(case: Case) -> list[User]:
    """Who may be told about and work on the case (never an excluded handler)."""
    return [u for uid in eligible_handler_ids(case.group, case) if (u := db.session.get(User, uid))]


def _place(case: Case, routed: HandlerGroup | None, actor: str, now: datetime) -> None:
    """Put the case in the routed group, or the fallback group if exclusion empties it.

    Warnings for admins: "fallback" (everyone routed to was excluded), "no_group" (no
    rule and no default group), "no_handler" (no eligible handler anywhere). A new case
    is placed by `open_case` the same way: keep the two in step.
    """
    fallback = fallback_group()
    for group in (routed, fallback):
        if group is not None:
            _sync_exclusions(case, group.member_ids, at=now)
    target: HandlerGroup | None
    if routed is not None and eligible_handler_ids(routed, case):
        target, warning = routed, None
    elif fallback is not None and eligible_handler_ids(fallback, case):
        target, warning = fallback, "no_group" if routed is None else "fallback"
    else:
        target = routed or fallback
        warning = "no_group" if routed is None else "no_handler"
    moved = target is not None and target.id != case.group_id
    case.group = target
    case.group_id = target.id if target is not None else None
    if moved:
        case.group_since = now
    case.routing_warning = warning
    if case.assigned_user_id is not None and case.assigned_user_id not in eligible_handler_ids(
        target, case
    ):
        case.assigned_user_id = None
    if moved or warning:
        _event(case, "routed", actor, now, group=case.group_id, warning=warning)
    if moved:
        notices.routed(case, now)
    if warning:
        _audit("case.route_warning", "system", case, at=now, warning=warning, group=case.group_id)


# -- opening ----------------------------------------------------------------------------


def case_for_report(report: Report) -> Case | None:
    return db.session.scalar(select(Case).where(Case.report_id == report.id))


def _follow_up_duty(report: Report) -> bool:
    if not set(report.incident_types) & VIOLENCE_AND_THREATS:
        return False
    return bool(_people(report).get("exposed"))


class _OpeningPolicy(NamedTuple):
    """A deadline policy as the opening reads it (see PolicyLike)."""

    id: int
    kind: str
    track: str | None
    incident_type: str | None
    min_severity: int
    amount: int
    unit: str
    active: bool = True


@dataclass
class _OpeningGroup:
    id: int
    flags: int = 0
    member_ids: list[int] = field(default_factory=list)
    # Members who are active and hold the handler role (exclusions aside).
    handler_ids: set[int] = field(default_factory=set)

    def eligible(self, excluded: set[int]) -> bool:
        return any(uid not in excluded for uid in self.handler_ids)


@dataclass
class _OpeningConfig:
    routed: _OpeningGroup | None
    fallback: _OpeningGroup | None
    # Of the users with a conflict of interest, those holding the handler role.
    conflicted_handler_ids: set[int]
    policies: list[_OpeningPolicy]


# Flags of a group row in _opening_statement.
_ROUTED, _DEFAULT, _FALLBACK = 1, 2, 4


@functools.cache
def _opening_statement(in_unit: bool, with_conflicts: bool) -> Any:
    """One SELECT for all that opening a case reads of the admin's configuration.

    The structure only, built once per process; the values are bound per report (track,
    types, severity, unit_id, conflicted), so nothing an admin edits is kept here. Rows
    of one shape (k, a, b, c, d, s1..s4):

    - "g": a handler group that routing may use, once per member: a = group id,
      b = member id (None for no members), c = flags (_ROUTED: the most specific
      matching rule's group, _DEFAULT, _FALLBACK), d = 1 if the member is an active
      handler. The rule is chosen as `route` chooses it.
    - "h": a = a user with a conflict of interest who holds the handler role.
    - "p": an active deadline policy that may apply: a = id, b = min severity,
      c = amount, s1 = kind, s2 = unit, s3 = track, s4 = incident type.
    """
    rule = RoutingRule.__table__
    criteria = [
        or_(rule.c.track.is_(None), rule.c.track == bindparam("track")),
        or_(
            rule.c.incident_type.is_(None),
            rule.c.incident_type.in_(bindparam("types", expanding=True)),
        ),
    ]
    rules: Any = rule
    order: list[Any] = [
        sql_case((rule.c.track.is_(None), 1), else_=0),
        sql_case((rule.c.incident_type.is_(None), 1), else_=0),
    ]
    if in_unit:
        # The report's unit and its ancestors, `up` steps above it: a rule's unit
        # contains the report's exactly when it is one of them, and the deepest such
        # unit is the nearest. The bound stops a cycle (org.update_unit refuses them).
        unit = org.Unit.__table__
        above = unit.alias("above")
        chain = select(unit.c.id, unit.c.parent_id, literal(0, Integer).label("up")).where(
            unit.c.id == bindparam("unit_id")
        )
        chain_cte = chain.cte("unit_chain", recursive=True)
        chain_cte = chain_cte.union_all(
            select(above.c.id, above.c.parent_id, chain_cte.c.up + 1).where(
                above.c.id == chain_cte.c.parent_id, chain_cte.c.up < 10_000
            )
        )
        rules = rule.outerjoin(chain_cte, chain_cte.c.id == rule.c.unit_id)
        criteria.append(or_(rule.c.unit_id.is_(None), chain_cte.c.id.is_not(None)))
        # A rule without a unit ranks below every rule with one.
        order.append(func.coalesce(chain_cte.c.up, 1_000_000))
    else:
        criteria.append(rule.c.unit_id.is_(None))
    order.append(rule.c.id)  # the oldest rule breaks ties
    chosen = (
        select(rule.c.group_id).select_from(rules).where(*criteria).order_by(*order).limit(1)
    ).scalar_subquery()

    group = HandlerGroup.__table__
    member = HandlerGroupMember.__table__
    user = User.__table__
    role = UserRole.__table__
    no_text = cast(null(), String)
    is_handler = exists().where(role.c.user_id == member.c.user_id, role.c.role == "handler")
    parts: list[Any] = [
        select(
            literal("g", String).label("k"),
            group.c.id.label("a"),
            member.c.user_id.label("b"),
            (
                sql_case((group.c.id == chosen, _ROUTED), else_=0)
                + sql_case((group.c.is_default.is_(True), _DEFAULT), else_=0)
                + sql_case((group.c.is_fallback.is_(True), _FALLBACK), else_=0)
            ).label("c"),
            sql_case((and_(user.c.active.is_(True), is_handler), 1), else_=0).label("d"),
            no_text.label("s1"),
            no_text.label("s2"),
            no_text.label("s3"),
            no_text.label("s4"),
        )
        .select_from(
            group.outerjoin(member, member.c.group_id == group.c.id).outerjoin(
                user, user.c.id == member.c.user_id
            )
        )
        .where(
            or_(
                group.c.id == chosen,
                group.c.is_default.is_(True),
                group.c.is_fallback.is_(True),
            )
        )
    ]
    if with_conflicts:
        parts.append(
            select(
                literal("h", String),
                role.c.user_id,
                cast(null(), Integer),
                cast(null(), Integer),
                cast(null(), Integer),
                no_text,
                no_text,
                no_text,
                no_text,
            ).where(
                role.c.role == "handler",
                role.c.user_id.in_(bindparam("conflicted", expanding=True)),
            )
        )
    policy = DeadlinePolicy.__table__
    parts.append(
        select(
            literal("p", String),
            policy.c.id,
            policy.c.min_severity,
            policy.c.amount,
            cast(null(), Integer),
            policy.c.kind,
            policy.c.unit,
            policy.c.track,
            policy.c.incident_type,
        ).where(
            policy.c.active.is_(True),
            or_(policy.c.track.is_(None), policy.c.track == bindparam("track")),
            or_(
                policy.c.incident_type.is_(None),
                policy.c.incident_type.in_(bindparam("types", expanding=True)),
            ),
            policy.c.min_severity <= bindparam("severity"),
        )
    )
    return union_all(*parts)


def _opening_config(report: Report, track: str, conflicted: Iterable[int]) -> _OpeningConfig:
    """Routing, groups, handlers and deadline policies for a new case, in one round trip.

    Read fresh for every case: all of it is the admin's to change at any time.
    """
    conflicted_ids = sorted(conflicted)
    params: dict[str, Any] = {
        "track": track,
        "types": sorted(set(report.incident_types)),
        "severity": report.severity,
    }
    if report.unit_id is not None:
        params["unit_id"] = report.unit_id
    if conflicted_ids:
        params["conflicted"] = conflicted_ids
    statement = _opening_statement(report.unit_id is not None, bool(conflicted_ids))
    groups: dict[int, _OpeningGroup] = {}
    handler_ids: set[int] = set()
    rows: list[_OpeningPolicy] = []
    for k, a, b, c, d, s1, s2, s3, s4 in db.session.connection().execute(statement, params):
        if k == "g":
            group = groups.get(a)
            if group is None:
                group = groups[a] = _OpeningGroup(a, c)
            if b is not None:
                group.member_ids.append(b)
                if d:
                    group.handler_ids.add(b)
        elif k == "h":
            handler_ids.add(a)
        else:
            rows.append(_OpeningPolicy(a, s1, s3, s4, b, c, s2))
    for group in groups.values():
        group.member_ids.sort()

    def first(flag: int) -> _OpeningGroup | None:
        # At most one default and one fallback group (_only_flag); the oldest if not.
        return next((groups[i] for i in sorted(groups) if groups[i].flags & flag), None)

    rows.sort(key=lambda p: (p.kind, p.min_severity, p.id))
    return _OpeningConfig(
        routed=first(_ROUTED) or first(_DEFAULT),
        fallback=first(_FALLBACK),
        conflicted_handler_ids=handler_ids,
        policies=rows,
    )


def _insert_rows(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT rows of a table directly (Core, batched), without the ORM's bookkeeping.

    A row whose "id" is None gets the database's next id.
    """
    table = model.__table__
    given = [r for r in rows if r.get("id") is not None]
    generated = [{k: v for k, v in r.items() if k != "id"} for r in rows if r.get("id") is None]
    connection = db.session.connection()
    for batch in (given, generated):
        if batch:
            connection.execute(insert(table), batch)


_CASE_SEALED_COLUMNS = (
    "closing_note_sealed",
    "feedback_sealed",
    "drop_reason_sealed",
    "no_follow_up_reason_sealed",
)


@functools.cache
def _case_insert() -> Any:
    """open_case's INSERT, built once (see reporting.service._statements)."""
    table = Case.__table__
    return insert(table).returning(table.c.id)


def open_case(
    report: Report, *, actor: str, now: datetime | None = None, just_stored: bool = False
) -> Case:
    """Open the case for a newly stored report: track, routing, exclusions, deadlines.

    The receiver of `report_submitted` (connected in trygg/app.py); runs inside the
    report's transaction. Opening twice returns the existing case. `just_stored` says
    the report row was inserted in this transaction and has no case yet, which spares
    the look-up (the unique report_id still refuses a second case).

    It decides as `_sync_exclusions`, `route`, `fallback_group`, `_place` and
    `recompute_deadlines` would on a new case, but from one read (`_opening_config`):
    the case is inserted once, with its group, and its rows are written directly.
    """
    if not just_stored:
        existing = case_for_report(report)
        if existing is not None:
            return existing
    # An anonymous report is dated to the day and its exact time is kept nowhere: nor
    # may the case's rows, events and log entries written now reveal it.
    now = report.created_at if report.anonymous else _now(now)
    track = default_track(report)
    section_5_2 = bool(report.serious_injury or report.severity == 4)
    found = conflicts(report)
    config = _opening_config(report, track, found)
    routed, fallback = config.routed, config.fallback

    # Conflicts of interest are recorded for handlers and for the members of the groups
    # the case may go to, in that order (as _sync_exclusions records them).
    exclusions: list[tuple[int, str]] = []
    for candidates in (
        config.conflicted_handler_ids,
        routed.member_ids if routed is not None else (),
        fallback.member_ids if fallback is not None else (),
    ):
        for user_id in sorted(set(candidates) & set(found)):
            for reason in sorted(found[user_id]):
                if (user_id, reason) not in exclusions:
                    exclusions.append((user_id, reason))
    excluded = {user_id for user_id, _reason in exclusions}

    # As _place decides; see there for the warnings.
    target: _OpeningGroup | None
    warning: str | None
    if routed is not None and routed.eligible(excluded):
        target, warning = routed, None
    elif fallback is not None and fallback.eligible(excluded):
        target, warning = fallback, "no_group" if routed is None else "fallback"
    else:
        target = routed or fallback
        warning = "no_group" if routed is None else "no_handler"
    group_id = target.id if target is not None else None

    wanted = deadlines_due(
        report.created_at,
        track=track,
        incident_types=report.incident_types,
        severity=report.severity,
        section_5_2=section_5_2,
        rows=config.policies,
    )
    if report.id is None:  # added to the session but not flushed: it needs its id now
        db.session.flush()
    case_id = privacy.new_row_id(Case, unordered=report.anonymous)
    row: dict[str, Any] = {
        "report_id": report.id,
        "track": track,
        "state": "reported",
        "group_id": group_id,
        "assigned_user_id": None,
        "section_5_2": section_5_2,
        "follow_up_duty": _follow_up_duty(report),
        "routing_warning": warning,
        "forwarded_to": None,
        "causes": [],
        "opened_at": report.created_at,
        # An anonymous case is dated to its day: whoever was a member that day sees it.
        "group_since": report.created_at + timedelta(days=1) - timedelta(microseconds=1)
        if report.anonymous
        else report.created_at,
        "updated_at": now,
        "triaged_at": None,
        "closed_at": None,
        **dict.fromkeys(_CASE_SEALED_COLUMNS),
    }
    if case_id is not None:
        # Random for an anonymous report: a sequential id would tell its order in the day.
        row["id"] = case_id
    # Inserted with Core (no unit-of-work flush), every column given, and put in the
    # session as stored; the relationships a new case is known to lack are set empty,
    # the rest (exclusions, deadlines, § 5-2) load from their rows when first used.
    row["id"] = db.session.connection().execute(_case_insert(), row).scalar_one()
    case = stored(Case, row)
    known: dict[str, Any] = {"report": report, "tasks": [], "debriefings": []}
    if not exclusions:
        known["exclusions"] = []
    if not wanted:
        known["deadlines"] = []
    if not section_5_2:
        known["section52"] = None
    for name, value in known.items():
        set_committed_value(case, name, value)
    db.session.add(case)

    if exclusions:
        _insert_rows(
            CaseExclusion,
            [
                {
                    "id": _row_id(case, CaseExclusion),
                    "case_id": case.id,
                    "user_id": user_id,
                    "reason": reason,
                    "created_at": now,
                }
                for user_id, reason in exclusions
            ],
        )
    events: list[tuple[str, str, dict[str, Any]]] = [(actor, "opened", {"track": track})]
    if target is not None or warning:  # a new case has no group: it moved
        events.append(("system", "routed", {"group": group_id, "warning": warning}))
    _insert_rows(
        CaseEvent,
        [
            {
                "id": _row_id(case, CaseEvent, unordered=_dated_to_the_day(case, who, now)),
                "case_id": case.id,
                "kind": kind,
                "codes": values,
                "actor": who,
                "at": now,
            }
            for who, kind, values in events
        ],
    )
    if section_5_2:
        _insert_rows(Section52Check, [{"case_id": case.id, "required": True, "updated_at": now}])
    _insert_rows(
        Deadline,
        [
            {
                "id": _row_id(case, Deadline),
                "case_id": case.id,
                "kind": kind,
                "due_at": due,
                "created_at": now,
            }
            for kind, due in wanted.items()
        ],
    )
    for user_id, reason in exclusions:
        _audit("case.exclude", "system", case, at=now, user_id=user_id, reason=reason)
    if warning:
        _audit("case.route_warning", "system", case, at=now, warning=warning, group=group_id)
    _audit("case.open", actor, case, at=now, group=group_id, track=track)
    notices.case_opened(case, target.handler_ids - excluded if target is not None else ())
    return case


def on_report_submitted(sender: Report, **kwargs: Any) -> None:
    """Receiver of trygg.signals.report_submitted: open the report's case."""
    # The signal is sent once, right after submit_report inserted the report's row.
    open_case(sender, actor=str(kwargs.get("actor") or "system"), just_stored=True)


# -- access -----------------------------------------------------------------------------


def group_ids_of(user: User) -> set[int]:
    return set(
        db.session.scalars(
            select(HandlerGroupMember.group_id).where(HandlerGroupMember.user_id == user.id)
        )
    )


def _consented(case: Case) -> bool:
    return any(t.consent_to_share for t in case.tasks) or any(
        d.consent_to_share_summary for d in case.debriefings
    )


def _safety_rep_units(user: User) -> set[int]:
    units: set[int] = set()
    for unit in user.units:
        units |= org.subtree_ids(unit.id)
    return units


def _safety_rep_may_see(user: User, case: Case) -> bool:
    """Consent given, the report's unit within the rep's units, and the rep not named."""
    if not _consented(case) or case.report.unit_id is None:
        return False
    if case.report.unit_id not in _safety_rep_units(user):
        return False
    return user.id not in conflicts(case.report)


def access_level(user: User | None, case: Case) -> str | None:
    """How a user may see a case: "handler", "safety_rep", "reporter", or None.

    Handlers: as `handling.access.handler_sees` (the queue's SQL rule). Safety
    representatives: only where the exposed employee consented to sharing (on a
    follow-up task or a debriefing), for
    their own units. The reporter: their own report. Managers and admins: never.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.has_role("handler") and access.can_handle(user.id, case.id):
        return "handler"
    if user.has_role("safety_rep") and _safety_rep_may_see(user, case):
        return "safety_rep"
    if reporting.is_owner(user, case.report):
        return "reporter"
    return None


def can_access(user: User | None, case: Case) -> bool:
    """Whether the user may see anything of the case's content."""
    return access_level(user, case) is not None


def get_case(case_id: int) -> Case | None:
    return db.session.get(Case, case_id)


def case_for(
    user: User, case_id: int, *, levels: Iterable[str] = ("handler",), lock: bool = False
) -> Case:
    """The case if the user may see it at one of `levels`; CaseNotFound otherwise.

    `lock` takes the case's row lock first (PostgreSQL; SQLite's write transactions are
    serialised anyway), so two handlers' simultaneous steps never both pass a guard
    checked against the same old state. An excluded handler's attempt is audited (the
    caller commits it even though the answer is "not found").
    """
    if lock:
        db.session.execute(select(Case.id).where(Case.id == case_id).with_for_update())
    case = get_case(case_id)
    if case is None:
        raise CaseNotFound()
    level = access_level(user, case)
    if level not in set(levels):
        if user.id in case.excluded_user_ids:
            _audit("case.access_denied", actor_label(user), case, reason="excluded")
        raise CaseNotFound()
    return case


@dataclass
class TaskView:
    task: FollowUpTask
    note: str | None


@dataclass
class DebriefingView:
    debriefing: Debriefing
    outcome: str | None
    further_needs: str | None


@dataclass
class MessageView:
    id: int
    author_kind: str
    author_user_id: int | None
    author_name: str | None
    internal: bool
    identity: bool
    body: str
    created_at: datetime

    @property
    def day(self) -> date:
        """The Oslo day it was written: all an anonymous reporter's messages keep."""
        return oslo_day(self.created_at)


@dataclass
class CaseContent:
    """A case opened for reading: decrypted fields for the caller's access level."""

    case: Case
    level: str
    report: dict[str, Any] | None = None
    closing_note: str | None = None
    feedback: str | None = None
    drop_reason: str | None = None
    no_follow_up_reason: str | None = None
    tasks: list[TaskView] = field(default_factory=list)
    debriefings: list[DebriefingView] = field(default_factory=list)
    messages: list[MessageView] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)


def _case_text(case: Case, column: str) -> str | None:
    return _open(case, "case", column, case.id, case.sealed(column))


def task_view(case: Case, task: FollowUpTask) -> TaskView:
    return TaskView(task, _open(case, "follow_up_task", "note", task.id, task.note_sealed))


def debriefing_view(case: Case, row: Debriefing, *, full: bool = True) -> DebriefingView:
    return DebriefingView(
        row,
        _open(case, "debriefing", "outcome", row.id, row.outcome_sealed),
        _open(case, "debriefing", "further_needs", row.id, row.further_needs_sealed)
        if full
        else None,
    )


def events(case: Case) -> list[CaseEvent]:
    """The case's timeline, oldest first.

    An anonymous reporter's events have random ids and only their day: like their
    messages, they come after the handlers' events of that day (the opening first).
    """
    rows = list(
        db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )
    if case.report.anonymous:
        rows.sort(key=_timeline_order)
    return rows


def _timeline_order(event: CaseEvent) -> tuple[Any, ...]:
    later = event.actor == "reporter" and event.kind != "opened"
    return (oslo_day(event.at), later, event.at, event.kind != "opened", event.id)


def open_case_content(case: Case, user: User, part: str = "case") -> CaseContent:
    """Decrypt what the user may see of a case; every call writes a "case.read" entry.

    Handlers get everything; a safety representative gets the classification and only
    the follow-up tasks and debriefing summaries the exposed employee agreed to share.
    Raises CaseNotFound for anyone else (the reporter reads through reporter_view).
    """
    level = access_level(user, case)
    if level not in {"handler", "safety_rep"}:
        raise CaseNotFound()
    actor = actor_label(user)
    _audit("case.read", actor, case, part=part, level=level)
    content = CaseContent(case=case, level=level)
    if level == "safety_rep":
        content.tasks = [task_view(case, t) for t in case.tasks if t.consent_to_share]
        content.debriefings = [
            debriefing_view(case, d, full=False)
            for d in case.debriefings
            if d.consent_to_share_summary
        ]
        return content
    content.report = reporting.open_report(case.report, actor=actor, part=part).as_dict()
    content.closing_note = _case_text(case, "closing_note")
    content.feedback = _case_text(case, "feedback")
    content.drop_reason = _case_text(case, "drop_reason")
    content.no_follow_up_reason = _case_text(case, "no_follow_up_reason")
    content.tasks = [task_view(case, t) for t in case.tasks]
    content.debriefings = [debriefing_view(case, d) for d in case.debriefings]
    content.messages = _message_views(case, viewer="handler")
    content.events = events(case)
    return content


@dataclass(frozen=True)
class AccessRecord:
    at: datetime
    actor: str
    action: str
    part: str | None
    # For a grant: to whom.
    user_id: int | None = None


def access_history(case: Case, limit: int = 200) -> list[AccessRecord]:
    """Who opened the case's (or its report's) content, and refused attempts, newest first."""
    entries = [
        *audit.for_object("case", case.id, limit=limit),
        *audit.for_object("report", case.report_id, limit=limit),
    ]
    wanted = {"case.read", "report.read", "case.access_denied", "case.grant"}
    # By time: an anonymous reporter's readings keep only their day and go to its end
    # (the log's order would tell between which of the handlers' readings they came).
    rows = sorted(
        (e for e in entries if e.action in wanted), key=lambda e: (e.at, e.seq), reverse=True
    )
    return [
        AccessRecord(
            e.at, e.actor, e.action, e.detail_dict().get("part"), e.detail_dict().get("user_id")
        )
        for e in rows[:limit]
    ]


# -- grants: access to existing cases is given by those who have it ---------------------

GRANT_KINDS = ("grant", "assigned", access.BREAK_GLASS)


def is_group_lead(user: User, group_id: int | None) -> bool:
    """The group's lead: a member who is also one of its escalation contacts."""
    if group_id is None:
        return False
    lead = db.session.scalar(
        select(HandlerGroupMember.user_id)
        .join(
            HandlerGroupEscalation,
            and_(
                HandlerGroupEscalation.group_id == HandlerGroupMember.group_id,
                HandlerGroupEscalation.user_id == HandlerGroupMember.user_id,
            ),
        )
        .where(HandlerGroupMember.group_id == group_id, HandlerGroupMember.user_id == user.id)
    )
    return lead is not None and user.has_role("handler")


def may_grant(user: User, case: Case) -> bool:
    """A handler with access to the case, or the lead of its group, may give access."""
    return access.can_handle(user.id, case.id) or is_group_lead(user, case.group_id)


def grant_candidates(case: Case) -> list[User]:
    """Members of the case's group who may not see it yet (and are not excluded)."""
    ids = eligible_handler_ids(case.group, case)
    seeing = access.seeing_by_case([case.id])[case.id]
    return [u for uid in ids if uid not in seeing and (u := db.session.get(User, uid))]


def grant_row(
    case: Case,
    grantee: User,
    *,
    granted_by: str,
    kind: str,
    reason: str | None,
    now: datetime | None = None,
    listed: bool = True,
) -> CaseGrant:
    """Store (or renew) a grant of the case to `grantee`, audited, on the case's
    timeline and (`listed`) on the access-changes page. The reason is sealed."""
    now = _now(now)
    row = db.session.scalar(
        select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.user_id == grantee.id)
    )
    if row is None:
        row = CaseGrant(case_id=case.id, user_id=grantee.id, granted_by=granted_by)
        db.session.add(row)
        db.session.flush()
    row.group_id = case.group_id
    row.granted_by = granted_by
    row.kind = kind
    row.created_at = now
    row.reason_sealed = _seal(case, "case_grant", "reason", row.id, reason)
    db.session.flush()
    _audit("case.grant", granted_by, case, at=now, user_id=grantee.id, kind=kind)
    _event(case, "granted", granted_by, now, to=grantee.id, kind=kind)
    if not listed:
        return row
    access_changes.record(
        "case.granted",
        actor=granted_by,
        user_id=grantee.id,
        object_type="case",
        object_id=case.id,
        detail={"kind": kind, "group": case.group_id},
    )
    return row


def grant_access(
    case: Case, grantee_id: int | None, reason: str | None, *, actor: User
) -> CaseGrant:
    """Give a colleague in the case's group access to it, with a reason.

    Only a handler who has access to the case, or the group's lead, may (CaseNotFound
    for anyone else); a lead without access may not grant to themselves.
    """
    if not may_grant(actor, case):
        raise CaseNotFound()
    text = _text(reason)
    if text is None:
        raise CaseError(_l("Write why this colleague needs access."), "reason")
    if len(text) > TEXT_MAX:
        raise CaseError(_l("The text is too long."), "reason")
    grantee = db.session.get(User, grantee_id) if grantee_id is not None else None
    if grantee is not None and grantee.id == actor.id:
        raise CaseError(_l("Someone else must give you access."), "user_id")
    if grantee is None or grantee.id not in {u.id for u in grant_candidates(case)}:
        raise CaseError(
            _l("Choose a member of the case's group who does not have access yet."), "user_id"
        )
    return grant_row(case, grantee, granted_by=actor_label(actor), kind="grant", reason=text)


BREAK_GLASS_REASON_MAX = 500


def break_glass(
    person: User,
    reason: str,
    *,
    group: HandlerGroup | None = None,
    case: Case | None = None,
    actor: str = "cli",
) -> int:
    """The day every handler of a group is gone: give one named handler access to the
    group's cases (they also join it) or to one case. Returns the number of cases.

    One entry on the access-changes page, with the reason, that every handler and the
    safety representative see and are told of. Cases the person is excluded from stay
    closed to them. Raises CaseError for a missing reason or a person who is not an
    active handler (an administrator never is).
    """
    text = _text(reason)
    if text is None or len(text) > BREAK_GLASS_REASON_MAX:
        raise CaseError(
            _l("Write a reason of at most %(n)s characters.", n=BREAK_GLASS_REASON_MAX), "reason"
        )
    if not person.active or not person.has_role("handler"):
        raise CaseError(
            _l("Only an active case handler can be given access. Give them the role first."),
            "email",
        )
    if (group is None) == (case is None):
        raise CaseError(_l("Name either a handler group or a case."), "group")
    now = utcnow()
    if case is not None:
        cases = [case]
        target: tuple[str, int] = ("case", case.id)
    elif group is not None:
        if person.id not in group.member_ids:
            group.members.append(HandlerGroupMember(user_id=person.id, joined_at=now))
            db.session.flush()
            _sync_exclusions_for_group(group, {person.id})
        cases = list(db.session.scalars(select(Case).where(Case.group_id == group.id)))
        target = ("handler_group", group.id)
    granted = 0
    for item in cases:
        if person.id in item.excluded_user_ids:
            continue
        grant_row(item, person, granted_by=actor, kind=access.BREAK_GLASS, reason=text,
                  now=now, listed=False)  # fmt: skip
        granted += 1
    audit.record(
        "access.break_glass",
        actor=actor,
        object_type=target[0],
        object_id=target[1],
        detail={"user_id": person.id, "cases": granted},
    )
    access_changes.record(
        access.BREAK_GLASS,
        actor=actor,
        user_id=person.id,
        object_type=target[0],
        object_id=target[1],
        detail={
            "group": group.id if group is not None else (case.group_id if case else None),
            "cases": granted,
            "reason": text,
        },
    )
    return granted


def _sync_exclusions_for_group(group: HandlerGroup, user_ids: set[int]) -> None:
    for item in db.session.scalars(select(Case).where(Case.group_id == group.id)):
        _sync_exclusions(item, user_ids)


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


# -- workflow ---------------------------------------------------------------------------


def case_facts(case: Case) -> CaseFacts:
    return CaseFacts(
        state=case.state,
        track=case.track,
        incident_types=frozenset(case.report.incident_types),
        follow_up_duty=case.follow_up_duty,
        done_follow_up=any(t.status == "done" for t in case.tasks),
        has_debriefing=bool(case.debriefings),
    )


def _sync_reporter_status(case: Case) -> None:
    status = REPORTER_STATUS[case.state]
    if case.report.status != status:
        reporting.set_status(case.report, status)


def _internal_note(case: Case, author: User, text: str | None, now: datetime) -> int | None:
    if not text:
        return None
    return _store_message(case, author, text, internal=True, now=now).id


def _change_track(case: Case, track: str, actor: str, now: datetime) -> None:
    if track == case.track:
        return
    before = case.track
    case.track = track
    _event(case, "track_changed", actor, now, before=before, after=track)
    _place(case, route(case.report, track), actor, now)


def transition(
    case: Case, to: str, *, actor: User, now: datetime | None = None, **data: Any
) -> Case:
    """Move the case to another state, if the table allows it and its guard passes.

    Guard fields: triaged — track, section_5_2; closed — closing_note, causes, feedback
    and, for violence or threats against an employee without follow-up and debriefing,
    no_follow_up_reason; dropped — reason; forwarded — forwarded_to; reopened — an
    optional reason (kept as an internal note). Raises TransitionForbidden, GuardFailed.
    """
    now = _now(now)
    check(case_facts(case), to, data)
    label = actor_label(actor)
    before = case.state
    codes_: dict[str, Any] = {"from": before, "to": to}
    if to == "acknowledged":
        _meet(case, "acknowledge", label, now)
    elif to == "triaged":
        case.triaged_at = now
        flagged = bool(data["section_5_2"]) and not case.section_5_2
        case.section_5_2 = bool(data["section_5_2"])
        _set_section52_required(case, case.section_5_2, now)
        _change_track(case, data["track"], label, now)
        recompute_deadlines(case)
        codes_.update(track=case.track, section_5_2=case.section_5_2)
        if flagged:
            notices.section_5_2_flagged(case)
    elif to == "measures_decided":
        _meet(case, "investigation", label, now)
    elif to == "closed":
        case.causes = sorted(set(data["causes"]))
        case.closing_note_sealed = _seal(
            case, "case", "closing_note", case.id, data["closing_note"]
        )
        case.feedback_sealed = _seal(case, "case", "feedback", case.id, data["feedback"])
        case.no_follow_up_reason_sealed = _seal(
            case, "case", "no_follow_up_reason", case.id, _text(data.get("no_follow_up_reason"))
        )
        case.closed_at = now
        _meet(case, "investigation", label, now)
        _meet(case, "reporter_feedback", label, now)
        _cancel_open_deadlines(case, now)
        codes_.update(causes=case.causes, no_follow_up_reason=bool(case.no_follow_up_reason_sealed))
        if case.feedback_sealed is not None:
            notices.reporter_has_news(case, f"feedback:{int(now.timestamp())}")
    elif to == "dropped":
        case.drop_reason_sealed = _seal(case, "case", "drop_reason", case.id, data["reason"])
        case.closed_at = now
        _cancel_open_deadlines(case, now)
    elif to == "forwarded":
        case.forwarded_to = data["forwarded_to"]
        codes_.update(forwarded_to=case.forwarded_to)
    elif to == "reopened":
        case.closed_at = None
        note = _internal_note(case, actor, _text(data.get("reason")), now)
        codes_.update(note=note)
    case.state = to
    case.updated_at = now
    _event(case, "transition", label, now, **codes_)
    moved: dict[str, Any] = {"from": before, "to": to}
    _audit("case.transition", label, case, **moved)
    _sync_reporter_status(case)
    db.session.flush()
    return case


def change_track(
    case: Case,
    *,
    actor: User,
    track: str,
    section_5_2: bool | None = None,
    now: datetime | None = None,
) -> Case:
    """Move an active case to another track (and re-route it); deadlines are recomputed."""
    _require_unfinished(case)
    if track not in codes.TRACKS:
        raise CaseError(
            _l("Choose the track: HSE deviation, whistleblowing or HR matter."), "track"
        )
    now = _now(now)
    label = actor_label(actor)
    _change_track(case, track, label, now)
    if section_5_2 is not None and section_5_2 != case.section_5_2:
        case.section_5_2 = section_5_2
        _set_section52_required(case, section_5_2, now)
        if section_5_2:
            notices.section_5_2_flagged(case)
    recompute_deadlines(case)
    case.updated_at = now
    _audit("case.track", label, case, track=track, section_5_2=case.section_5_2)
    db.session.flush()
    return case


# -- assignment and recusal -------------------------------------------------------------


def get_group(group_id: int) -> HandlerGroup:
    """A handler group by id; CaseNotFound if there is none."""
    group = db.session.get(HandlerGroup, group_id)
    if group is None:
        raise CaseNotFound()
    return group


def choose_group(group_id: int) -> HandlerGroup:
    """A group picked in a form; CaseError on the field if there is none."""
    group = db.session.get(HandlerGroup, group_id)
    if group is None:
        raise CaseError(_l("Choose a handler group from the list."), "group_id")
    return group


def assign(
    case: Case,
    handler: User | None,
    reason: str | None,
    *,
    actor: User,
    group: HandlerGroup | None = None,
    now: datetime | None = None,
) -> Case:
    """Assign the case to a handler (None: back to the group queue), optionally moving it
    to another group. The handler must be eligible there; the reason is kept as an
    internal note.
    """
    _require_unfinished(case)
    now = _now(now)
    label = actor_label(actor)
    if group is not None and group.id != case.group_id:
        _sync_exclusions(case, group.member_ids)
        if not eligible_handler_ids(group, case):
            raise CaseError(
                _l("No one in that group can handle this case (conflict of interest)."),
                "group_id",
            )
        case.group = group
        case.group_id = group.id
        # The handler who moves it gives it to the group: its members see it.
        case.group_since = now
        case.routing_warning = None
        _event(case, "routed", label, now, group=group.id, warning=None)
        if handler is None:
            notices.routed(case, now)
    if handler is not None and handler.id not in eligible_handler_ids(case.group, case):
        raise CaseError(
            _l("That person cannot handle this case: not in its group, or excluded."),
            "handler_id",
        )
    case.assigned_user_id = handler.id if handler is not None else None
    if handler is not None and not access.can_handle(handler.id, case.id):
        # A handler who has the case gives it to a colleague who joined the group later.
        db.session.flush()
        grant_row(case, handler, granted_by=label, kind="assigned", reason=None, now=now)
    note = _internal_note(case, actor, _text(reason), now)
    _event(case, "assigned", label, now, to=case.assigned_user_id, group=case.group_id, note=note)
    _audit("case.assign", label, case, to=case.assigned_user_id, group=case.group_id)
    case.updated_at = now
    db.session.flush()
    if handler is not None and handler.id != actor.id:
        notices.assigned(case, now)
    return case


def _least_busy(ids: list[int]) -> int | None:
    if not ids:
        return None
    counts = dict(
        db.session.execute(
            select(Case.assigned_user_id, func.count())
            .where(Case.assigned_user_id.in_(ids), Case.state.in_(ACTIVE_STATES))
            .group_by(Case.assigned_user_id)
        ).all()
    )
    return min(ids, key=lambda uid: (counts.get(uid, 0), uid))


def recuse(case: Case, handler: User, reason: str, *, now: datetime | None = None) -> Case:
    """A handler steps aside: they are excluded, and the case goes to a colleague.

    The new handler is the eligible group member with the fewest active cases; when none
    is left the case goes to the fallback group (with a warning for admins).
    """
    if not _text(reason):
        raise CaseError(_l("Write why you step aside."), "reason")
    now = _now(now)
    label = actor_label(handler)
    _internal_note(case, handler, _text(reason), now)
    case.exclusions.append(
        CaseExclusion(
            id=_row_id(case, CaseExclusion), case_id=case.id, user_id=handler.id, reason="recused"
        )
    )
    db.session.flush()
    _audit("case.exclude", label, case, user_id=handler.id, reason="recused")
    _event(case, "recused", label, now)
    was_assigned = case.assigned_user_id == handler.id
    if was_assigned:
        case.assigned_user_id = None
    if not eligible_handler_ids(case.group, case):
        _place(case, case.group, "system", now)
    if was_assigned:
        case.assigned_user_id = _least_busy(eligible_handler_ids(case.group, case))
        _event(case, "assigned", "system", now, to=case.assigned_user_id, group=case.group_id)
    case.updated_at = now
    db.session.flush()
    if was_assigned:
        notices.assigned(case, now)
    return case


# -- follow-up, debriefing, § 5-2 -------------------------------------------------------


def _forbidden_people(case: Case) -> set[int]:
    involved = reporting.involved_user_ids(case.report)
    return involved["counterpart"] | involved["must_not_handle"] | case.excluded_user_ids


def _check_responsible(case: Case, user_id: int | None) -> None:
    user = _user(user_id, "responsible_user_id")
    if user is not None and user.id in _forbidden_people(case):
        raise CaseError(
            _l("That person cannot be responsible: they have a conflict of interest."),
            "responsible_user_id",
        )


def _default_task_due(case: Case, template: str) -> datetime | None:
    kind = TASK_MEETS.get(template)
    for row in case.deadlines:
        if row.kind == kind and row.is_open:
            return row.due_at
    return None


def add_task(
    case: Case,
    *,
    actor: User,
    template: str,
    responsible_user_id: int | None = None,
    due_at: datetime | None = None,
    note: str | None = None,
    consent_to_share: bool = False,
    status: str = "open",
    now: datetime | None = None,
) -> FollowUpTask:
    """Add a follow-up task; its due time defaults to the matching deadline's."""
    _require_unfinished(case)
    if template not in codes.TASK_TEMPLATES:
        raise CaseError(_l("Choose a kind of follow-up from the list."), "template")
    if status not in codes.TASK_STATUSES:
        raise CaseError(_l("Choose a status from the list."), "status")
    _check_responsible(case, responsible_user_id)
    now = _now(now)
    label = actor_label(actor)
    task = FollowUpTask(
        case_id=case.id,
        template=template,
        responsible_user_id=responsible_user_id,
        due_at=due_at or _default_task_due(case, template),
        status="open",
        consent_to_share=bool(consent_to_share),
        created_at=now,
    )
    case.tasks.append(task)
    db.session.flush()
    task.note_sealed = _seal(case, "follow_up_task", "note", task.id, _text(note))
    _event(case, "task_added", label, now, task=task.id, template=template)
    _audit(
        "case.task.add", label, case, task=task.id, template=template, consent=task.consent_to_share
    )
    if status != "open":
        _set_task_status(case, task, status, label, now)
    case.updated_at = now
    db.session.flush()
    return task


def _set_task_status(
    case: Case, task: FollowUpTask, status: str, label: str, now: datetime
) -> None:
    task.status = status
    task.completed_at = now if status == "done" else None
    if status == "done" and task.template in TASK_MEETS:
        _meet(case, TASK_MEETS[task.template], label, now)


TASK_FIELDS = ("status", "responsible_user_id", "due_at", "note", "consent_to_share")


def get_task(case: Case, task_id: int) -> FollowUpTask:
    for task in case.tasks:
        if task.id == task_id:
            return task
    raise CaseNotFound()


def update_task(
    case: Case, task: FollowUpTask, *, actor: User, now: datetime | None = None, **changes: Any
) -> FollowUpTask:
    """Change a task's status, responsible person, due time, note or consent."""
    _require_unfinished(case)
    unknown = set(changes) - set(TASK_FIELDS)
    if unknown:
        raise CaseError(_l("This field is not expected here."), sorted(unknown)[0])
    now = _now(now)
    label = actor_label(actor)
    if "responsible_user_id" in changes:
        _check_responsible(case, changes["responsible_user_id"])
        task.responsible_user_id = changes["responsible_user_id"]
    if "due_at" in changes:
        task.due_at = changes["due_at"]
    if "note" in changes:
        task.note_sealed = _seal(case, "follow_up_task", "note", task.id, _text(changes["note"]))
    consent_changed = (
        "consent_to_share" in changes and bool(changes["consent_to_share"]) != task.consent_to_share
    )
    if consent_changed:
        task.consent_to_share = bool(changes["consent_to_share"])
        _audit("case.consent", label, case, task=task.id, consent=task.consent_to_share)
    if "status" in changes and changes["status"] != task.status:
        if changes["status"] not in codes.TASK_STATUSES:
            raise CaseError(_l("Choose a status from the list."), "status")
        _set_task_status(case, task, changes["status"], label, now)
    _event(
        case,
        "task_updated",
        label,
        now,
        task=task.id,
        template=task.template,
        status=task.status,
        fields=sorted(changes),
    )
    _audit("case.task.update", label, case, task=task.id, fields=sorted(changes))
    case.updated_at = now
    db.session.flush()
    return task


def record_debriefing(
    case: Case,
    *,
    actor: User,
    held_on: date,
    participant_roles: Iterable[str] = (),
    support_offered: Iterable[str] = (),
    outcome: str | None = None,
    further_needs: str | None = None,
    consent_to_share_summary: bool = False,
    now: datetime | None = None,
) -> Debriefing:
    """Record a debriefing or learning review; meets the learning-review deadline."""
    _require_unfinished(case)
    roles = sorted(set(participant_roles))
    support = sorted(set(support_offered))
    if any(r not in codes.PARTICIPANT_ROLES for r in roles):
        raise CaseError(_l("Choose participants from the list."), "participant_roles")
    if any(s not in codes.SUPPORT_OFFERED for s in support):
        raise CaseError(_l("Choose support from the list."), "support_offered")
    now = _now(now)
    label = actor_label(actor)
    row = Debriefing(
        case_id=case.id,
        held_on=held_on,
        participant_roles=roles,
        support_offered=support,
        consent_to_share_summary=bool(consent_to_share_summary),
        created_at=now,
    )
    case.debriefings.append(row)
    db.session.flush()
    row.outcome_sealed = _seal(case, "debriefing", "outcome", row.id, _text(outcome))
    row.further_needs_sealed = _seal(
        case, "debriefing", "further_needs", row.id, _text(further_needs)
    )
    _meet(case, "learning_review", label, now)
    _event(case, "debriefing", label, now, debriefing=row.id, consent=row.consent_to_share_summary)
    _audit("case.debriefing", label, case, debriefing=row.id, consent=row.consent_to_share_summary)
    case.updated_at = now
    db.session.flush()
    return row


def _set_section52_required(case: Case, required: bool, now: datetime) -> None:
    check_row = case.section52
    if check_row is None:
        if not required:
            return
        check_row = Section52Check(case_id=case.id, required=True, updated_at=now)
        case.section52 = check_row
    check_row.required = required
    check_row.updated_at = now


SECTION52_FIELDS = (
    "required",
    "labour_inspection_notified_at",
    "labour_inspection_notified_by_id",
    "police_notified_at",
    "police_notified_by_id",
    "safety_rep_copied_at",
    "nav_form_sent",
    "nav_form_sent_on",
)


def update_section52(
    case: Case, *, actor: User, now: datetime | None = None, **values: Any
) -> Section52Check:
    """Record § 5-2 steps; both notifications recorded meets the § 5-2 deadline.

    A notification time without "by" is recorded as done by the actor. Changing
    `required` changes whether the case has the § 5-2 duty (and its deadline).
    """
    _require_unfinished(case)
    unknown = set(values) - set(SECTION52_FIELDS)
    if unknown:
        raise CaseError(_l("This field is not expected here."), sorted(unknown)[0])
    now = _now(now)
    label = actor_label(actor)
    for by in ("labour_inspection_notified_by_id", "police_notified_by_id"):
        if values.get(by) is not None:
            _user(values[by], by)
    if "required" in values and bool(values["required"]) != case.section_5_2:
        case.section_5_2 = bool(values["required"])
        _set_section52_required(case, case.section_5_2, now)
        recompute_deadlines(case)
        if case.section_5_2:
            notices.section_5_2_flagged(case)
    row = case.section52
    if row is None:
        row = Section52Check(case_id=case.id, required=case.section_5_2, updated_at=now)
        case.section52 = row
    for name, value in values.items():
        if name != "required":
            setattr(row, name, value)
    for at, by in (
        ("labour_inspection_notified_at", "labour_inspection_notified_by_id"),
        ("police_notified_at", "police_notified_by_id"),
    ):
        if getattr(row, at) is not None and getattr(row, by) is None:
            setattr(row, by, actor.id)
    if row.nav_form_sent is False:
        row.nav_form_sent_on = None
    row.updated_at = now
    if row.labour_inspection_notified_at is not None and row.police_notified_at is not None:
        _meet(case, "section_5_2_notice", label, now)
    _event(case, "section52", label, now, fields=sorted(values))
    _audit("case.section52", label, case, fields=sorted(values))
    case.updated_at = now
    db.session.flush()
    return row


# -- messages ---------------------------------------------------------------------------


def _store_message(
    case: Case,
    author: User | None,
    body: str,
    *,
    internal: bool,
    now: datetime,
    identity: bool = False,
) -> CaseMessage:
    anonymous = author is None and case.report.anonymous
    message = CaseMessage(
        # An anonymous reporter's messages are numbered among their own only.
        id=_row_id(case, CaseMessage, unordered=anonymous),
        case_id=case.id,
        author_kind="reporter" if author is None else "handler",
        author_user_id=None if author is None else author.id,
        internal=internal,
        identity=identity,
        reporter_seq=_next_reporter_seq(case) if anonymous else None,
        body_sealed=b"",
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    message.body_sealed = _key(case).seal(body, table="case_message", column="body", row=message.id)
    db.session.flush()
    return message


def _next_reporter_seq(case: Case) -> int:
    highest = db.session.scalar(
        select(func.max(CaseMessage.reporter_seq)).where(CaseMessage.case_id == case.id)
    )
    return int(highest or 0) + 1


def _message_text(body: str | None) -> str:
    """The message as it is kept; CaseError when empty or too long."""
    text = (body or "").strip()
    if not text:
        raise CaseError(_l("Write a message."), "body")
    if len(text) > TEXT_MAX:
        raise CaseError(_l("Use at most %(n)s characters.", n=TEXT_MAX), "body")
    return text


def post_message(
    case: Case,
    author: User | None,
    body: str,
    internal: bool = False,
    *,
    actor: str | None = None,
    now: datetime | None = None,
    identity: bool = False,
) -> CaseMessage:
    """A message from a handler (`author`) or, with author None, from the reporter.

    Internal notes are for handlers only; the reporter cannot write one. `actor` labels
    the reporter in the log (reporting.service.reporter_actor); default "reporter".
    `identity`: the reporter says who they are in it (see post_anonymous_message).
    """
    text = _message_text(body)
    if author is None and internal:
        raise CaseError(_l("Only case handlers can write internal notes."), "internal")
    if author is not None and identity:
        raise CaseError(_l("Only the reporter can say who they are."), "identity")
    now = _now(now)
    anonymous = author is None and case.report.anonymous
    if anonymous:
        # When an anonymous reporter is active says something about who they are.
        now = reporting.start_of_day_utc(now)
    label = actor_label(author) if author is not None else (actor or "reporter")
    message = _store_message(case, author, text, internal=internal, now=now, identity=identity)
    kind = "handler" if author is not None else "reporter"
    flags: dict[str, Any] = {"identity": True} if identity else {}
    _event(case, "message", label, now, author=kind, internal=internal, message=message.id, **flags)
    _audit(
        "case.message",
        label,
        case,
        at=now,
        message=message.id,
        author=kind,
        internal=internal,
        **flags,
    )
    # The day must not move the case's last change back to midnight.
    case.updated_at = max(case.updated_at, now) if anonymous else now
    db.session.flush()
    if author is None:
        notices.reporter_wrote(case, f"message:{message.id}")
    elif not internal:
        notices.reporter_has_news(case, f"message:{message.id}")
    return message


def _conversation_order(message: CaseMessage) -> tuple[Any, ...]:
    """Reading order of an anonymous case's messages.

    The reporter's messages keep only their day, so within a day they come after the
    handlers' (an answer usually follows the question), in the order they were written.
    """
    day = oslo_day(message.created_at)
    by_reporter = message.author_kind == "reporter"
    return (day, by_reporter, message.reporter_seq or 0, message.created_at, message.id)


def public_message_id(case: Case, message_id: int) -> int:
    """The id a reporter sees for a message: keyed-hash, stable, and unrelated to the
    row id, so gaps between the reporter's messages cannot tell that internal notes
    (which share the id sequence) were written between them."""
    digest = crypto.keyed_hash(
        keys.keyring().derive("message-public-id"), f"{case.id}:{message_id}"
    )
    return int(digest[:12], 16)


def _message_views(case: Case, *, viewer: str) -> list[MessageView]:
    query = select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
    if viewer != "handler":
        query = query.where(CaseMessage.internal.is_(False))
    key = _key(case)
    names: dict[int, str] = {}
    out = []
    rows = list(db.session.scalars(query))
    if case.report.anonymous:
        rows.sort(key=_conversation_order)
    for message in rows:
        author_id = message.author_user_id if viewer == "handler" else None
        if author_id is not None and author_id not in names:
            person = db.session.get(User, author_id)
            names[author_id] = person.name if person is not None else ""
        out.append(
            MessageView(
                id=message.id if viewer == "handler" else public_message_id(case, message.id),
                author_kind=message.author_kind,
                author_user_id=author_id,
                author_name=names.get(author_id) if author_id is not None else None,
                internal=message.internal,
                identity=message.identity,
                body=key.open_text(
                    message.body_sealed, table="case_message", column="body", row=message.id
                ),
                created_at=message.created_at,
            )
        )
    return out


def record_read(case: Case, actor: str, *, part: str, level: str) -> None:
    """A response carries decrypted case content (an echo of what was just stored, a
    task's note): the same "case.read" entry as opening the case, in its access history.
    An anonymous reporter's reading keeps only its day."""
    at = reporting.start_of_day_utc() if level == "reporter" and case.report.anonymous else None
    _audit("case.read", actor, case, at=at, part=part, level=level)


def messages_for(case: Case, viewer: str, *, actor: str) -> list[MessageView]:
    """The case's messages as "handler" (with internal notes) or "reporter" sees them.

    Writes a "case.read" audit entry (part "messages"). The caller has checked access.
    """
    if viewer not in {"handler", "reporter"}:
        raise ValueError(viewer)
    at = reporting.start_of_day_utc() if viewer == "reporter" and case.report.anonymous else None
    _audit("case.read", actor, case, at=at, part="messages", level=viewer)
    return _message_views(case, viewer=viewer)


# -- the reporter's side ----------------------------------------------------------------


@dataclass
class ReporterView:
    """What the reporter sees of their case: its state in plain words, feedback, messages."""

    report: Report
    case: Case
    state: str
    state_text: str
    status: str
    feedback: str | None
    messages: list[MessageView]


def reporter_case(report: Report) -> Case:
    case = case_for_report(report)
    if case is None:
        raise CaseNotFound()
    return case


def reporter_view(report: Report, *, actor: str) -> ReporterView:
    """The reporter's view (the caller checked ownership, e.g. own_report or a receipt).

    Audited as a read of the messages with the reporter's audit label.
    """
    case = reporter_case(report)
    messages = messages_for(case, "reporter", actor=actor)
    feedback = _case_text(case, "feedback") if case.state == "closed" else None
    return ReporterView(
        report=report,
        case=case,
        state=case.state,
        state_text=str(PLAIN_STATE[case.state]),
        status=report.status,
        feedback=feedback,
        messages=messages,
    )


def post_reporter_message(
    report: Report, body: str, *, actor: str, now: datetime | None = None
) -> CaseMessage:
    """The reporter answers (the caller checked ownership)."""
    return post_message(reporter_case(report), None, body, False, actor=actor, now=now)


# -- the anonymous reporter's side ------------------------------------------------------
#
# The caller opened the report with its receipt code (reporting.anonymous). Everything
# the reporter writes is dated to the Oslo day, gets a random id and is logged as
# "reporter" (see post_message, _event and reporting.anonymous.add_attachments).

ANONYMOUS_ACTOR = "reporter"


def _anonymous_case(report: Report) -> Case:
    if not report.anonymous:
        raise CaseNotFound()
    return reporter_case(report)


def anonymous_view(report: Report) -> ReporterView:
    """What the anonymous reporter sees: state in plain words, feedback, messages.

    Audited, at day precision, as a read of the messages by "reporter".
    """
    _anonymous_case(report)
    return reporter_view(report, actor=ANONYMOUS_ACTOR)


def has_revealed_identity(report: Report) -> bool:
    """Whether the reporter has told the case handlers who they are."""
    case = _anonymous_case(report)
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(CaseMessage)
            .where(CaseMessage.case_id == case.id, CaseMessage.identity.is_(True))
        )
    )


def post_anonymous_message(
    report: Report, body: str, *, identity: bool = False, now: datetime | None = None
) -> CaseMessage:
    """The anonymous reporter writes to the case handlers.

    `identity`: the message says who they are. It is kept like any message and cannot
    be taken back; a second one is refused (they can write more in ordinary messages).
    """
    case = _anonymous_case(report)
    if identity and has_revealed_identity(report):
        raise CaseError(_l("You have already told the case handlers who you are."), "identity")
    return post_message(case, None, body, False, actor=ANONYMOUS_ACTOR, now=now, identity=identity)


def add_anonymous_information(
    report: Report, body: str | None, uploads: Iterable[Any] = (), *, now: datetime | None = None
) -> CaseMessage | None:
    """Information the anonymous reporter adds later: a message, files, or both.

    Files follow the anonymous link's rules (reporting.anonymous.add_attachments) and
    appear in the case's timeline. Raises CaseError when there is neither text nor a
    file, ReportError about the files; nothing is stored then.
    """
    case = _anonymous_case(report)
    files = [u for u in uploads if getattr(u, "filename", None)]
    text = (body or "").strip()
    if not text and not files:
        raise CaseError(_l("Write something, or choose a file to add."), "body")
    if text:
        _message_text(text)  # refuse before any file is stored
    stored = anonymous.add_attachments(report, files)
    message = post_anonymous_message(report, text, now=now) if text else None
    if stored:
        day = reporting.start_of_day_utc(now)
        _event(case, "attachments_added", ANONYMOUS_ACTOR, day, count=len(stored))
        _audit("case.attachments", ANONYMOUS_ACTOR, case, at=day, count=len(stored))
        case.updated_at = max(case.updated_at, day)
        db.session.flush()
        if message is None:
            notices.reporter_wrote(case, f"files:{stored[0].id}")
    return message


# -- admin: groups, routing rules, deadline policies ------------------------------------


def handler_groups() -> list[HandlerGroup]:
    return list(db.session.scalars(select(HandlerGroup).order_by(HandlerGroup.name)))


def _check_members(member_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(member_ids))
    for user_id in ids:
        user = db.session.get(User, user_id)
        if user is None or not user.has_role("handler"):
            raise CaseError(
                _l("Only case handlers can be members of a handler group."), "member_ids"
            )
    return ids


def _check_escalation(user_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(user_ids))
    for user_id in ids:
        user = db.session.get(User, user_id)
        if user is None or not user.has_role("handler", "admin"):
            raise CaseError(
                _l("Escalation contacts must be case handlers or administrators."),
                "escalation_ids",
            )
    return ids


def _only_flag(group: HandlerGroup, *, is_default: bool, is_fallback: bool) -> None:
    """There is at most one default and one fallback group."""
    for other in handler_groups():
        if other.id == group.id:
            continue
        if is_default:
            other.is_default = False
        if is_fallback:
            other.is_fallback = False
    group.is_default = is_default
    group.is_fallback = is_fallback


def _leads(group: HandlerGroup) -> set[int]:
    return set(group.member_ids) & set(group.escalation_ids)


def save_group(
    *,
    actor: str,
    name: str,
    member_ids: Iterable[int] = (),
    is_default: bool = False,
    is_fallback: bool = False,
    group: HandlerGroup | None = None,
    escalation_ids: Iterable[int] | None = None,
) -> HandlerGroup:
    """Create a handler group, or change one; new members' conflicts are recorded first.

    `escalation_ids`: who is told when a case of the group is flagged § 5-2 or one of
    its deadlines passes (case handlers or admins; none: the admins). None keeps them.
    """
    name = name.strip()
    if not name:
        raise CaseError(_l("A handler group needs a name."), "name")
    clash = db.session.scalar(select(HandlerGroup).where(HandlerGroup.name == name))
    if clash is not None and (group is None or clash.id != group.id):
        raise CaseError(_l("A handler group with this name already exists."), "name")
    ids = _check_members(member_ids)
    creating = group is None
    leads_before = set() if group is None else _leads(group)
    if group is None:
        group = HandlerGroup(name=name)
        db.session.add(group)
    group.name = name
    before = set(group.member_ids)
    group.members = [m for m in group.members if m.user_id in ids] + [
        HandlerGroupMember(user_id=uid) for uid in ids if uid not in before
    ]
    _only_flag(group, is_default=is_default, is_fallback=is_fallback)
    if escalation_ids is not None:
        contacts = _check_escalation(escalation_ids)
        group.escalation_contacts = [
            c for c in group.escalation_contacts if c.user_id in contacts
        ] + [
            HandlerGroupEscalation(user_id=uid)
            for uid in contacts
            if uid not in set(group.escalation_ids)
        ]
    db.session.flush()
    added = set(ids) - before
    if added:
        for case in db.session.scalars(select(Case).where(Case.group_id == group.id)):
            _sync_exclusions(case, added)
    for uid in sorted(added):
        access_changes.record(
            "group.member_added",
            actor=actor,
            user_id=uid,
            detail={"group": group.id, "with": sorted(added)},
        )
    for uid in sorted(_leads(group) - leads_before):
        access_changes.record(
            "group.lead_added", actor=actor, user_id=uid, detail={"group": group.id}
        )
    audit.record(
        "handler_group.create" if creating else "handler_group.update",
        actor=actor,
        object_type="handler_group",
        object_id=group.id,
        detail={
            "members": ids,
            "is_default": is_default,
            "is_fallback": is_fallback,
            "escalation": group.escalation_ids,
        },
    )
    return group


def routing_rules() -> list[RoutingRule]:
    return list(db.session.scalars(select(RoutingRule).order_by(RoutingRule.id)))


def create_rule(
    *,
    actor: str,
    group_id: int,
    unit_id: int | None = None,
    incident_type: str | None = None,
    track: str | None = None,
) -> RoutingRule:
    """Add a routing rule; empty criteria match anything."""
    group = choose_group(group_id)
    if unit_id is not None and org.get_unit(unit_id) is None:
        raise CaseError(_l("Choose a unit from the list."), "unit_id")
    if incident_type is not None and incident_type not in INCIDENT_TYPES:
        raise CaseError(_l("Choose an incident type from the list."), "incident_type")
    if track is not None and track not in codes.TRACKS:
        raise CaseError(_l("Choose a track from the list."), "track")
    rule = RoutingRule(
        group_id=group.id, group=group, unit_id=unit_id, incident_type=incident_type, track=track
    )
    db.session.add(rule)
    db.session.flush()
    audit.record(
        "routing_rule.create",
        actor=actor,
        object_type="routing_rule",
        object_id=rule.id,
        detail={"group": group.id, "unit": unit_id, "incident_type": incident_type, "track": track},
    )
    access_changes.record(
        "routing_rule.created",
        actor=actor,
        object_type="routing_rule",
        object_id=rule.id,
        detail={"group": group.id},
    )
    return rule


def delete_rule(rule: RoutingRule, *, actor: str) -> None:
    """Remove a routing rule (cases already routed stay where they are)."""
    rule_id, group_id = rule.id, rule.group_id
    db.session.delete(rule)
    db.session.flush()
    audit.record("routing_rule.delete", actor=actor, object_type="routing_rule", object_id=rule_id)
    default = db.session.scalar(select(HandlerGroup.id).where(HandlerGroup.is_default.is_(True)))
    # The cases it sent now go by other rules, or to the default group: a widening there.
    access_changes.record(
        "routing_rule.deleted",
        actor=actor,
        object_type="routing_rule",
        object_id=rule_id,
        detail={"group": default if default is not None else group_id, "from": group_id},
    )


def replace_policies(rows: Iterable[Mapping[str, Any]], *, actor: str) -> list[DeadlinePolicy]:
    """Replace every deadline policy with these (new cases and recomputations use them)."""
    new = []
    for index, row in enumerate(rows):
        where = f"policies.{index}"
        if row.get("kind") not in codes.DEADLINE_KINDS:
            raise CaseError(_l("Choose a kind of deadline from the list."), f"{where}.kind")
        if row.get("unit") not in codes.DURATION_UNITS:
            raise CaseError(_l("Choose a unit of time from the list."), f"{where}.unit")
        if row.get("track") is not None and row["track"] not in codes.TRACKS:
            raise CaseError(_l("Choose a track from the list."), f"{where}.track")
        if row.get("incident_type") is not None and row["incident_type"] not in INCIDENT_TYPES:
            raise CaseError(_l("Choose an incident type from the list."), f"{where}.incident_type")
        amount = int(row.get("amount") or 0)
        if row["unit"] != "same_day" and amount < 1:
            raise CaseError(_l("Enter a duration of at least 1."), f"{where}.amount")
        new.append(
            DeadlinePolicy(
                kind=row["kind"],
                track=row.get("track"),
                incident_type=row.get("incident_type"),
                min_severity=int(row.get("min_severity") or 1),
                amount=0 if row["unit"] == "same_day" else amount,
                unit=row["unit"],
                active=bool(row.get("active", True)),
            )
        )
    db.session.execute(delete(DeadlinePolicy))
    db.session.add_all(new)
    db.session.flush()
    audit.record(
        "deadline_policy.replace",
        actor=actor,
        object_type="deadline_policy",
        detail={"count": len(new)},
    )
    return policies()


@dataclass(frozen=True)
class RoutingWarning:
    case_id: int
    warning: str
    group_id: int | None
    opened_at: datetime


def routing_warnings() -> list[RoutingWarning]:
    """Active cases an admin should look at: routed to the fallback group, or nowhere."""
    rows = db.session.scalars(
        select(Case)
        .where(Case.routing_warning.is_not(None), Case.state.in_(ACTIVE_STATES))
        .order_by(Case.id)
    )
    return [RoutingWarning(c.id, c.routing_warning or "", c.group_id, c.opened_at) for c in rows]
