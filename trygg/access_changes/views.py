"""The access-changes page, for handlers and the safety representative."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request

from trygg.access_changes import actor_name, describe, page
from trygg.accounts.models import Role
from trygg.i18n import lazy_gettext as _l
from trygg.security import allow
from trygg.validation import small_int
from trygg.web import register_nav

bp = Blueprint("access_changes", __name__)


@bp.get("/access-changes")
@allow(Role.HANDLER, Role.SAFETY_REP)
def index() -> str:
    """Every change that widened access to case content, newest first, paged."""
    shown = page(small_int(request.args.get("page"), 1))
    return render_template(
        "access_changes.html",
        page=shown,
        describe=describe,
        actor_name=lambda actor: actor_name(actor, shown.names),
    )


def init_app(app: Flask) -> None:
    """Register the page and its menu link (for handlers and the safety representative)."""
    app.register_blueprint(bp)
    register_nav("access_changes.index", _l("Access changes"), Role.HANDLER, Role.SAFETY_REP)
