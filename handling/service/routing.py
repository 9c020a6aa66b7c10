"""Routing a report to a handler group and excluding handlers with a conflict of interest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import joinedload

from handling import notices
from handling.models import (
    Case,
    CaseExclusion,
    HandlerGroup,
)
from handling.service.base import _audit, _event, _now, _row_id
from handling.service.opening_config import routed_group_id
from handling.states import Track
from reporting import service as reporting
from reporting.codes import HARASSMENT
from reporting.models import Report
from trygg.accounts.models import Membership, User
from trygg.extensions import db
from trygg.reading import once_per_reading_request

# -- routing and conflict of interest ---------------------------------------------------


def default_track(report: Report) -> str:
    """Harassment by a colleague or leader suggests whistleblowing; else HSE deviation."""
    types = set(report.incident_types)
    if types & HARASSMENT and report.counterpart_category in {"colleague", "leader"}:
        return Track.WHISTLEBLOWING
    return Track.HMS_DEVIATION


def route(report: Report, track: str) -> HandlerGroup | None:
    """The group for a report: the most specific matching rule's (the one rule,
    `opening_config.routed_group_id`, also used when a case opens), else the default."""
    group_id = routed_group_id(report, track)
    if group_id is not None:
        return db.session.get(HandlerGroup, group_id)
    return db.session.scalars(
        select(HandlerGroup).where(HandlerGroup.is_default.is_(True)).order_by(HandlerGroup.id)
    ).first()


G = TypeVar("G")


def choose_target(
    routed: G | None, fallback: G | None, eligible: Callable[[G], bool]
) -> tuple[G | None, str | None]:
    """The group a case goes to and the warning for admins (the one placement rule, for
    a new case and for a change of track): the routed group if it has an eligible
    handler, else the fallback group ("fallback", or "no_group" when no rule or default
    group applied), else the routed group anyway ("no_handler": nobody eligible)."""
    if routed is not None and eligible(routed):
        return routed, None
    if fallback is not None and eligible(fallback):
        return fallback, "no_group" if routed is None else "fallback"
    return routed or fallback, "no_group" if routed is None else "no_handler"


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


def conflicted_reports(user_id: int, reports: Iterable[Report]) -> set[int]:
    """Of these reports, the ids of those `conflicts` would exclude one user from: the
    same rule, for one person over many reports, in at most one statement (the people
    the user is line manager of) however many reports there are."""
    named = {r.id: reporting.involved_user_ids(r) for r in reports}
    found = {
        rid
        for rid, involved in named.items()
        if any(user_id in involved[role] for role in (*INVOLVED_ROLES, "must_not_handle"))
    }
    counterparts = {rid: involved["counterpart"] for rid, involved in named.items()}
    if any(counterparts.values()):
        led_units = select(Membership.unit_id).where(
            Membership.user_id == user_id, Membership.is_manager.is_(True)
        )
        led = set(
            db.session.scalars(select(Membership.user_id).where(Membership.unit_id.in_(led_units)))
        )
        found |= {rid for rid, people in counterparts.items() if people & led}
    return found


INVOLVED_ROLES = ("exposed", "witnesses", "counterpart", "reporter")


def _people_led_by(user_id: int) -> set[int]:
    """The members of the units the user is line manager of (one statement; asked once
    per reading request, as a GET changes no one's units)."""
    led_units = select(Membership.unit_id).where(
        Membership.user_id == user_id, Membership.is_manager.is_(True)
    )
    query = select(Membership.user_id).where(Membership.unit_id.in_(led_units))
    return once_per_reading_request(
        "people_led_by", user_id, lambda: set(db.session.scalars(query))
    )


def indexed_conflict(user_id: int) -> ColumnElement[bool]:
    """SQL on Report: the report is in the people index (`people_index` not NULL) and
    `conflicted_reports` would find the user in conflict with it, for any of the reasons
    `_indexed_reasons` gives (the rule in SQL, in one place), decided by the index
    alone: one statement for the people in the units the user leads, no report opened. A
    report not indexed yet is not matched: the caller opens those (`access.rep_conflicts`)."""
    named = or_(*(condition for _reason, condition in _indexed_reasons(user_id)))
    # Any version counts as indexed (a later one holds every role of this one); only
    # NULL means "open it", so no value can leave a report neither matched nor opened.
    return and_(Report.people_index.is_not(None), named)


def conflicts(report: Report, involved: dict[str, set[int]] | None = None) -> dict[int, set[str]]:
    """User id → the conflict-of-interest reasons that exclude them from this report.

    Named as involved (exposed, witness, counterpart, reporter); line manager of a named
    counterpart (a manager member of any of the counterpart's units); named by the
    reporter as someone who must not handle the case. `involved`: the report's
    reporting.people_named(...).user_ids, when the caller has them already.
    """
    if involved is None:
        involved = reporting.involved_user_ids(report)
    found: dict[int, set[str]] = defaultdict(set)
    for role in INVOLVED_ROLES:
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


def _sync_exclusions(
    case: Case,
    user_ids: Iterable[int],
    found: dict[int, set[str]] | None = None,
    at: datetime | None = None,
) -> None:
    """Record (and audit) the conflicts of interest of these users with the case. A case
    retention deleted has no people left to check (nor content to keep anyone from)."""
    candidates = set(user_ids)
    if not candidates or case.report.erased_month is not None:
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


def sync_group_exclusions(group_id: int, user_ids: set[int], at: datetime | None = None) -> None:
    """Record the conflicts of interest of these users (joining the group) with every
    case of the group, as `_sync_exclusions` would case by case, without opening every
    report: the people index finds the cases whose reports name a user (in any role,
    must-not-handle included) or name a counterpart the user is line manager of, a few
    statements per user however many cases the group has; only reports not indexed yet
    (from before migration 0026) are opened. A case retention deleted has no people."""
    if not user_ids:
        return
    in_group = and_(
        Case.group_id == group_id,
        Report.id == Case.report_id,
        Report.erased_month.is_(None),
    )
    found: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for user_id in sorted(user_ids):
        for reason, named in _indexed_reasons(user_id):
            query = select(Case.id).where(in_group, Report.people_index.is_not(None), named)
            for case_id in db.session.scalars(query):
                found[case_id][user_id].add(reason)
    if found:
        for case in db.session.scalars(select(Case).where(Case.id.in_(sorted(found)))):
            _sync_exclusions(case, user_ids, {u: set(r) for u, r in found[case.id].items()}, at)
    unindexed = select(Case).where(in_group, Report.people_index.is_(None))
    for case in db.session.scalars(unindexed):
        _sync_exclusions(case, user_ids, at=at)


def _indexed_reasons(user_id: int) -> list[tuple[str, ColumnElement[bool]]]:
    """SQL on Report per reason of `conflicts`, for one user, by the people index: named
    in any role (the reporter's own report included), named as someone who must not
    handle it, or line manager of its named counterpart."""
    reasons = [
        ("involved", reporting.names(Report.id, INVOLVED_ROLES, {user_id})),
        ("named_by_reporter", reporting.names(Report.id, ("must_not_handle",), {user_id})),
    ]
    led = _people_led_by(user_id)
    if led:
        # A counterpart is not their own line manager (as in `conflicts`).
        line = and_(
            reporting.names(Report.id, ("counterpart",), led),
            ~reporting.names(Report.id, ("counterpart",), {user_id}),
        )
        reasons.append(("line_manager", line))
    return reasons


def eligible_handler_ids(group: HandlerGroup | None, case: Case) -> list[int]:
    """Members of the group who may handle the case: active handlers, not excluded.

    The rule is `notices.eligible_by_case`'s (which the scheduler runs for a batch).
    """
    if group is None:
        return []
    if not group.member_ids:
        return []
    group_id = group.id

    def compute() -> list[int]:
        excluded = {case.id: case.excluded_user_ids}
        return notices.eligible_by_case([(case.id, group_id)], excluded)[case.id]

    # Asked once per reading request (the case page asks for its picker and its grants).
    return list(once_per_reading_request("eligible_handler_ids", (group_id, case.id), compute))


def eligible_handlers(case: Case) -> list[User]:
    """Who may be told about and work on the case (never an excluded handler)."""
    ids = eligible_handler_ids(case.group, case)
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return [found[uid] for uid in ids if uid in found]


def _place(case: Case, routed: HandlerGroup | None, actor: str, now: datetime) -> None:
    """Put the case in the group `choose_target` picks (after recording the conflicts
    of interest of both candidate groups' members)."""
    fallback = fallback_group()
    for group in (routed, fallback):
        if group is not None:
            _sync_exclusions(case, group.member_ids, at=now)
    target, warning = choose_target(
        routed, fallback, lambda group: bool(eligible_handler_ids(group, case))
    )
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
