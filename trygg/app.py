"""The application factory: a table of contents, one call per concern, no side effects.

This is the composition root: the only kernel module that imports domain packages, to
register their blueprints, CLI groups and signal receivers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from handling import setup as handling_setup
from notifications import setup as notifications_setup
from reporting import setup as reporting_setup
from retention import setup as retention_setup
from risk import setup as risk_setup
from trygg import (
    api,
    audit_check,
    backup,
    commands,
    database,
    formatting,
    ids,
    keyring_guard,
    keys,
    language,
    privacy,
    security,
    settings,
    signals,
    uploads,
    web,
)
from trygg.access_changes import views as access_changes_views
from trygg.accounts import setup as accounts_setup
from trygg.extensions import babel, csrf, db, login_manager, migrate

TRANSLATIONS = Path(__file__).parent / "translations"


def create_app(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the app from settings (defaults → TRYGG_CONFIG → TRYGG_* → overrides)."""
    values = settings.load(environ, overrides)
    settings.resolve_dev_secrets(values)
    settings.validate(values)
    app = Flask("trygg", instance_path=str(settings.instance_path(values)))
    configure(app, values)
    init_logging(app)
    init_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_signal_receivers(app)
    return app


# PostgreSQL's JIT compiler and parallel workers are off for the app's connections
# (issue 17). JIT compiles any statement the planner prices above `jit_above_cost`, and
# a queue's exact counters (a few thousand rows, milliseconds to run) were priced so,
# which cost 2–3 s of compiling per request on a million reports. A parallel worker
# was started for a queue page filtered by a department, whose few matching cases the
# planner overestimated: the page of 50 rows waited 11 ms for the worker's first row,
# and took 45 ms against 30 without it, the other pages the same either way
# (`bench.statements`, README "Running on PostgreSQL"). A request that reads one page
# gains nothing from a second process, and on a server it takes a core from another
# request.
POSTGRESQL_OPTIONS = "-c jit=off -c max_parallel_workers_per_gather=0"


def _engine_options(url: str) -> dict[str, Any]:
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"options": POSTGRESQL_OPTIONS}
    return options


def configure(app: Flask, values: dict[str, Any]) -> None:
    """Translate Trygg settings into Flask and extension configuration."""
    production = values["env"] == "production"
    app.config.update(
        TRYGG=values,
        SECRET_KEY=values["secret_key"],
        SQLALCHEMY_DATABASE_URI=settings.database_url(values),
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url(values)),
        MAX_CONTENT_LENGTH=values["max_content_length"],
        MAX_FORM_MEMORY_SIZE=values["max_form_memory_size"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production or values["secure_cookies"],
        SESSION_COOKIE_NAME="trygg_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=values["session_lifetime_hours"]),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=True,
        # Bound to the session instead of one hour: an incident form left open while
        # someone collects themselves must still submit.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=production,
        BABEL_DEFAULT_LOCALE=values["default_locale"],
        BABEL_DEFAULT_TIMEZONE=values["timezone"],
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        TESTING=values["env"] == "testing",
        JSON_SORT_KEYS=False,
    )
    if values["proxy_hops"]:
        hops = values["proxy_hops"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )


def init_logging(app: Flask) -> None:
    """Plain log lines at the configured level; never request bodies or client addresses."""
    app.logger.setLevel(
        getattr(logging, str(app.config["TRYGG"]["log_level"]).upper(), logging.INFO)
    )
    privacy.install_log_filter(app.logger)


def init_extensions(app: Flask) -> None:
    """Bind the unbound extensions and the kernel's hooks."""
    database.init_app(app)
    migrate.init_app(
        app, db, directory=str(settings.PROJECT_ROOT / "migrations"), compare_type=True
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=language.select_locale)
    language.install_template_gettext(app)
    keys.init_app(app)
    accounts_setup.init_app(app, login_manager)
    security.init_app(app)
    uploads.init_app(app)
    app.jinja_env.globals["languages"] = language.LANGUAGES
    formatting.init_app(app)


def register_blueprints(app: Flask) -> None:
    """The kernel's pages and APIs, then each domain package's."""
    ids.init_app(app)  # the `<id:...>` converter their rules use
    web.init_app(app)
    keyring_guard.init_app(app)  # after the policy check: a visitor is sent to log in
    api.init_app(app)
    accounts_setup.register_blueprints(app)
    access_changes_views.init_app(app)
    notifications_setup.register(app)
    reporting_setup.register(app)
    handling_setup.register(app)
    risk_setup.register(app)
    retention_setup.register(app)


def register_cli(app: Flask) -> None:
    """Product commands (`trygg ...`)."""
    audit_check.init_app(app)
    backup.init_app(app)
    commands.init_app(app)
    notifications_setup.register_cli(app)
    handling_setup.register_cli(app)
    risk_setup.register_cli(app)
    retention_setup.register_cli(app)


def register_signal_receivers(app: Flask) -> None:
    """Connect receivers across packages (see trygg/signals.py)."""
    # A stored report opens its case in the same transaction (handling, never reporting).
    signals.report_submitted.connect(handling_setup.on_report_submitted)
    # Every widening of access is told to the handlers it concerns (handling decides who).
    signals.access_changed.connect(handling_setup.on_access_changed)
    # A case reader's set-password code goes to their own address, never to the admin.
    signals.password_code_mailed.connect(notifications_setup.on_password_code_mailed)
    # So does that of an account shown details of a case (a follow-up task's person).
    signals.shown_case_details.connect(handling_setup.on_shown_case_details)
