"""Access changes: who hears that access to cases was widened."""

from __future__ import annotations

from sqlalchemy import select

from handling import access
from handling.models import HandlerGroupMember
from handling.states import GrantKind
from notifications.kinds import Kind
from notifications.service import Event, notify_many
from trygg.access_changes import AccessChange
from trygg.accounts.models import User, UserRole
from trygg.extensions import db
from trygg.roles import Role


def _active_with_role(*roles: str) -> set[int]:
    return set(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(roles), User.active.is_(True))
        )
    )


def _handlers_of_groups(group_ids: set[int]) -> set[int]:
    if not group_ids:
        return set()
    return set(
        db.session.scalars(
            select(HandlerGroupMember.user_id).where(HandlerGroupMember.group_id.in_(group_ids))
        )
    ) & _active_with_role(Role.HANDLER)


def access_change_recipients(change: AccessChange) -> set[int]:
    """Who hears of a widening: the handlers of the groups it concerns (the group named
    in it, else the groups of the person it widens), as they were before it (not those
    who joined in the same change); no one when it concerns no group yet (a new handler:
    the page lists it, and joining a group is told); every handler and safety
    representative for break-glass. A grant of one case is told only to those of the
    group who may handle that case: one excluded from it must not learn that it exists.
    Never the one who made it, nor the one it is about.
    """
    if change.kind == GrantKind.BREAK_GLASS:
        people = _active_with_role(Role.HANDLER, Role.SAFETY_REP)
    else:
        group = change.detail.get("group")
        groups: set[int] = {group} if isinstance(group, int) else set()
        if not groups and change.user_id is not None:
            groups = set(
                db.session.scalars(
                    select(HandlerGroupMember.group_id).where(
                        HandlerGroupMember.user_id == change.user_id
                    )
                )
            )
        people = _handlers_of_groups(groups) - set(change.detail.get("with") or ())
        if change.object_type == "case":
            case_id = int(change.object_id or 0)
            people &= access.seeing_by_case([case_id])[case_id]
    if change.user_id is not None:
        people.discard(change.user_id)  # they know: it is about them
    actor = change.actor.removeprefix("user:")
    if change.actor.startswith("user:") and actor.isdigit():
        people.discard(int(actor))
    return people


def access_changed(change: AccessChange) -> None:
    """An access change: in-app and e-mail (by their preferences) to those it concerns."""
    people = access_change_recipients(change)
    if people:
        notify_many([Event(Kind.ACCESS_CHANGE, people, f"access:{change.id}", "/access-changes")])
