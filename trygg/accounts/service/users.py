"""Users: creating and changing accounts, their roles, units, passwords and sessions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, literal, or_, select, tuple_

from trygg import access_changes, audit, paging, signals
from trygg.accounts.errors import AccountError
from trygg.accounts.models import (
    CASE_READING_ROLES,
    ROLES,
    Membership,
    PasswordCode,
    Role,
    SignIn,
    User,
    UserRole,
)
from trygg.accounts.names import FORMER_EMPLOYEE
from trygg.accounts.service import sessions
from trygg.accounts.service.passwords import hash_password
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l
from trygg.org import Unit


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_user(email: str, *, fresh: bool = False) -> User | None:
    """The user with this e-mail address; `fresh` reads it again if already loaded."""
    query = select(User).where(User.email == normalise_email(email))
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db.session.scalar(query)


def list_users() -> list[User]:
    """Every user, by name (the CLI's list; pages use `users_page` or `users_with_roles`)."""
    return list(db.session.scalars(select(User).order_by(User.name)))


@dataclass(frozen=True)
class UserRow:
    """What the admin's user list shows of one user (read as columns, not objects)."""

    id: int
    name: str
    email: str
    active: bool
    roles: tuple[str, ...]
    units: tuple[str, ...]


# Between a user's unit names in one column: a control character no name contains.
_UNIT_SEPARATOR = "\x1f"


def users_page(
    *,
    search: str = "",
    limit: int = paging.DEFAULT_PAGE_SIZE,
    after: tuple[Any, ...] | None = None,
) -> paging.Page[UserRow]:
    """A page of users by name; `search` keeps those whose name or e-mail address
    contains it (case-insensitive); `after` is the last one's (name, id)."""
    # One statement, the roles and unit names beside each row: no account objects with
    # their secrets, roles and memberships built for a list of names.
    roles = (
        select(func.aggregate_strings(UserRole.role, ","))
        .where(UserRole.user_id == User.id)
        .scalar_subquery()
    )
    units = (
        select(func.aggregate_strings(Unit.name, _UNIT_SEPARATOR))
        .select_from(Membership)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Membership.user_id == User.id)
        .scalar_subquery()
    )
    query = (
        select(User.id, User.name, User.email, User.active, roles, units)
        .order_by(User.name, User.id)
        .limit(limit + 1)
    )
    if search:
        wanted = search.lower()
        query = query.where(
            or_(
                func.lower(User.name).contains(wanted, autoescape=True),
                User.email.contains(wanted, autoescape=True),
            )
        )
    if after is not None:
        query = query.where(
            tuple_(User.name, User.id) > tuple_(literal(after[0]), literal(after[1]))
        )
    rows = [
        UserRow(
            user_id,
            name,
            email,
            bool(active),
            tuple(sorted(role_codes.split(","))) if role_codes else (),
            tuple(sorted(unit_names.split(_UNIT_SEPARATOR))) if unit_names else (),
        )
        for user_id, name, email, active, role_codes, unit_names in db.session.execute(query)
    ]
    return paging.page_of(rows, limit, lambda u: (u.name, u.id))


def managers_of(unit_ids: Iterable[int]) -> list[User]:
    """The active line managers of these units, by name."""
    managing = select(Membership.user_id).where(
        Membership.unit_id.in_(list(unit_ids)), Membership.is_manager.is_(True)
    )
    return list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(managing), User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def safety_reps_of(unit_ids: Iterable[int]) -> list[int]:
    """The ids of the active safety representatives who represent any of these units."""
    representing = select(Membership.user_id).where(
        Membership.unit_id.in_(list(unit_ids)), Membership.is_safety_rep.is_(True)
    )
    holders = select(UserRole.user_id).where(UserRole.role == Role.SAFETY_REP)
    return list(
        db.session.scalars(
            select(User.id)
            .where(User.id.in_(representing), User.id.in_(holders), User.active.is_(True))
            .order_by(User.id)
        )
    )


@dataclass(frozen=True)
class Person:
    """Who someone is in a choice of people (read as columns, not objects)."""

    id: int
    name: str
    email: str


def users_with_roles(*roles: str, active: bool = True) -> list[Person]:
    """The (active) users holding any of these roles, by name: a few hundred at most
    where the organisation has tens of thousands of users, read as columns (their roles
    and units, which an account object brings, are not read)."""
    holders = select(UserRole.user_id).where(UserRole.role.in_(roles))
    query = (
        select(User.id, User.name, User.email)
        .where(User.id.in_(holders))
        .order_by(User.name, User.id)
    )
    if active:
        query = query.where(User.active.is_(True))
    return [Person(*row) for row in db.session.execute(query)]


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise AccountError(_l("This field is required."), field="name")
    return name


def _set_roles(user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    check_roles(wanted)
    user.role_rows = [UserRole(role=r) for r in sorted(wanted)]


def check_roles(wanted: set[str]) -> None:
    """AccountError unless `wanted` is a valid set of roles for one account: known, at
    least one, and never administrator together with a role that reads cases."""
    unknown = wanted - set(ROLES)
    if unknown:
        raise AccountError(_l("Unknown role: %(role)s", role=sorted(unknown)[0]), field="roles")
    if not wanted:
        raise AccountError(_l("Choose at least one role."), field="roles")
    if Role.ADMIN in wanted and wanted & CASE_READING_ROLES:
        raise AccountError(
            _l(
                "An administrator cannot also be a case handler or safety representative: "
                "administering Trygg never gives access to case content. Use a separate "
                "account for case work."
            ),
            field="roles",
        )


def _represented(user: User) -> set[int]:
    return {m.unit_id for m in user.memberships if m.is_safety_rep}


def _record_widening(
    user: User,
    *,
    actor: str,
    before: set[str],
    was_active: bool,
    represented_before: set[int] | None = None,
) -> None:
    """Access changes: case-reading roles given, or such an account active again; units
    added to those a safety representative represents (their shared cases are those
    units' cases: handling.service.access)."""
    for role in sorted((user.roles - before) & CASE_READING_ROLES):
        access_changes.record("role.granted", actor=actor, user_id=user.id, detail={"role": role})
    added = sorted(_represented(user) - (represented_before or set()))
    if added and Role.SAFETY_REP in user.roles:
        access_changes.record(
            "safety_rep.units", actor=actor, user_id=user.id, detail={"units": added}
        )
    kept = sorted(before & user.roles & CASE_READING_ROLES)
    if kept and user.active and not was_active:
        access_changes.record(
            "user.reactivated", actor=actor, user_id=user.id, detail={"roles": kept}
        )


def _set_units(
    user: User,
    units: Iterable[Unit],
    managed: Iterable[Unit] = (),
    represented: Iterable[Unit] = (),
) -> None:
    managed, represented = list(managed), list(represented)
    managed_ids = {u.id for u in managed}
    rep_ids = {u.id for u in represented}
    all_units = {u.id: u for u in [*units, *managed, *represented]}
    user.memberships = [
        Membership(
            unit_id=uid, unit=unit, is_manager=uid in managed_ids, is_safety_rep=uid in rep_ids
        )
        for uid, unit in sorted(all_units.items())
    ]


def create_user(
    *,
    email: str,
    name: str,
    roles: Iterable[str],
    units: Iterable[Unit] = (),
    managed_units: Iterable[Unit] = (),
    represented_units: Iterable[Unit] = (),
    password: str | None = None,
    actor: str = "system",
) -> User:
    """Create a user; AccountError if the e-mail is taken or a value is invalid."""
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError(_l("A user with this e-mail address already exists."), field="email")
    user = User(email=email, name=_check_name(name), active=True, session_version=1)
    _set_roles(user, roles)
    _set_units(user, units, managed_units, represented_units)
    if password is not None:
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    _record_widening(user, actor=actor, before=set(), was_active=True)
    audit.record(
        "user.create",
        actor=actor,
        object_type="user",
        object_id=user.id,
        detail={"roles": sorted(user.roles), "units": sorted(m.unit_id for m in user.memberships)},
    )
    return user


def update_user(
    user: User,
    *,
    name: str,
    roles: Iterable[str],
    units: Iterable[Unit],
    managed_units: Iterable[Unit] = (),
    represented_units: Iterable[Unit] = (),
    active: bool,
    actor: str,
) -> User:
    """Change a user's name, roles, units and active flag."""
    before_roles, was_active, represented = set(user.roles), user.active, _represented(user)
    user.name = _check_name(name)
    _set_roles(user, roles)
    _set_units(user, units, managed_units, represented_units)
    if user.active and not active:
        sessions.end_all(user)
    user.active = active
    db.session.flush()
    _record_widening(
        user,
        actor=actor,
        before=before_roles,
        was_active=was_active,
        represented_before=represented,
    )
    audit.record(
        "user.update",
        actor=actor,
        object_type="user",
        object_id=user.id,
        detail={
            "roles_before": sorted(before_roles),
            "roles": sorted(user.roles),
            "units": sorted(m.unit_id for m in user.memberships),
            "active": active,
        },
    )
    return user


def deactivate_user(user: User, *, actor: str) -> None:
    """Deactivate a user and end all their sessions."""
    user.active = False
    sessions.end_all(user)
    db.session.flush()
    audit.record("user.deactivate", actor=actor, object_type="user", object_id=user.id)


def set_password(user: User, password: str, *, actor: str) -> None:
    """Set a new password; every existing session of the user ends."""
    user.password_hash = hash_password(password)
    sessions.end_all(user)
    db.session.flush()
    audit.record("user.password", actor=actor, object_type="user", object_id=user.id)


def end_all_sessions(user: User, *, actor: str) -> None:
    """Log the user out everywhere."""
    sessions.end_all(user)
    db.session.flush()
    audit.record("user.logout_everywhere", actor=actor, object_type="user", object_id=user.id)


def reads_cases(user: User) -> bool:
    """Whether the user holds a role that reads case content."""
    return bool(user.roles & CASE_READING_ROLES)


def reset_by_mail(user: User) -> bool:
    """Whether resetting the account must never give a code that someone else sees: it
    reads case content, or a domain package says it is shown details of a case
    (`signals.shown_case_details`: a follow-up task's responsible person). An admin
    who took such an account over with a code they were shown would read them."""
    if reads_cases(user):
        return True
    return any(answer for _receiver, answer in signals.shown_case_details.send(user))


def reset_by_other(
    user: User, *, actor: str, action: str, change: str, detail: dict[str, object] | None = None
) -> None:
    """After someone else reset a user's password or two-factor: every session of the
    user ends, the chain records `action`, and when the user can read case content the
    access-changes page shows `change`."""
    sessions.end_all(user)
    db.session.flush()
    audit.record(action, actor=actor, object_type="user", object_id=user.id)
    if reads_cases(user):
        access_changes.record(change, actor=actor, user_id=user.id, detail=detail)


def erase_user(user: User, *, actor: str) -> None:
    """Erase an account's personal data (name, e-mail, password, two-factor, roles,
    units, sign-ins, codes); the row stays, deactivated, so that cases and the audit log
    that refer to its id stay intact and pseudonymous ("former employee"). Domain
    packages forget their own rows about the user (retention/service/people.py)."""
    user.active = False
    sessions.end_all(user)
    user.name = FORMER_EMPLOYEE
    user.email = f"erased-{user.id}@erased.invalid"
    user.password_hash = None
    user.totp_secret = None
    user.totp_pending = None
    user.totp_enabled = False
    user.wrapped_key = None
    user.last_login_at = None
    for model in (SignIn, PasswordCode, UserRole, Membership):
        db.session.execute(delete(model).where(model.user_id == user.id))
    db.session.expire(user, ["role_rows", "memberships"])
    db.session.flush()
    audit.record("user.erase", actor=actor, object_type="user", object_id=user.id)
