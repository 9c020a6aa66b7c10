"""Who may handle a case: the one rule, as one SQL predicate.

A handler sees a case when all of these hold:

- they hold the handler role, their account is active, and they are not excluded from
  the case (conflict of interest, recusal);
- and either they were a member of the case's group when the case came to it
  (`HandlerGroupMember.joined_at` ≤ `Case.group_since`), or someone who had access gave
  them a grant for the case while it is in that group (`CaseGrant`): a handler with
  access, the group's lead, an assignment by a handler, or the break-glass command on
  the server. A grant counts while the grantee is still a member of the group, except
  a break-glass grant, which needs no membership.

So an administrator who adds someone to a group widens access to new cases only (the
access-changes page shows it, and the group's handlers are told); existing cases are
granted by those who have them. `handler_sees` is used by the queue (a WHERE clause)
and by the per-case check (`can_handle`), so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Integer,
    SQLColumnExpression,
    and_,
    case,
    cast,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from handling.models import Case, CaseExclusion, CaseGrant, HandlerGroup, HandlerGroupMember
from handling.states import GrantKind
from notifications.scheduler import in_ids
from trygg import access_changes
from trygg.access_changes import AccessChange
from trygg.accounts.models import User, UserRole
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.roles import Role

BREAK_GLASS = GrantKind.BREAK_GLASS


# The rule's own tables, aliased: each EXISTS below names exactly its own alias as its
# FROM and correlates everything else to whichever enclosing query holds it (the Case,
# and the user id's table when the id is a column), however deep. Left to SQLAlchemy's
# auto-correlation, a subquery correlates only to the query right around it, and one
# with a single table not at all: `handler_sees(User.id)` or a member column two levels
# out would silently become "any active user", "any member" (tests/handling/test_grants.py).
_MEMBER = aliased(HandlerGroupMember)
_GRANT = aliased(CaseGrant)
_ROLE = aliased(UserRole)
_USER = aliased(User)
_EXCLUSION = aliased(CaseExclusion)


def _where(own: Any, *conditions: Any) -> Exists:
    return exists().where(*conditions).correlate_except(own)


def handler_sees(user_id: int | SQLColumnExpression[int] | None) -> ColumnElement[bool]:
    """SQL: the user may handle the `Case` row (correlated: use in a query over Case).

    `user_id` is an id, or a column of an enclosing query (a member's, a user's)."""
    if user_id is None:
        return false()
    member, grant = _MEMBER, _GRANT
    in_group = and_(member.group_id == Case.group_id, member.user_id == user_id)
    member_when_it_came = _where(member, in_group, member.joined_at <= Case.group_since)
    granted = _where(
        grant,
        grant.case_id == Case.id,
        grant.user_id == user_id,
        grant.group_id == Case.group_id,
        or_(grant.kind == BREAK_GLASS, _where(member, in_group)),
    )
    active_handler = and_(
        _where(_ROLE, _ROLE.user_id == user_id, _ROLE.role == Role.HANDLER),
        _where(_USER, _USER.id == user_id, _USER.active.is_(True)),
    )
    excluded = _where(_EXCLUSION, _EXCLUSION.case_id == Case.id, _EXCLUSION.user_id == user_id)
    return and_(active_handler, ~excluded, or_(member_when_it_came, granted))


def can_handle(user_id: int | None, case_id: int) -> bool:
    """Whether the user may handle this case (the queue's rule, for one case)."""
    found = db.session.scalar(select(Case.id).where(Case.id == case_id, handler_sees(user_id)))
    return found is not None


def seeing_by_case(case_ids: Iterable[int]) -> dict[int, set[int]]:
    """Case id → the members of its group who may handle it (one query, the same rule).

    A break-glass grantee outside the group is not among them (they are told nothing
    of the case's events; they find it in their queue)."""
    ids = sorted(set(case_ids))
    out: dict[int, set[int]] = {case_id: set() for case_id in ids}
    if not ids:
        return out
    member = aliased(HandlerGroupMember)
    rows = db.session.execute(
        select(Case.id, member.user_id)
        .join(member, member.group_id == Case.group_id)
        .where(in_ids(Case.id, ids), handler_sees(member.user_id))
    )
    for case_id, user_id in rows:
        out[case_id].add(user_id)
    return out


# -- access changes from case handling (the entries on /access-changes) ------------------


def _group_name(group_id: object) -> str:
    group = db.session.get(HandlerGroup, group_id) if isinstance(group_id, int) else None
    return group.name if group is not None else "–"


def _member_added(change: AccessChange) -> str:
    return _(
        "Added to the handler group %(group)s: sees its new cases; existing ones only when granted",
        group=_group_name(change.detail.get("group")),
    )


def _lead_added(change: AccessChange) -> str:
    return _(
        "Made lead of the handler group %(group)s: may give its members access to its cases",
        group=_group_name(change.detail.get("group")),
    )


def _rule_created(change: AccessChange) -> str:
    return _(
        "A routing rule sends new cases to the handler group %(group)s",
        group=_group_name(change.detail.get("group")),
    )


def _rule_deleted(change: AccessChange) -> str:
    return _(
        "A routing rule to the handler group %(group)s was removed: its new cases go elsewhere",
        group=_group_name(change.detail.get("from")),
    )


def _granted(change: AccessChange) -> str:
    if change.detail.get("kind") == GrantKind.ASSIGNED:
        return _("Given case %(case)s by assignment", case=change.object_id)
    return _("Given access to case %(case)s", case=change.object_id)


def _granted_shown_to(viewer: User) -> ColumnElement[bool]:
    """A grant of a case is listed to the handlers who may handle the case: one excluded
    from it would read that a case they do not see went to a member of their group. The
    safety representative, who handles no case, sees every grant."""
    if not viewer.has_role(Role.HANDLER):
        return true()
    # The id cast only where the entry is a grant (CASE: other kinds' ids are no numbers).
    granted_id = case((AccessChange.kind == "case.granted", cast(AccessChange.object_id, Integer)))
    return exists(select(Case.id).where(Case.id == granted_id, handler_sees(viewer.id)))


def _break_glass(change: AccessChange) -> str:
    if change.object_type == "case":
        where = _("case %(case)s", case=change.object_id)
    else:
        where = _(
            "every case of the handler group %(group)s",
            group=_group_name(change.detail.get("group")),
        )
    return _break_glass_to(change, where)


def _break_glass_unnamed(change: AccessChange) -> str:
    """Break-glass to one case, for a handler who may not handle it (`_break_glass_case_
    shown_to`): that the glass was broken, by whom, for whom and why, not which case."""
    return _break_glass_to(change, _("a case you do not handle"))


def _break_glass_to(change: AccessChange, where: str) -> str:
    return _(
        "Break-glass access to %(where)s, given on the server. Reason: %(reason)s",
        where=where,
        reason=change.detail.get("reason", ""),
    )


def _break_glass_case_shown_to(viewer: User) -> ColumnElement[bool]:
    """Which break-glass entries name their case to the viewer: as a grant's, to the
    handlers who may handle the case (the one let in among them) and the safety
    representative. Every handler is shown the entry (no one is let in silently); one
    excluded from the case must not learn from it that the case exists. A group's
    break-glass names the group alone, to everyone."""
    if not viewer.has_role(Role.HANDLER):
        return true()
    one_case = and_(AccessChange.kind == BREAK_GLASS, AccessChange.object_type == "case")
    # The id cast only where the entry is about a case (CASE, as in _granted_shown_to).
    case_id = case((one_case, cast(AccessChange.object_id, Integer)))
    return or_(
        ~one_case, exists(select(Case.id).where(Case.id == case_id, handler_sees(viewer.id)))
    )


def register_access_change_kinds() -> None:
    """Describe handling's kinds of entries on the access-changes page."""
    access_changes.register_kind("group.member_added", _member_added)
    access_changes.register_kind("group.lead_added", _lead_added)
    access_changes.register_kind("routing_rule.created", _rule_created)
    access_changes.register_kind("routing_rule.deleted", _rule_deleted)
    access_changes.register_kind("case.granted", _granted, _granted_shown_to)
    access_changes.register_kind(
        BREAK_GLASS,
        _break_glass,
        object_shown_to=(_break_glass_case_shown_to, _break_glass_unnamed),
    )
