"""`trygg cases ...`: operational views of case handling. Never prints case content."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from handling import service
from handling.models import Case, Deadline
from handling.workflow import ACTIVE_STATES
from trygg.extensions import db, utcnow

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
