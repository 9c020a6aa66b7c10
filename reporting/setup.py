"""Binding the reporting package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from reporting import api, models, service, views  # noqa: F401 - models register their tables
from trygg.web import register_nav


def register(app: Flask) -> None:
    """Register reporting's blueprints and menu entries."""
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav("reporting.report_form", _l("Report an incident"), *views.REPORTER_ROLES)
    register_nav("reporting.my_reports", _l("My reports"), *views.REPORTER_ROLES)
