"""`trygg scheduler …`, `trygg outbox …`, `trygg mail test` and `trygg serve`.

Never prints content: ids, kinds, states, counts and error codes only.
"""

from __future__ import annotations

import contextlib
import smtplib

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from werkzeug.serving import run_simple

from notifications import mail, scheduler, service
from notifications.kinds import MailState
from trygg import serving
from trygg.extensions import db

scheduler_cli = AppGroup("scheduler", help="The scheduler tick (reminders, digests, e-mail).")
outbox_cli = AppGroup("outbox", help="The e-mail outbox (no content is shown).")
mail_cli = AppGroup("mail", help="E-mail delivery.")


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Tick every scheduler_interval_seconds until stopped (the production scheduler)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"scheduler: ticking every {scheduler.interval_of(app)} s; Ctrl-C stops")
    runner = scheduler.build_scheduler(app, blocking=True)
    # A long-lived process, like a web worker: its full GC pauses walk only what ticks add.
    serving.warm_and_freeze(app)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        runner.start()


@scheduler_cli.command("tick")
def scheduler_tick() -> None:
    """Run one tick now (for cron, or to catch up by hand)."""
    result = scheduler.tick()
    if result.halted:
        raise click.ClickException(
            f"nothing done: the keyring does not open the data: {result.halted}"
        )
    jobs = ", ".join(f"{name} {count}" for name, count in result.jobs.items()) or "none"
    click.echo(
        f"jobs: {jobs}; digests released {result.digests}; "
        f"e-mails sent {result.delivery.sent}, to retry {result.delivery.retried}, "
        f"failed {result.delivery.failed} ({result.seconds:.2f} s)"
    )


@outbox_cli.command("list")
@click.option(
    "--state", type=click.Choice([str(s) for s in MailState]), help="Only rows in this state."
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def outbox_list(state: str | None, limit: int) -> None:
    """Counts by state, then rows: id, kind, user id, state, attempts, last error."""
    counts = service.outbox_counts()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
    for row in service.outbox_rows(state, limit):
        click.echo(
            f"{row.id}\t{row.kind}\tuser {row.user_id}\t{row.mail_state}\t"
            f"attempts {row.attempts}\t{row.last_error or '-'}"
        )


@outbox_cli.command("retry")
@click.argument("notification_id", type=int)
def outbox_retry(notification_id: int) -> None:
    """Send a failed row again on the next tick."""
    try:
        service.retry(notification_id)
    except service.NotificationNotFound:
        raise click.ClickException(f"no failed row with id {notification_id}") from None
    db.session.commit()
    click.echo(f"row {notification_id} will be sent on the next tick")


@outbox_cli.command("purge-sent")
@click.option(
    "--older-than", "days", type=click.IntRange(min=1), required=True, help="Age in days."
)
def outbox_purge(days: int) -> None:
    """Delete sent (and unsent by choice) notifications older than DAYS days."""
    count = service.purge_sent(days)
    db.session.commit()
    click.echo(f"deleted {count} row(s) older than {days} day(s)")


@mail_cli.command("test")
@click.argument("address")
def mail_test(address: str) -> None:
    """Send a test e-mail to ADDRESS with the SMTP settings."""
    if not mail.current_settings().host:
        # A test that sends nothing must not say "sent": this is the check of the settings.
        raise click.ClickException(
            "no smtp_host is set (TRYGG_SMTP_HOST): nothing was sent; without it Trygg "
            "writes each e-mail to the log instead"
        )
    try:
        message_id = mail.send_test(address)
    except (OSError, smtplib.SMTPException) as exc:
        raise click.ClickException(f"could not send: {type(exc).__name__}: {exc}") from None
    click.echo(f"sent {message_id}")


def local_address(host: str, port: int) -> str:
    """The address links to the development server use: all interfaces ("0.0.0.0",
    "::") as this machine's loopback, an IPv6 address in brackets."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming them, not binding
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--reload/--no-reload", default=False, help="Restart when code changes.")
@with_appcontext
def serve(host: str, port: int, reload: bool) -> None:
    """The development server with the scheduler tick in the same process (`make run`).

    In production run gunicorn for the web (no tick) and `trygg scheduler run`.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["TRYGG"]["base_url"]:
        # E-mail links lead to this server (`PORT=8080 make run`), not to the default port.
        app.config["TRYGG"]["base_url"] = local_address(host, port)
    scheduler.start_embedded(app, reloader=reload)
    try:
        run_simple(host, port, app, use_reloader=reload, threaded=True)
    finally:
        scheduler.stop_embedded()
