"""`trygg risk due`: overdue reviews and measures."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from risk.assessment import triggers

risk_cli = AppGroup("risk", help="Risk assessments and action plans.")


@risk_cli.command("due")
def due_command() -> None:
    """List assessments past their review date and measures past their deadline."""
    rows = triggers.due(triggers.now_local())
    if not rows:
        click.echo("Nothing is overdue.")
        return
    for row in rows:
        if row.what == "review":
            click.echo(
                f"{row.due.isoformat()}  review   assessment {row.assessment_id}: {row.title}"
            )
        else:
            click.echo(
                f"{row.due.isoformat()}  measure  {row.measure_id} "
                f"(assessment {row.assessment_id}: {row.title})"
            )
