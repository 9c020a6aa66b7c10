"""Who may see a case, and at which level; loading a case for a user."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, false, literal, null, or_, select, tuple_, union_all
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from handling import access
from handling.errors import CaseNotFound
from handling.models import (
    Case,
    CaseExclusion,
    CaseGrant,
    Debriefing,
    FollowUpTask,
    HandlerGroupMember,
)
from handling.service.base import _audit
from handling.service.routing import conflicted_reports, conflicts, indexed_conflict
from handling.states import AccessLevel
from reporting import service as reporting
from reporting.models import Report
from trygg import org
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.reading import once_per_reading_request
from trygg.roles import Role

# -- access -----------------------------------------------------------------------------


def group_ids_of(user: User) -> set[int]:
    return set(
        db.session.scalars(
            select(HandlerGroupMember.group_id).where(HandlerGroupMember.user_id == user.id)
        )
    )


def _safety_rep_units(user: User) -> set[int]:
    """The units a safety representative is verneombud for, with their subunits: the
    ones they represent (a change of which is an access change), not those they work in.
    Read once per reading request (a queue asks three times)."""

    def read() -> set[int]:
        units: set[int] = set()
        for unit in user.represented_units:
            units |= org.subtree_ids(unit.id)
        return units

    return once_per_reading_request("safety_rep_units", user.id, read)


def _safety_rep_may_see(user: User, case: Case) -> bool:
    """Consent given, the report's unit within the rep's units, and the rep neither named
    nor excluded from the case (a handler who is also a rep and recused stays out)."""
    if not case.consented_to_share or case.report.unit_id is None:
        return False
    if case.report.unit_id not in _safety_rep_units(user):
        return False
    return user.id not in case.excluded_user_ids and user.id not in conflicts(case.report)


@dataclass(frozen=True)
class Reach:
    """What `handling.access.handler_sees` asks of one handler, read in one statement
    (`handler_reach`): the groups they are in and when they joined each, the cases
    break-glass granted them, the grants that count (case id, group id: break-glass, or
    a grant in a group they are in) and the cases they are excluded from."""

    joined: dict[int, datetime] = field(default_factory=dict)
    glass: list[int] = field(default_factory=list)
    granted: list[tuple[int, int]] = field(default_factory=list)
    excluded: list[int] = field(default_factory=list)
    active_handler: bool = False

    @property
    def groups(self) -> list[int]:
        return sorted(self.joined)

    def sees(self) -> ColumnElement[bool]:
        """SQL on Case: `handling.access.handler_sees(user)`, the same rule with this
        handler's part given as values, so a queue's count over a group's thousands of
        cases compares columns of its index instead of looking up the membership, the
        grants and the exclusions for every case (`tests/handling/test_grants.py`,
        "one rule", checks that the two agree)."""
        if not self.active_handler:
            return false()
        came = [
            and_(Case.group_id == group_id, Case.group_since >= joined_at)
            for group_id, joined_at in sorted(self.joined.items())
        ]
        if self.granted:
            came.append(tuple_(Case.id, Case.group_id).in_(self.granted))
        rule = or_(*came) if came else false()
        if self.excluded:
            rule = and_(Case.id.not_in(self.excluded), rule)
        return rule


def handler_reach(user: User) -> Reach:
    """A handler's `Reach`: one statement (none for anyone else)."""
    if not user.has_role(Role.HANDLER):
        return Reach()
    member = select(
        HandlerGroupMember.group_id, HandlerGroupMember.joined_at, null(), null()
    ).where(HandlerGroupMember.user_id == user.id)
    grants = select(CaseGrant.group_id, null(), CaseGrant.case_id, CaseGrant.kind).where(
        CaseGrant.user_id == user.id
    )
    exclusions = select(null(), null(), CaseExclusion.case_id, literal(_EXCLUDED)).where(
        CaseExclusion.user_id == user.id
    )
    joined: dict[int, datetime] = {}
    grant_rows, excluded = [], set()
    rows: list[Any] = list(db.session.execute(union_all(member, grants, exclusions)))
    for group_id, joined_at, case_id, what in rows:
        if case_id is None:
            joined[group_id] = joined_at
        elif what == _EXCLUDED:
            excluded.add(case_id)
        else:
            grant_rows.append((case_id, group_id, what))
    return Reach(
        joined,
        sorted({c for c, _g, kind in grant_rows if kind == access.BREAK_GLASS}),
        sorted(
            {
                (c, g)
                for c, g, kind in grant_rows
                if g is not None and (kind == access.BREAK_GLASS or g in joined)
            }
        ),
        sorted(excluded),
        bool(user.active),
    )


_EXCLUDED = "excluded"


def visible_cases(
    user: User, report: Any = None, *, reach: Reach | None = None, active: bool = False
) -> ColumnElement[bool]:
    """The SQL condition on Case for the cases in the user's queue: the one place that
    says in SQL who sees which case, as `access_level` does for one case.

    Handlers: `handling.access.handler_sees` (as `Reach.sees`), within their groups or by
    break-glass. Safety representatives: the exposed employee consented to sharing, and
    the report's unit is within their units, and they are not excluded (whether they are
    named in the report is sealed: `rep_conflicts`, which the queue leaves out).
    The user's groups, grants, exclusions and units are read first and given as values,
    so the planner walks the queue's index of each group in order (an OR with a
    subquery made it scan every case of the state and sort them); `reach` is
    `handler_reach(user)` when the caller has it already. `report`: the case's Report (or
    an alias) when the query joins it already, so the erased check reads it; `active`:
    the query keeps only unfinished cases, which retention never erases (it deletes
    closed and dropped ones), so there is no erased check.
    """
    parts: list[ColumnElement[bool]] = []
    reach = reach if reach is not None else handler_reach(user)
    sees = reach.sees()
    if reach.joined:
        parts.append(and_(Case.group_id.in_(reach.groups), sees))
    if reach.glass:
        parts.append(and_(Case.id.in_(reach.glass), sees))
    shared = _shared_with_rep(user)
    if shared is not None:
        parts.append(shared)
    if not parts:
        return false()
    # A case retention deleted keeps only its codes: it is in no one's queue.
    if active:
        return or_(*parts) if len(parts) > 1 else parts[0]
    kept = report.erased_month.is_(None) if report is not None else case_kept()
    return and_(or_(*parts) if len(parts) > 1 else parts[0], kept)


def case_kept() -> ColumnElement[bool]:
    """SQL on Case: its report was not deleted by retention (which keeps only codes, and
    a shredded key no one can open)."""
    return ~exists().where(Report.id == Case.report_id, Report.erased_month.is_not(None))


def _shared_with_rep(user: User) -> ColumnElement[bool] | None:
    """SQL on Case: the cases shared with a safety representative (consent given, a unit
    they represent, not excluded) and not in conflict with them by the people index
    (`routing.indexed_conflict`: named in the report, or line manager of its counterpart).
    A report not indexed yet is left to `rep_conflicts`."""
    units = sorted(_safety_rep_units(user)) if user.has_role(Role.SAFETY_REP) else []
    if not units:
        return None
    consented = or_(
        exists().where(FollowUpTask.case_id == Case.id, FollowUpTask.consent_to_share.is_(True)),
        exists().where(
            Debriefing.case_id == Case.id, Debriefing.consent_to_share_summary.is_(True)
        ),
    )
    in_units = exists().where(
        Report.id == Case.report_id,
        Report.unit_id.in_(units),
        ~indexed_conflict(user.id),
    )
    excluded = exists().where(CaseExclusion.case_id == Case.id, CaseExclusion.user_id == user.id)
    # The shared cases of the rep's units by `ix_case_shared` (a few hundred, not every
    # report of the units); the consent and the unit are checked again from their rows.
    return and_(Case.shared_unit_id.in_(units), consented, in_units, ~excluded)


def rep_conflicts(user: User) -> list[int]:
    """The cases shared with a safety representative's units, whose reports are not in
    the people index yet (stored before it: `trygg retention index-people` indexes them),
    that they are named in (or otherwise in conflict with): found by opening those
    reports, and left out of the rep's list and counts. Once every report is indexed,
    one statement that finds none; a handler's queue never opens a report."""
    shared = _shared_with_rep(user)
    if shared is None:
        return []
    unindexed = exists().where(Report.id == Case.report_id, Report.people_index.is_(None))
    # A case retention deleted keeps its codes but not its people: nothing to open.
    cases = list(
        db.session.scalars(
            select(Case).where(shared, unindexed, case_kept()).options(selectinload(Case.report))
        )
    )
    named = conflicted_reports(user.id, [c.report for c in cases])
    return sorted(c.id for c in cases if c.report_id in named)


def access_level(user: User | None, case: Case) -> str | None:
    """How a user may see a case: "handler", "safety_rep", "reporter", or None.

    Handlers: as `handling.access.handler_sees` (the queue's SQL rule). Safety
    representatives: only where the exposed employee consented to sharing (on a
    follow-up task or a debriefing), for their own units. The reporter: their own
    report. Managers and admins: never.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.has_role(Role.HANDLER) and _can_handle(user.id, case.id):
        return AccessLevel.HANDLER
    if user.has_role(Role.SAFETY_REP) and _safety_rep_may_see(user, case):
        return AccessLevel.SAFETY_REP
    if reporting.is_owner(user, case.report):
        return "reporter"
    return None


def _can_handle(user_id: int, case_id: int) -> bool:
    """`access.can_handle`, asked once per reading request: a page asks it for the case,
    its content and its forms, and a GET changes nobody's access (a POST may: recusal,
    assignment, so it asks each time)."""
    return once_per_reading_request(
        "can_handle", (user_id, case_id), lambda: access.can_handle(user_id, case_id)
    )


def can_access(user: User | None, case: Case) -> bool:
    """Whether the user may see anything of the case's content."""
    return access_level(user, case) is not None


def get_case(case_id: int) -> Case | None:
    """The case, unless there is none or retention deleted it (only its codes are left)."""
    case = db.session.get(Case, case_id)
    return None if case is None or case.report.erased_month is not None else case


def case_for(
    user: User, case_id: int, *, levels: Iterable[str] = (AccessLevel.HANDLER,), lock: bool = False
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
