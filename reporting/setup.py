"""Binding the reporting package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask

# models and service are imported for their side effects: the models' tables, and the
# wrapped-key columns registered for key rotation.
from reporting import anonymous_api, anonymous_views, api, home, models, service, views  # noqa: F401
from trygg import anonymous_link, privacy
from trygg.i18n import lazy_gettext as _l
from trygg.i18n import lazy_pgettext
from trygg.roles import Role
from trygg.web import register_home_panel, register_nav


def register(app: Flask) -> None:
    """Register reporting's blueprints and menu entries."""
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    # Reporting is an employee's primary action: beside a folded menu, under a short label
    # (the verb, "Meld fra"); a case handler's queue comes first (handling/views).
    register_nav(
        "reporting.report_form",
        _l("Report an incident"),
        *views.REPORTER_ROLES,
        primary=20,
        short=lazy_pgettext("short menu label, a verb", "Report"),
    )
    register_nav("reporting.my_reports", _l("My reports"), *views.REPORTER_ROLES)
    # After a manager's tasks and a safety representative's cases and trends; for an
    # employee it is the start page's first section.
    register_home_panel(
        "reporting/_home.html", home.reporter_panel, *views.REPORTER_ROLES, order=60
    )
    # The anonymous whistleblower link: pages, JSON API and the admin switch.
    privacy.register_untraced(*anonymous_link.PREFIXES)
    app.url_value_preprocessor(anonymous_link.hide_when_off)
    app.register_blueprint(anonymous_views.bp)
    app.register_blueprint(anonymous_views.admin_bp)
    app.register_blueprint(anonymous_api.bp)
    register_nav(
        "anonymous_admin.settings", _l("Anonymous whistleblower link"), Role.ADMIN, menu="admin"
    )
