"""The case page's retention notice ("to be deleted on …", legal hold) and its forms.

The notice is a template global (`retention_notice`) that handling's case page calls if
it is defined; the forms post here and go back to the case page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from handling import service as handling
from handling.errors import CaseNotFound
from handling.models import Case
from handling.states import FINISHED_STATES, AccessLevel
from retention import schemas, service
from retention.codes import HOLD_REASONS, WARNING_DAYS
from trygg.accounts.models import Role, User
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.i18n import gettext as _
from trygg.security import allow

bp = Blueprint("retention", __name__, template_folder="templates")


def notice(case: Case, now: datetime | None = None) -> dict[str, Any] | None:
    """For a handler's case page: the hold in force, or the deletion date within the
    last 30 days; None otherwise."""
    now = now or utcnow()
    hold = service.active_hold(case.id)
    # Only a finished case can fall due (the deletion run's rule): an active one's page,
    # the one a handler opens all day, asks nothing more.
    items = (
        service.due_items(now, within_days=WARNING_DAYS, report_id=case.report_id)
        if case.state in FINISHED_STATES
        else []
    )
    if hold is None and not items:
        return None
    return {
        "hold": hold,
        "hold_reason": str(HOLD_REASONS.get(hold.reason, hold.reason)) if hold else None,
        "delete_on": items[0].due_at if items else None,
        "reasons": HOLD_REASONS,
    }


def _case(case_id: int) -> Case:
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real User
    try:
        return handling.case_for(user, case_id, levels=(AccessLevel.HANDLER,), lock=True)
    except CaseNotFound:
        db.session.commit()
        abort(404)


def _back(case: Case) -> Any:
    """Back to the page the form was on: the case page, or the case's retention page."""
    if request.form.get("back") == "retention":
        return redirect(url_for("retention.case_page", case_id=case.id), 303)
    # The notice is near the top of the case page, where the confirmation is: no fragment,
    # so the confirmation takes the focus and is read out.
    return redirect(url_for("handling.case", case_id=case.id), 303)


@bp.post("/cases/<id:case_id>/hold")
@allow(Role.HANDLER)
def place_hold(case_id: int) -> Any:
    """Place a legal hold from the case page."""
    case = _case(case_id)
    try:
        data = schemas.HoldInSchema().load({"reason": request.form.get("reason", "")})
    except ValidationError:
        flash(_("Choose why the case must be kept."), "error")
        return _back(case)
    service.place_hold(case, data["reason"], actor=actor_label(current_user))
    db.session.commit()
    flash(_("The case is on legal hold: it is not deleted until the hold is lifted."), "success")
    return _back(case)


@bp.post("/cases/<id:case_id>/hold/lift")
@allow(Role.HANDLER)
def lift_hold(case_id: int) -> Any:
    """Lift the legal hold from the case page."""
    case = _case(case_id)
    try:
        service.lift_hold(case, actor=actor_label(current_user))
    except service.HoldNotFound:
        abort(404)
    db.session.commit()
    flash(_("The legal hold is lifted."), "success")
    return _back(case)


def register(app: Flask) -> None:
    from retention import admin_views, case_views  # noqa: F401 - their routes are on bp

    app.register_blueprint(bp)
    admin_views.register()
    app.jinja_env.globals["retention_notice"] = notice
