"""The access-changes page, for handlers and the safety representative."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from trygg import paging
from trygg.access_changes import PER_PAGE, actor_name, page
from trygg.accounts.models import Role
from trygg.i18n import lazy_gettext as _l
from trygg.security import allow
from trygg.web import register_nav

bp = Blueprint("access_changes", __name__)


@bp.get("/access-changes")
@allow(Role.HANDLER, Role.SAFETY_REP)
def index() -> str | tuple[str, int]:
    """Every change that widened access to case content, newest first, a page at a time."""
    try:
        args = paging.page_args(request.args, (int,), default=PER_PAGE)
    except ValidationError as exc:
        return paging.refused(exc)
    shown = page(current_user._get_current_object(), args.limit, args.after)  # noqa: SLF001
    more: dict[str, Any] = {"limit": args.limit} if request.args.get("limit") else {}
    return render_template(
        "access_changes.html",
        page=shown,
        describe=shown.describe,
        actor_name=lambda actor: actor_name(actor, shown.names),
        next_page=url_for(".index", **more, after=shown.next_cursor) if shown.next_cursor else None,
        first_page=url_for(".index", **more) if args.after else None,
    )


def init_app(app: Flask) -> None:
    """Register the page and its menu link (for handlers and the safety representative)."""
    app.register_blueprint(bp)
    register_nav("access_changes.index", _l("Access changes"), Role.HANDLER, Role.SAFETY_REP)
