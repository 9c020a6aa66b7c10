"""`trygg import units FILE` and `trygg import users FILE`: CSV files, all or nothing.

Every line is checked before anything is stored; one bad line and nothing is imported
(the errors name their lines). `--dry-run` checks the same and lists what would change.
A second run of the same file changes nothing. One audit entry per run, with counts.
The columns: trygg/accounts/import_units.py, import_users.py and the README.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup

from trygg.accounts import csv_import, import_units, import_users
from trygg.accounts.csv_import import Plan
from trygg.extensions import db

import_cli = AppGroup("import", help="Import units and users from CSV files (all or nothing).")

ACTOR = "cli"
DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Check the file and list what would change; store nothing."
)
FILE = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def _run(file: Path, dry_run: bool, make_plan: Callable[[bytes], Plan], what: str) -> Plan:
    try:
        plan = make_plan(file.read_bytes())
    except csv_import.ImportFileError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    if plan.errors:
        for error in plan.errors:
            click.echo(f"{file}:{error.line}: {error.message}", err=True)
        db.session.rollback()
        raise click.ClickException(
            f"nothing imported: {len(plan.errors)} line(s) with errors; fix them and run again"
        )
    if dry_run:
        for change in plan.changes:
            detail = f" ({'; '.join(change.fields)})" if change.fields else ""
            click.echo(f"line {change.line}: {change.kind} {what} {change.key}{detail}")
        db.session.rollback()
        click.echo(
            f"dry run: {plan.created} to create, {plan.updated} to change, "
            f"{plan.unchanged} unchanged; nothing was stored"
        )
        return plan
    with click.progressbar(length=len(plan.steps), label=f"importing {what}s", file=None) as bar:
        csv_import.apply(plan, tick=lambda: bar.update(1))
    return plan


def _done(plan: Plan) -> None:
    db.session.commit()
    click.echo(
        f"imported: {plan.created} created, {plan.updated} changed, {plan.unchanged} unchanged"
    )


@import_cli.command("units")
@FILE
@DRY_RUN
def import_units_command(file: Path, dry_run: bool) -> None:
    """Create or update units from a CSV file (columns name, parent, headcount)."""
    plan = _run(file, dry_run, import_units.plan_units, "unit")
    if not dry_run:
        import_units.record(plan, actor=ACTOR)
        _done(plan)


@import_cli.command("users")
@FILE
@DRY_RUN
def import_users_command(file: Path, dry_run: bool) -> None:
    """Create or update users from a CSV file (columns email, name, roles, units,
    manages, represents). New users get no password and no e-mail: give them a
    set-password code (`trygg users password-code`, or the admin page)."""
    plan = _run(file, dry_run, lambda data: import_users.plan_users(data, actor=ACTOR), "user")
    if not dry_run:
        import_users.record(plan, actor=ACTOR)
        _done(plan)
