"""Importing users from CSV: `email`, `name`, `roles`, `units`, `manages`, `represents`.

A user is known by their e-mail address. A line whose user exists changes their name,
roles and units to the file's; otherwise the user is created, with no password: they
get in with a set-password code, as any new user does (nobody is e-mailed on import).
Roles are role codes (employee, handler, manager, safety_rep, amu, admin); units are
unit names, which must exist (import the units first); `manages` names the units the
user leads, `represents` those they are safety representative for. A column left out
of the file leaves that value as it is; an empty cell means none. An import never
deactivates, removes or reactivates anyone.

Separation of duties holds here as on the admin page: a line giving administrator
together with handler or safety representative is refused. An existing user who gains
a role that reads cases gets a full reset (password and two-factor), its code e-mailed
to their own address, as the admin page does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from marshmallow import ValidationError, validate
from sqlalchemy import select

from trygg import audit, org
from trygg.accounts import csv_import
from trygg.accounts import service as accounts
from trygg.accounts.csv_import import Change, Plan, Row
from trygg.accounts.models import CASE_READING_ROLES, User
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

REQUIRED = ("email", "name", "roles")
OPTIONAL = ("units", "manages", "represents")


@dataclass(frozen=True)
class Wanted:
    """A user as a line wants them (units by id)."""

    email: str
    name: str
    roles: frozenset[str]
    units: frozenset[int] | None
    manages: frozenset[int] | None
    represents: frozenset[int] | None


def _units(row: Row, column: str, units: dict[str, org.Unit]) -> frozenset[int] | None:
    names = csv_import.split_list(row.get(column))
    if names is None:
        return None
    missing = [name for name in names if name not in units]
    if missing:
        raise accounts.AccountError(
            _l("There is no unit named %(name)s. Import the units first.", name=missing[0])
        )
    return frozenset(units[name].id for name in names)


def _wanted(row: Row, units: dict[str, org.Unit]) -> Wanted:
    """The line as a user; AccountError (or ValidationError) says what is wrong."""
    extra = csv_import.too_many_cells(row)
    if extra:
        raise accounts.AccountError(extra)
    email = accounts.normalise_email(row.get("email") or "")
    validate.Email(error=str(_l("Not a valid e-mail address.")))(email)
    if len(email) > 254:
        raise accounts.AccountError(_l("Not a valid e-mail address."))
    name = row.get("name") or ""
    if not name or len(name) > 120:
        raise accounts.AccountError(_l("A name of 1 to 120 characters is needed."))
    roles = {role.lower() for role in csv_import.split_list(row.get("roles")) or []}
    accounts.check_roles(roles)
    return Wanted(
        email,
        name,
        frozenset(roles),
        _units(row, "units", units),
        _units(row, "manages", units),
        _units(row, "represents", units),
    )


def _existing(emails: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        found.update(
            (u.email, u) for u in db.session.scalars(select(User).where(User.email.in_(chunk)))
        )
    return found


def _final(user: User | None, wanted: Wanted) -> tuple[set[int], set[int], set[int]]:
    """(member of, manages, represents) after the line: columns left out keep the
    user's own (nothing, for a new user); leading or representing a unit is membership."""
    managed = {m.unit_id for m in user.memberships if m.is_manager} if user else set()
    represented = {m.unit_id for m in user.memberships if m.is_safety_rep} if user else set()
    member = {m.unit_id for m in user.memberships} if user else set()
    if wanted.manages is not None:
        managed = set(wanted.manages)
    if wanted.represents is not None:
        represented = set(wanted.represents)
    if wanted.units is not None:
        member = set(wanted.units)
    return member | managed | represented, managed, represented


def _differences(user: User, wanted: Wanted, names: dict[int, str]) -> tuple[str, ...]:
    member, managed, represented = _final(user, wanted)
    before = _final(user, Wanted(user.email, user.name, frozenset(), None, None, None))
    fields = []
    if user.name != wanted.name:
        fields.append("name")
    if user.roles != set(wanted.roles):
        fields.append(
            f"roles: {'|'.join(sorted(user.roles))} \u2192 {'|'.join(sorted(wanted.roles))}"
        )
    for label, old, new in zip(
        ("units", "manages", "represents"), before, (member, managed, represented), strict=True
    ):
        if old != new:
            fields.append(f"{label}: {_names(old, names)} \u2192 {_names(new, names)}")
    return tuple(fields)


def _names(ids: set[int], names: dict[int, str]) -> str:
    return "|".join(sorted(names[i] for i in ids)) or "-"


def plan_users(data: bytes, *, actor: str) -> Plan:
    """Check a user file and work out what it changes (nothing is stored).

    Raises ImportFileError for a file that cannot be read at all."""
    rows = csv_import.read(data, REQUIRED, OPTIONAL)
    plan = Plan()
    units = {unit.name: unit for unit in org.all_units()}
    by_id = {unit.id: unit for unit in units.values()}
    names = {unit.id: unit.name for unit in units.values()}
    lines: dict[str, int] = {}
    wanted: list[tuple[Row, Wanted]] = []
    for row in rows:
        try:
            item = _wanted(row, units)
        except (accounts.AccountError, ValidationError) as exc:
            message = exc.messages[0] if isinstance(exc, ValidationError) else exc
            plan.error(row.line, message)
            continue
        if item.email in lines:
            plan.error(
                row.line,
                _l("%(name)s is also on line %(line)s.", name=item.email, line=lines[item.email]),
            )
            continue
        lines[item.email] = row.line
        wanted.append((row, item))
    if plan.errors:
        return plan
    existing = _existing([item.email for _row, item in wanted])
    for row, item in wanted:
        user = existing.get(item.email)
        fields: tuple[str, ...]
        if user is None:
            fields = (f"roles: {'|'.join(sorted(item.roles))}",)
            plan.changes.append(Change(row.line, "create", item.email, fields))
        else:
            fields = _differences(user, item, names)
            if not fields:
                plan.unchanged += 1
                continue
            plan.changes.append(Change(row.line, "update", item.email, fields))
        plan.steps.append(partial(_save, user, item, by_id, actor))
    return plan


def _save(user: User | None, item: Wanted, by_id: dict[int, org.Unit], actor: str) -> None:
    member, managed, represented = _final(user, item)

    def pick(ids: set[int]) -> list[org.Unit]:
        return [by_id[i] for i in sorted(ids)]

    if user is None:
        accounts.create_user(
            email=item.email,
            name=item.name,
            roles=item.roles,
            units=pick(member),
            managed_units=pick(managed),
            represented_units=pick(represented),
            actor=actor,
        )
        return
    gains_case_reading = not accounts.reads_cases(user) and bool(item.roles & CASE_READING_ROLES)
    accounts.update_user(
        user,
        name=item.name,
        roles=item.roles,
        units=pick(member),
        managed_units=pick(managed),
        represented_units=pick(represented),
        active=user.active,
        actor=actor,
    )
    if gains_case_reading:
        accounts.issue_password_code(user, actor=actor)


def record(plan: Plan, *, actor: str) -> None:
    """One audit entry for the run, with its counts (a dry run stores nothing)."""
    audit.record("import.users", actor=actor, object_type="user", detail=plan.counts())
