"""`trygg retention …`: the run, its status, policies and legal holds (no content)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from handling import service as handling
from handling.errors import CaseNotFound
from handling.models import Case
from handling.states import AccessLevel
from reporting import people_index
from reporting.models import Report
from reporting.service import typed_reference
from retention import service
from retention.codes import HOLD_REASONS
from retention.exports import document
from retention.exports.files import case_pdf
from retention.service import people
from retention.service.deletion import DueItem
from trygg.accounts.models import User
from trygg.extensions import db, utcnow

retention_cli = AppGroup("retention", help="Retention: deletion under policy, legal holds.")


@retention_cli.command("run")
@click.option(
    "--dry-run", is_flag=True, help="Print what would be deleted and why; change nothing."
)
@click.option("--limit", type=int, default=None, help="Delete at most this many (tests, drills).")
def run_command(dry_run: bool, limit: int | None) -> None:
    """Delete every case whose retention time has come (one transaction per case)."""
    now = utcnow()
    if dry_run:
        items = service.due_items(now)
        for item in items:
            if item.is_due(now):
                click.echo(f"{item.reference}\tdelete\t{item.rule}\t{item.months} months")
            elif item.held:
                click.echo(f"{item.reference}\tkept: legal hold\t{item.rule}")
        click.echo(f"{sum(i.is_due(now) for i in items)} to delete")
        return

    def bar(items: Iterator[DueItem]) -> Iterator[DueItem]:
        listed = list(items)
        with click.progressbar(listed, label="Deleting") as shown:
            yield from shown

    result = service.run(now=now, actor="cli", limit=limit, progress=bar)
    for reference in result.deleted:
        click.echo(f"deleted {reference}")
    click.echo(f"{len(result.deleted)} deleted, {result.receipts} receipt codes expired")


@retention_cli.command("status")
def status_command() -> None:
    """Counts: due now, due within 30 days, under legal hold, deleted so far."""
    for key, value in service.status().items():
        click.echo(f"{key}: {value}")


@retention_cli.command("policies")
def policies_command() -> None:
    """The retention policies (id, rule, months)."""
    for policy in service.policies():
        click.echo(f"{policy.id}\t{policy.rule}\t{policy.months}")


@retention_cli.command("set-policy")
@click.argument("policy_id", type=int)
@click.argument("months", type=int)
def set_policy_command(policy_id: int, months: int) -> None:
    """Set how many months a policy keeps things (1 … 600)."""
    try:
        policy = service.set_months(policy_id, months, actor="cli")
    except service.PolicyNotFound:
        raise click.ClickException(f"no policy {policy_id}") from None
    except ValueError:
        raise click.ClickException("months must be between 1 and 600") from None
    db.session.commit()
    click.echo(f"{policy.rule}: {policy.months} months")


def _case(reference: str) -> Case:
    case = db.session.scalar(
        select(Case)
        .join(Report, Report.id == Case.report_id)
        .where(Report.reference == typed_reference(reference), Report.erased_month.is_(None))
    )
    if case is None:
        raise click.ClickException(f"no case {reference}")
    return case


@retention_cli.command("hold")
@click.argument("reference")
@click.option("--reason", required=True, type=click.Choice(sorted(HOLD_REASONS)))
def hold_command(reference: str, reason: str) -> None:
    """Place a legal hold on a case: it is not deleted until the hold is lifted."""
    service.place_hold(_case(reference), reason, actor="cli")
    db.session.commit()
    click.echo(f"{reference}: legal hold ({reason})")


@retention_cli.command("lift")
@click.argument("reference")
def lift_command(reference: str) -> None:
    """Lift a case's legal hold."""
    try:
        service.lift_hold(_case(reference), actor="cli")
    except service.HoldNotFound:
        raise click.ClickException(f"{reference} has no legal hold") from None
    db.session.commit()
    click.echo(f"{reference}: hold lifted")


@retention_cli.command("erase-user")
@click.argument("email")
@click.option("--yes", is_flag=True, required=True, help="Confirm: this cannot be undone.")
def erase_user_command(email: str, yes: bool) -> None:
    """Erase an account's personal data; its cases stay, pseudonymous."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    people.erase_person(user, actor="cli")
    db.session.commit()
    click.echo(f"erased user {user.id}")


# How often `index-people` says how far it has come (a million reports take minutes).
PROGRESS_EVERY = 10_000


@retention_cli.command("index-people")
def index_people_command() -> None:
    """Index the accounts named by reports stored before the index (once after upgrading
    to revision 0018 or 0026; safe to run again): the access download finds them by
    index, and conflicts of interest with them are found without opening each report."""
    waiting = people_index.unindexed_count()
    if waiting:
        click.echo(f"{waiting} reports to index (about 4 minutes per million here)")
    done, told = 0, 0
    for count in people_index.backfill():
        db.session.commit()
        done += count
        if done - told >= PROGRESS_EVERY:
            click.echo(f"indexed {done} of {waiting} reports")
            told = done
    click.echo(f"indexed {done} reports")


export_cli = AppGroup("export", help="Exports of a case for an authority (audited).")


@export_cli.command("case")
@click.argument("reference")
@click.option("--handler", "email", required=True, help="The handler exporting (needs access).")
@click.option("--recipient", required=True, type=click.Choice(sorted(document.RECIPIENTS)))
@click.option("--reason", required=True, type=click.Choice(sorted(document.REASONS)))
@click.option(
    "--section",
    "sections",
    multiple=True,
    type=click.Choice(list(document.SECTIONS)),
    help="Repeat for each section (default: all but the reporter's identity).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_case_command(
    reference: str,
    email: str,
    recipient: str,
    reason: str,
    sections: tuple[str, ...],
    out: Path,
) -> None:
    """Write the case as PDF to OUT, and as JSON beside it (OUT with .json)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    case = _case(reference)
    try:
        if user is None:
            raise CaseNotFound()
        handling.case_for(user, case.id, levels=(AccessLevel.HANDLER,))
    except CaseNotFound:
        db.session.commit()
        raise click.ClickException(f"{email} may not read {reference}") from None
    chosen = list(sections) or [s for s in document.SECTIONS if s != "reporter"]
    request = document.ExportRequest(recipient, reason, chosen)
    doc = document.build(case, user, request)
    db.session.commit()
    out.write_bytes(case_pdf(doc))
    out.with_suffix(".json").write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    click.echo(f"wrote {out} and {out.with_suffix('.json')}")
