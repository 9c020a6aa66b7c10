"""The reporter's view of their case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
from handling.codes import EXPORT_RECIPIENTS
from handling.models import Case
from handling.presenters import Forms, _errors_of
from handling.views.base import Page, _user, bp
from handling.views.inputs import load_form
from handling.workflow import (
    FINISHED_STATES,
    CaseError,
)
from reporting import service as reporting
from reporting.models import Report
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
    return _reporter_page(report, actor, forms)


@bp.post("/my-reports/<id:report_id>/case/identity-consent")
@allow()
def reporter_identity_consent(report_id: int) -> Page | Response:
    """The reporter agrees, or no longer agrees, to be named to kinds of recipient of
    an export (only where their identity is protected)."""
    user = _user()
    report = reporting.own_report(user, report_id)
    actor = reporting.reporter_actor(report, user)
    try:
        schema = reporter_schemas.IdentityConsentSchema()
        data = load_form(schema, absent_as_empty=True)
        change = service.set_identity_consents(
            report,
            data["recipients"],
            actor=actor,
            answering=data["answering"],
            asked_until=data["asked_until"],
        )
    except (ValidationError, CaseError) as exc:
        db.session.rollback()
        report = reporting.own_report(user, report_id)
        # A box's error ("recipients.0") is the group's: said by the fieldset.
        errors: dict[str, list[str]] = {}
        for name, messages in _errors_of(exc).items():
            errors.setdefault(name.split(".", 1)[0], []).extend(messages)
        return _reporter_page(report, actor, Forms("consent", request.form, errors))
    if change.changed:
        flash(_("Your choice is saved. The case handler is told of it."), "success#h-consent")
    else:
        flash(_("Nothing changed."), "info#h-consent")
    return redirect(url_for(".reporter_case", report_id=report_id, _anchor="h-consent"), 303)


@dataclass(frozen=True)
class Asked:
    codes: list[str]
    labels: str
    first: datetime
    # The newest of them: the form answers no question asked after it.
    last: datetime


def _asked(case: Case) -> Asked | None:
    """What the case handler asked the reporter to agree to, unanswered: the kinds of
    recipient in words, and the day of the first question."""
    asked = service.pending_requests(case)
    if not asked:
        return None
    codes = sorted(asked)
    labels = ", ".join(str(EXPORT_RECIPIENTS[code]) for code in codes)
    return Asked(codes, labels, min(asked.values()), max(asked.values()))


def _reporter_page(report: Report, actor: str, forms: Forms) -> Page:
    view = service.reporter_view(report, actor=actor)
    service.news_read(view, _user().id)
    report_page = (
        url_for("reporting.my_report", report_id=report.id)
        if "reporting.my_report" in current_app.view_functions
        else None
    )
    protected = service.identity_protected(view.case) and not report.anonymous
    html = render_template(
        "handling/reporter_case.html",
        view=view,
        report=report,
        forms=forms,
        errors=forms.errors,
        report_page=report_page,
        finished=view.state in FINISHED_STATES,
        protected=protected,
        consents=service.identity_consents(view.case) if protected else {},
        asked=_asked(view.case) if protected else None,
        recipients=EXPORT_RECIPIENTS,
    )
    if forms.errors:
        audit.keep_audited()  # the 400 rolls back the rest
        return html, 400
    return html
