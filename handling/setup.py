"""Binding the handling package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from handling import (  # noqa: F401 - models must be registered with the metadata
    access,
    anonymous_api,
    anonymous_views,
    api,
    cli,
    codes,
    models,
    notices,
    service,
    views,
)
from notifications import reminders, scheduler
from reporting import news as reporting_news
from trygg import demo
from trygg.accounts.models import User, UserRole
from trygg.extensions import db
from trygg.roles import Role


def register(app: Flask) -> None:
    """Register handling's pages, API and the scheduler's jobs on its rows."""
    app.register_blueprint(api.bp)
    # The anonymous reporter's follow-up: part of the anonymous link (reporting declares
    # its addresses and switch), here because it shows the case.
    app.register_blueprint(anonymous_views.bp)
    app.register_blueprint(anonymous_api.bp)
    views.register(app)
    demo.register_seed_hook(seed_demo)
    access.register_access_change_kinds()
    # The scheduler tick's work on handling's rows: reminders and escalations of due
    # deadlines, follow-up tasks due (notifications never imports handling).
    scheduler.register_job("deadlines", notices.deadlines_job)
    scheduler.register_job("tasks", notices.tasks_job)
    scheduler.register_settled(notices.settled)
    reminders.register_deadline_kinds(codes.DEADLINE_KINDS)
    reporting_news.register(service.reports_with_news)


def register_cli(app: Flask) -> None:
    """The `trygg cases` command group."""
    app.cli.add_command(cli.cases_cli)
    app.cli.add_command(cli.break_glass_command)


def on_report_submitted(sender: object, **kwargs: object) -> None:
    """Receiver of trygg.signals.report_submitted (connected in trygg/app.py)."""
    service.on_report_submitted(sender, **kwargs)  # type: ignore[arg-type]


def on_access_changed(sender: object, **_kwargs: object) -> None:
    """Receiver of trygg.signals.access_changed (connected in trygg/app.py)."""
    notices.access_changed(sender)  # type: ignore[arg-type]


def on_shown_case_details(sender: object, **_kwargs: object) -> bool:
    """Receiver of trygg.signals.shown_case_details (connected in trygg/app.py): whether
    the account is, or was, responsible for a follow-up task ("My tasks" shows it the
    case's reference and perhaps the exposed employee's name)."""
    return service.holds_tasks(sender)  # type: ignore[arg-type]


def seed_demo() -> None:
    """The demo's case handling: an "HMS" group of the demo handlers, routed everything."""
    handler_ids = sorted(
        db.session.scalars(
            select(User.id)
            .join(UserRole)
            .where(UserRole.role == Role.HANDLER, User.active.is_(True))
        )
    )
    group = service.save_group(
        actor="demo", name="HMS", member_ids=handler_ids, is_default=True, is_fallback=True
    )
    service.create_rule(actor="demo", group_id=group.id)
