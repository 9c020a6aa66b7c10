"""A handler's retention page for one case (`/cases/<id>/retention`): when the case is to
be deleted and under which rule, the legal hold (place, lift), and the export for an
authority (recipient, reason, sections, PDF or JSON; audited).

Linked from the notice on the case page (templates/retention/_notice.html). The hold
forms post to retention/views.py's routes, which come back here.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from handling import service as handling
from handling.errors import CaseError
from handling.models import Case
from retention import schemas, service
from retention.admin_views import Page
from retention.codes import HOLD_REASONS
from retention.exports import document
from retention.exports.files import case_pdf, download
from retention.views import _case, bp
from trygg import audit
from trygg.accounts.models import Role, User
from trygg.extensions import db
from trygg.forms import form_input
from trygg.i18n import gettext as _
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors

MESSAGES = {
    "recipient": lambda: _("Choose who the export is for."),
    "reason": lambda: _("Choose why the case is exported."),
    "sections": lambda: _("Choose at least one part of the case to include."),
    "format": lambda: _("Choose PDF or JSON."),
}


def _retention(case: Case) -> dict[str, Any]:
    items = service.due_items(within_days=365 * 100, report_id=case.report_id)
    hold = service.active_hold(case.id)
    return {
        "delete_on": items[0].due_at if items else None,
        "rule": items[0].rule if items else None,
        "hold": hold,
        "hold_reason": str(HOLD_REASONS.get(hold.reason, hold.reason)) if hold else None,
    }


def _page(
    case: Case,
    errors: dict[str, list[str]],
    form: dict[str, Any],
    ask_errors: dict[str, list[str]] | None = None,
) -> Page:
    consents = handling.identity_consents(case)
    protected = handling.identity_protected(case)
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real User
    # A confidential reporter is named only in the assigned handler's export.
    confidential_elsewhere = case.report.confidential and not document.confidential_exporter(
        case, user
    )
    # Whom the handler may still ask the reporter about (handling.service.consent).
    askable = protected and not case.report.anonymous and not confidential_elsewhere
    asked = handling.pending_requests(case) if askable else {}
    html = render_template(
        "retention/case.html",
        case=case,
        reference=case.report.reference,
        info=_retention(case),
        reasons=HOLD_REASONS,
        recipients=document.RECIPIENTS,
        export_reasons=document.REASONS,
        sections=document.SECTIONS,
        # A varsel's or a confidential reporter is named only to the recipients they
        # agreed to (handling.service.consent).
        protected=protected,
        consents=[str(label) for r, label in document.RECIPIENTS.items() if r in consents],
        confidential_elsewhere=confidential_elsewhere,
        askable=askable,
        asked=[(str(document.RECIPIENTS[r]), at) for r, at in sorted(asked.items())],
        ask_options=[
            (r, label)
            for r, label in document.RECIPIENTS.items()
            if r not in consents and r not in asked
        ],
        errors=errors,
        ask_errors=ask_errors or {},
        form=form,
        format_date=format_date,
    )
    return (html, 400) if errors or ask_errors else html


@bp.get("/cases/<id:case_id>/retention")
@allow(Role.HANDLER)
def case_page(case_id: int) -> Page:
    """The case's deletion date, its legal hold, and the export form."""
    case = _case(case_id)
    return _page(case, {}, {"sections": ["report"], "format": "pdf"})


@bp.post("/cases/<id:case_id>/retention/export")
@allow(Role.HANDLER)
def export(case_id: int) -> Page:
    """Export the case for an authority: a download, or the form again with messages."""
    case = _case(case_id)
    schema = schemas.ExportInSchema()
    form = form_input(schema)
    try:
        data = schema.load(form)
    except ValidationError as exc:
        errors = flatten_errors(translate_errors(exc.messages))
        errors = {
            key: [MESSAGES[key]()] if key in MESSAGES else msgs for key, msgs in errors.items()
        }
        audit.keep_audited()  # an excluded handler's attempt
        return _page(case, errors, form)
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real User
    request_ = document.ExportRequest(data["recipient"], data["reason"], data["sections"])
    doc = document.build(case, user, request_)
    db.session.commit()
    return download(doc, data["format"], doc["reference"], case_pdf)


@bp.post("/cases/<id:case_id>/retention/consent-request")
@allow(Role.HANDLER)
def ask_consent(case_id: int) -> Page | Response:
    """Ask the reporter whether they agree to be named to the recipients ticked."""
    case = _case(case_id)
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real User
    try:
        data = schemas.ConsentRequestInSchema().load(
            {"recipients": request.form.getlist("recipients")}
        )
        document.ask_consent(case, user, data["recipients"])
    except ValidationError:
        errors = {"recipients": [_("Tick whom the reporter may be named to.")]}
    except CaseError as exc:
        errors = {"recipients": [str(m) for ms in exc.errors.values() for m in ms]}
    else:
        db.session.commit()
        flash(_("The reporter is asked. You are told when they answer."), "success")
        return redirect(url_for("retention.case_page", case_id=case.id), 303)
    audit.keep_audited()
    return _page(case, {}, {"sections": ["report"], "format": "pdf"}, errors)
