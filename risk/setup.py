"""Binding the risk package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask

from notifications import scheduler
from risk import api, demo, models, patterns, views  # noqa: F401 - models: the trends index
from risk.assessment import api as assessment_api
from risk.assessment import cli as assessment_cli
from risk.assessment import demo as assessment_demo
from risk.assessment import models as assessment_models  # noqa: F401 - the tables
from risk.assessment import triggers
from risk.assessment import views as assessment_views
from trygg import demo as kernel_demo


def register(app: Flask) -> None:
    """Register the trends and assessment pages and API, their menu entries, the
    scheduler's risk jobs and the demo's incidents and assessment."""
    app.register_blueprint(api.bp)
    views.register(app)
    app.register_blueprint(assessment_api.bp)
    assessment_views.register(app)
    kernel_demo.register_seed_hook(demo.seed_incidents)
    kernel_demo.register_seed_hook(assessment_demo.seed_assessment)
    # Re-assessment triggers and measure deadlines (notifications never imports risk).
    scheduler.register_job("risk_triggers", triggers.scan_job)
    scheduler.register_job("risk_measures", triggers.measures_job)
    # Trend patterns protected before the day's first visitor asks, and pruned.
    scheduler.register_job(patterns.JOB, patterns.job)


def register_cli(app: Flask) -> None:
    """The `trygg risk` command group."""
    app.cli.add_command(assessment_cli.risk_cli)
