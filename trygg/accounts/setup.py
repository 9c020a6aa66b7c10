"""Binding the accounts package into the app: Flask-Login and the blueprints."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from trygg.accounts import admin, api, service, views
from trygg.accounts.models import ROLE_LABELS, Role, User
from trygg.accounts.names import display_name
from trygg.i18n import lazy_gettext as _l
from trygg.security import session_token
from trygg.web import register_nav


def load_user(user_session_id: str) -> User | None:
    """Flask-Login's loader: the user of this browser's live session, or None."""
    return service.load_session_user(user_session_id, session_token())


def init_app(app: Flask, login_manager: LoginManager) -> None:
    """Bind Flask-Login to our users and session versions."""
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Log in to continue.")
    login_manager.session_protection = "basic"


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    register_nav("admin.home", _l("Administration"), Role.ADMIN)
    register_nav("accounts.account", _l("My account"), menu="user")
    app.jinja_env.filters["person_name"] = display_name
    app.jinja_env.globals["Role"] = Role
    app.jinja_env.filters["role_label"] = lambda role: str(ROLE_LABELS.get(role, role))
    app.jinja_env.filters["role_option"] = lambda role: (role, str(ROLE_LABELS.get(role, role)))
