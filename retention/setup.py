"""Binding the retention package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask

from notifications import scheduler
from retention import api, cli, models, views  # noqa: F401 - models must be registered
from retention.service.daily import daily_job


def register(app: Flask) -> None:
    """The retention API, and the daily run as a job of the scheduler tick."""
    app.register_blueprint(api.bp)
    views.register(app)
    scheduler.register_job("retention", daily_job)


def register_cli(app: Flask) -> None:
    """The `trygg retention` and `trygg export` command groups."""
    app.cli.add_command(cli.retention_cli)
    app.cli.add_command(cli.export_cli)
