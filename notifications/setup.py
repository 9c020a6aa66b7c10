"""Binding the notifications package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask

from notifications import api, cli, models, scheduler, service, views  # noqa: F401
from trygg.accounts.models import Role
from trygg.i18n import lazy_gettext as _l
from trygg.web import register_health, register_nav


def register(app: Flask) -> None:
    """Pages, API, menu entries (with the unread count) and /healthz's report."""
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav("notifications.inbox", _l("Notifications"), badge=views.unread_badge)
    register_nav("notifications.admin_outbox", _l("E-mail outbox"), Role.ADMIN, menu="admin")
    register_nav(
        "notifications.admin_reminders", _l("Deadline reminders"), Role.ADMIN, menu="admin"
    )
    register_health("scheduler", scheduler.last_run)
    register_health("outbox", service.backlog)


def on_password_code_mailed(sender: object, **_kwargs: object) -> None:
    """Receiver of trygg.signals.password_code_mailed (connected in trygg/app.py)."""
    service.password_code(sender)  # type: ignore[arg-type]


def register_cli(app: Flask) -> None:
    """`trygg scheduler|outbox|mail|serve`."""
    for command in (cli.scheduler_cli, cli.outbox_cli, cli.mail_cli, cli.serve):
        app.cli.add_command(command)
