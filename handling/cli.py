"""`trygg cases ...`: operational views of case handling. Never prints case content."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from handling import service
from handling.models import Case, Deadline, HandlerGroup
from handling.workflow import ACTIVE_STATES, CaseError
from trygg.accounts import service as accounts
from trygg.extensions import db, utcnow
from trygg.ids import ID_MAX

cases_cli = AppGroup("cases", help="Case handling: routing, groups and deadlines (no content).")


@cases_cli.command("warnings")
def warnings_command() -> None:
    """Active cases routed to the fallback group or to no one."""
    rows = service.routing_warnings()
    for row in rows:
        click.echo(f"case {row.case_id}\t{row.warning}\tgroup {row.group_id or '-'}")
    click.echo(f"{len(rows)} case(s) need routing attention")


@cases_cli.command("groups")
def groups_command() -> None:
    """Handler groups, their flags and member ids."""
    for group in service.handler_groups():
        flags = [
            f for f, on in (("default", group.is_default), ("fallback", group.is_fallback)) if on
        ]
        members = ",".join(str(i) for i in group.member_ids) or "-"
        click.echo(f"{group.id}\t{group.name}\t{'/'.join(flags) or '-'}\tmembers {members}")


@cases_cli.command("overdue")
def overdue_command() -> None:
    """Open deadlines that have passed: case id, step, due time (UTC)."""
    rows = db.session.scalars(
        select(Deadline)
        .where(
            Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at < utcnow()
        )
        .order_by(Deadline.due_at)
    ).all()
    for row in rows:
        click.echo(f"case {row.case_id}\t{row.kind}\tdue {row.due_at.isoformat()}")
    click.echo(f"{len(rows)} overdue deadline(s)")


@cases_cli.command("recompute-deadlines")
def recompute_command() -> None:
    """Apply the current deadline policies to every active case (after a policy change)."""
    count = 0
    for case in db.session.scalars(select(Case).where(Case.state.in_(ACTIVE_STATES))):
        service.recompute_deadlines(case)
        count += 1
    db.session.commit()
    click.echo(f"recomputed deadlines of {count} active case(s)")


@click.command("break-glass")
@click.argument("email")
@click.option("--group", "group_name", help="Give access to every case of this handler group.")
@click.option("--case", "case_id", type=int, help="Give access to this one case.")
@click.option("--reason", required=True, help="Why (shown to every handler; no case content).")
@with_appcontext
def break_glass_command(
    email: str, group_name: str | None, case_id: int | None, reason: str
) -> None:
    """Break glass: give one named handler access when no one with access is left.

    Every handler and the safety representative see it on the access-changes page and
    are notified. Use it only when no handler of the group can grant access.
    """
    person = accounts.find_user(email)
    if person is None:
        raise click.ClickException(f"no user with the e-mail address {email}")
    group = case = None
    if group_name is not None:
        group = db.session.scalar(select(HandlerGroup).where(HandlerGroup.name == group_name))
        if group is None:
            raise click.ClickException(f"no handler group named {group_name}")
    if case_id is not None:
        case = service.get_case(case_id) if 0 < case_id <= ID_MAX else None
        if case is None:
            raise click.ClickException(f"no case {case_id}")
    try:
        count = service.break_glass(person, reason, group=group, case=case)
    except CaseError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{person.email} now has access to {count} case(s); every handler is told")
