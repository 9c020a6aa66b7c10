"""The reporter's view of their case."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from handling import reporter_schemas, service
from handling.presenters import Forms, _errors_of
from handling.views.base import Page, _user, bp
from handling.views.inputs import load_form
from handling.workflow import (
    FINISHED_STATES,
    CaseError,
)
from reporting import service as reporting
from trygg import audit
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import allow

# -- the reporter's side ----------------------------------------------------------------


@bp.route("/my-reports/<id:report_id>/case", methods=["GET", "POST"])
@allow()
def reporter_case(report_id: int) -> Page | Response:
    """The reporter's view of their case: state in plain words, feedback, messages."""
    user = _user()

    report = reporting.own_report(user, report_id)
    actor = reporting.reporter_actor(report, user)
    forms = Forms()
    if request.method == "POST":
        try:
            data = load_form(reporter_schemas.ReporterMessageInSchema())
            service.post_reporter_message(report, data["body"], actor=actor)
        except (ValidationError, CaseError) as exc:
            forms = Forms("reply", request.form, _errors_of(exc))
        else:
            flash(_("Your message is sent to the case handler."), "success")
            return redirect(url_for(".reporter_case", report_id=report_id), 303)
        db.session.rollback()
        report = reporting.own_report(user, report_id)
    view = service.reporter_view(report, actor=actor)
    service.news_read(view, user.id)
    report_page = (
        url_for("reporting.my_report", report_id=report.id)
        if "reporting.my_report" in current_app.view_functions
        else None
    )
    html = render_template(
        "handling/reporter_case.html",
        view=view,
        report=report,
        forms=forms,
        errors=forms.errors,
        report_page=report_page,
        finished=view.state in FINISHED_STATES,
    )
    if forms.errors:
        audit.keep_audited()  # the 400 rolls back the rest
        return html, 400
    return html
