"""Who may be made responsible for a follow-up task, and the picker's search.

Never the people the report names (exposed, counterpart, witnesses, those who must not
handle it), never anyone excluded from the case, never an administrator (administering
gives no part in cases). Leaders of the report's unit come first, nearest unit first.
The picker offers a short list of suggestions and searches the rest: an organisation of
thousands of users is never sent as one select.

In a confidential report only the case's assigned handler chooses (`chooses`): the
picker leaves out the people the report names, so a colleague who reads "The reporter"
in the reporter's place could otherwise try names one by one and find whom it hides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy import case as sql_case

from handling.models import Case
from handling.service.base import _audit, sees_reporter
from reporting import service as reporting
from trygg import org
from trygg.accounts import service as accounts
from trygg.accounts.models import Role, User, UserRole
from trygg.audit import actor_label
from trygg.extensions import db

PICKER_LIMIT = 20
QUERY_MAX = 100


@dataclass(frozen=True)
class Candidate:
    """A person the picker offers; `leader` when they lead the report's unit or one above."""

    user: User
    leader: bool


def named_in_report(case: Case) -> set[int]:
    """The user ids the report names (its sealed fields are opened by reporting)."""
    named = reporting.people_named(case.report).user_ids
    return named["exposed"] | named["witnesses"] | named["counterpart"] | named["must_not_handle"]


def not_offered(case: Case) -> set[int]:
    """Who may never be responsible: named in the report, or excluded from the case."""
    return named_in_report(case) | case.excluded_user_ids


def chooses(case: Case, user: User) -> bool:
    """Whether `user` may search for and choose a task's responsible person (see the
    module's docstring): the rule depends on nothing the report says. An anonymous
    report has no reporter to find."""
    return case.report.anonymous or sees_reporter(case, user)


def _admin_ids() -> Select[Any]:
    return select(UserRole.user_id).where(UserRole.role == Role.ADMIN.value)


def is_admin(user: User) -> bool:
    return Role.ADMIN.value in {r.role for r in user.role_rows}


def leaders(case: Case) -> list[User]:
    """The active line managers of the report's unit, then of each unit above it."""
    unit = org.get_unit(case.report.unit_id) if case.report.unit_id else None
    if unit is None:
        return []
    levels = [unit.id, *(u.id for u in org.ancestors(unit))]

    def nearest(user: User) -> int:
        led = {m.unit_id for m in user.memberships if m.is_manager}
        return min(i for i, unit_id in enumerate(levels) if unit_id in led)

    # One query for every level (managers_of sorts by name; nearest unit first here).
    return sorted(accounts.managers_of(levels), key=nearest)


def _users(ids: Iterable[int]) -> list[User]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(wanted))))


def suggestions(case: Case, handlers: Iterable[User], *, actor: User) -> list[Candidate]:
    """The picker's short list: leaders first, then the case's handlers, then whoever
    already holds one of its tasks (bounded by the unit tree and the handler group);
    none for someone who may not choose (`chooses`)."""
    if not chooses(case, actor):
        return []
    barred = not_offered(case)
    found: dict[int, Candidate] = {}
    for user in leaders(case):
        found.setdefault(user.id, Candidate(user, True))
    for user in sorted(handlers, key=lambda u: (u.name, u.id)):
        found.setdefault(user.id, Candidate(user, False))
    holders = {t.responsible_user_id for t in case.tasks if t.responsible_user_id is not None}
    for user in sorted(_users(holders - set(found)), key=lambda u: (u.name, u.id)):
        found.setdefault(user.id, Candidate(user, False))
    return [c for c in found.values() if c.user.id not in barred and not is_admin(c.user)]


def search(case: Case, query: str, *, actor: User, limit: int = PICKER_LIMIT) -> list[Candidate]:
    """Active users whose name or e-mail contains `query`, leaders first, at most `limit`.

    Audited (`case.people_search`): who is left out tells that they are named. None for
    someone who may not choose (`chooses`).
    """
    if not chooses(case, actor):
        return []
    query = query.strip()[:QUERY_MAX]
    barred = not_offered(case)
    leader_ids = [u.id for u in leaders(case)]
    leader_first = sql_case((User.id.in_(leader_ids), 0), else_=1) if leader_ids else None
    statement = select(User).where(
        User.active.is_(True),
        User.id.not_in(_admin_ids()),
        or_(
            User.name.icontains(query, autoescape=True),
            User.email.icontains(query, autoescape=True),
        ),
    )
    if barred:
        statement = statement.where(User.id.not_in(sorted(barred)))
    order = [User.name, User.id] if leader_first is None else [leader_first, User.name, User.id]
    rows = list(db.session.scalars(statement.order_by(*order).limit(limit)))
    _audit("case.people_search", actor_label(actor), case, found=len(rows))
    leading = set(leader_ids)
    return [Candidate(u, u.id in leading) for u in rows]
