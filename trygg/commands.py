"""The kernel's product commands: `trygg units`, `trygg users`, `trygg import`, `trygg demo`.

Registered by the composition root (`trygg/app.py`); the console script is `trygg/cli.py`.
Commands call the same services as the pages. Errors print one line and exit non-zero.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from trygg import audit, demo, org
from trygg.accounts import service as accounts
from trygg.accounts.models import CASE_READING_ROLES
from trygg.cli_import import import_cli
from trygg.extensions import db

units_cli = AppGroup("units", help="Manage the unit tree.")
users_cli = AppGroup("users", help="Manage users.")
demo_cli = AppGroup("demo", help="The demo organisation.")


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("no password on standard input")
    return password


def _unit_or_fail(name: str) -> org.Unit:
    unit = org.find_unit(name)
    if unit is None:
        raise click.ClickException(f"no unit named {name!r}")
    return unit


def _code_line(issued: accounts.IssuedCode) -> str:
    until = issued.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    if issued.code is None:
        return (
            f"set-password code sent by e-mail to {issued.mailed_to} (works once, until "
            f"{until}); the user chooses a password, and sets up two-factor authentication "
            "again where their role needs it"
        )
    return (
        f"set-password code: {issued.code} (works once, until {until}; the user enters it "
        "with their e-mail address at /account/set-password)"
    )


OWN_CHOICE = (
    "handlers, safety representatives and those responsible for follow-up tasks choose "
    "their own password: {hint}; the set-password code goes by e-mail to their own "
    "address, never through you"
)


def _user_or_fail(email: str) -> accounts.User:
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email!r}")
    return user


@units_cli.command("create")
@click.argument("name")
@click.option("--parent", help="Name of the parent unit.")
@click.option("--headcount", type=click.IntRange(min=0), default=0, show_default=True)
def units_create(name: str, parent: str | None, headcount: int) -> None:
    """Create a unit."""
    parent_unit = _unit_or_fail(parent) if parent else None
    try:
        unit = org.create_unit(name, parent=parent_unit, headcount=headcount)
    except org.OrgError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record("unit.create", actor="cli", object_type="unit", object_id=unit.id)
    db.session.commit()
    click.echo(f"created unit {unit.name} (id {unit.id})")


@units_cli.command("list")
def units_list() -> None:
    """Show the unit tree."""
    for node in org.tree():
        click.echo(
            f"{'  ' * node.depth}{node.unit.name} (id {node.unit.id}, {node.unit.headcount})"
        )


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(accounts.ROLES))
@click.option("--unit", "units", multiple=True, help="Unit the user belongs to (repeatable).")
@click.option("--manages", "managed", multiple=True, help="Unit the user leads (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(
    email: str,
    name: str,
    roles: tuple[str, ...],
    units: tuple[str, ...],
    managed: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a user; without --password-stdin, print a set-password code for them."""
    if password_stdin and CASE_READING_ROLES.intersection(roles):
        raise click.ClickException(OWN_CHOICE.format(hint="leave out --password-stdin"))
    password = _read_password() if password_stdin else None
    try:
        user = accounts.create_user(
            email=email,
            name=name,
            roles=roles,
            units=[_unit_or_fail(u) for u in units],
            managed_units=[_unit_or_fail(u) for u in managed],
            password=password,
            actor="cli",
        )
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    # A new account has no case yet: its code may be printed here, on the server.
    issued = None if password else accounts.issue_password_code(user, actor="cli", show=True)
    db.session.commit()
    click.echo(
        f"created user {user.email} (id {user.id}) with roles {', '.join(sorted(user.roles))}"
    )
    if issued is not None:
        click.echo(_code_line(issued))


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True)
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set a user's password (ends all their sessions); not for handlers, safety
    representatives or a follow-up task's responsible person (accounts.reset_by_mail)."""
    user = _user_or_fail(email)
    if accounts.reset_by_mail(user):
        hint = f"use `trygg users password-code {user.email}`"
        raise click.ClickException(OWN_CHOICE.format(hint=hint))
    try:
        accounts.set_password(user, _read_password(), actor="cli")
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"password set for {user.email}")


@users_cli.command("password-code")
@click.argument("email")
def users_password_code(email: str) -> None:
    """Reset a user's password: a set-password code (sessions end). Printed; for a
    handler, a safety representative or a follow-up task's responsible person e-mailed
    to them, with two-factor reset too."""
    user = _user_or_fail(email)
    issued = accounts.issue_password_code(user, actor="cli")
    db.session.commit()
    click.echo(_code_line(issued))


@users_cli.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Deactivate a user and end their sessions."""
    user = _user_or_fail(email)
    accounts.deactivate_user(user, actor="cli")
    db.session.commit()
    click.echo(f"deactivated {user.email}")


@users_cli.command("reset-two-factor")
@click.argument("email")
def users_reset_two_factor(email: str) -> None:
    """Remove a user's authenticator so they can set it up again; for an account that
    reads cases or is shown their details, a full reset (accounts.reset_by_mail)."""
    user = _user_or_fail(email)
    issued = accounts.reset_two_factor(user, actor="cli")
    db.session.commit()
    if issued is None:
        click.echo(f"two-factor reset for {user.email}; their password is unchanged")
        return
    who = (
        "reads case content"
        if accounts.reads_cases(user)
        else "is or was responsible for follow-up tasks in cases"
    )
    click.echo(
        f"full reset for {user.email}, who {who}: their password and two-factor "
        "authentication are removed and their sessions ended"
    )
    click.echo(_code_line(issued))


@users_cli.command("list")
def users_list() -> None:
    """Show all users."""
    for user in accounts.list_users():
        state = "active" if user.active else "inactive"
        click.echo(f"{user.email}\t{user.name}\t{','.join(sorted(user.roles))}\t{state}")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
def demo_seed(if_empty: bool) -> None:
    """Create the demo organisation and one user per role, and print their logins."""
    if current_app.config["TRYGG"]["env"] == "production":
        # No override: a demo belongs in its own database, started without
        # TRYGG_ENV=production (and its made-up people never next to real reports).
        raise click.ClickException(
            "refused: TRYGG_ENV is production, and the demo would fill this database with "
            "made-up people, logins and incidents; seed a development or test instance"
        )
    logins_file = demo.logins_file(current_app.instance_path)
    if accounts.list_users():
        if if_empty:
            if logins_file.exists():
                click.echo(logins_file.read_text().rstrip())
            return
        raise click.ClickException(
            "users already exist; the demo is seeded only into an empty database"
        )
    logins = demo.seed()
    db.session.commit()
    text = demo.format_logins(logins)
    demo.save_logins(logins_file, text)
    click.echo(text)


def init_app(app: Flask) -> None:
    """Register the product command groups."""
    for group in (units_cli, users_cli, import_cli, demo_cli):
        app.cli.add_command(group)
