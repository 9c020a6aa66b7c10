"""The employee's pages: the report form, the receipt, "My reports" and downloads."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers.response import Response as BaseResponse

from reporting import codes, form_input, news, service
from reporting.models import Report
from trygg import downloads, forms, org, paging, web
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.roles import Role
from trygg.security import allow
from trygg.validation import (
    flatten_errors,
    translate_errors,
)
from trygg.web import answer_not_found

bp = Blueprint(
    "reporting",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/reporting",
)
# A report that is not the user's own, or none: the 404 page (no view catches it).
answer_not_found(bp, service.ReportNotFound)

# Who may report and see their own reports.
REPORTER_ROLES = (Role.EMPLOYEE, Role.MANAGER)
WITNESS_INPUTS = 3


@bp.context_processor
def reporting_helpers() -> dict[str, Any]:
    return {"codes": codes, "label": codes.label}


@bp.app_template_filter("code_label")
def code_label(code: str, codeset: codes.Codes) -> str:
    """`{{ values|map('code_label', codes.CAUSES) }}`: translated labels of codes."""
    return codes.label(codeset, code)


# -- the form ---------------------------------------------------------------------------


def _defaults() -> MultiDict[str, str]:
    """A fresh form: today's date, the user's first unit, the common choices."""
    units = current_user.units
    return MultiDict(
        {
            "occurred_date": datetime.now(service.OSLO).date().isoformat(),
            "unit_id": str(units[0].id) if units else "",
            "injury_level": "none",
            "sick_leave": "none",
            "police_report": "no",
            "confidential": "named",
            "form_id": secrets.token_urlsafe(24),
        }
    )


def _people_options(users: list[accounts.Person]) -> list[tuple[int, str]]:
    return [(u.id, f"{u.name} ({u.email})") for u in users]


def _render_form(
    form: MultiDict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
    files_dropped: bool = False,
) -> tuple[str, int]:
    if files_dropped and "attachments" not in errors:
        errors = {
            **errors,
            "attachments": [_("The files you chose were not kept. Choose them again.")],
        }
    user = current_user._get_current_object()  # noqa: SLF001 - the User behind the proxy
    is_manager = user.has_role(Role.MANAGER)
    return (
        render_template(
            "reporting/form.html",
            form=form,
            errors=errors,
            files_dropped=files_dropped,
            units=org.tree(),
            led_options=_people_options(service.employees_led_by(user)) if is_manager else [],
            is_manager=is_manager,
            handler_options=_people_options(service.handlers()),
            today=datetime.now(service.OSLO).date().isoformat(),
            witness_inputs=WITNESS_INPUTS,
            narrative_max=current_app.config["TRYGG"]["narrative_max_chars"],
            limits=form_input.upload_limits(),
        ),
        status,
    )


@bp.route("/report", methods=["GET", "POST"])
@allow(*REPORTER_ROLES)
@forms.flags_nul
def report_form() -> tuple[str, int] | BaseResponse:
    """The incident report form; on success, the receipt."""
    if request.method == "GET":
        return _render_form(_defaults(), {})
    form = request.form
    user = current_user._get_current_object()  # noqa: SLF001 - the User behind the proxy
    key = form_input.submission_key(form)
    sent = service.report_by_submission(user, key) if key else None
    if sent is not None:  # the same form again (reloaded, or clicked twice): one report
        return _sent_already(sent.id)
    digest = form_input.content_digest(form)
    resent = form_input.resent(digest)
    if resent is not None:  # the same text from a form Back brought again: one report
        return _sent_already(resent)
    uploads = request.files.getlist("attachments")
    had_files = any(u.filename for u in uploads)
    # A NUL taken out of a field (forms.flags_nul): said by the field, with the rest.
    held_nul = forms.nul_errors({"witness": "witnesses"})
    try:
        data = form_input.REPORT_SCHEMA.load(form_input.form_to_data(form))
        if held_nul:
            errors = {**held_nul, **_files_refused(uploads)}
            return _render_form(
                form, form_input.field_errors(errors, form), 400, files_dropped=had_files
            )
        report = service.submit_report(data, reporter=user, uploads=uploads, submission_key=key)
    except IntegrityError:
        # The same form's first send committed while this one was being stored.
        db.session.rollback()
        first = service.report_by_submission(user, key) if key else None
        if first is None:
            raise
        return _sent_already(first.id)
    except ValidationError as exc:
        errors = flatten_errors(translate_errors(exc.messages))
        for name, messages in held_nul.items():
            errors[name] = messages + errors.get(name, [])
        errors.update(_files_refused(uploads))
        return _render_form(
            form, form_input.field_errors(errors, form), 400, files_dropped=had_files
        )
    except service.ReportError as exc:
        errors = form_input.field_errors({exc.field: [str(exc)]}, form)
        return _render_form(form, errors, 400, files_dropped=had_files)
    form_input.remember_sent(report.id, digest)
    return redirect(url_for("reporting.receipt", report_id=report.id), 303)


def _files_refused(uploads: Iterable[service.Upload]) -> dict[str, list[str]]:
    """Why a chosen file would be refused, said with the form's other errors: told only
    "choose them again", the reporter chose the same file again and learnt in the next
    round that it was never allowed."""
    try:
        service.check_uploads(uploads)
    except service.ReportError as exc:
        return {exc.field: [str(exc)]}
    return {}


def _sent_already(report_id: int) -> BaseResponse:
    flash(_("This report was sent already, and it is stored once: here is its receipt."), "info")
    return redirect(url_for("reporting.receipt", report_id=report_id), 303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Any:
    """A body beyond MAX_CONTENT_LENGTH / MAX_FORM_MEMORY_SIZE: the "not sent" page.

    Not the form: its text never arrived, and an empty form in its place looked as if
    what was typed were gone (it is usually still there, one step Back).

    Raised while the form is parsed, which can happen before the access check (the CSRF
    check reads the form first), so the check is repeated here.
    """
    if (
        request.endpoint != "reporting.report_form"
        or not current_user.is_authenticated
        or not current_user.has_role(*REPORTER_ROLES)
    ):
        return web.http_error(exc)
    page = render_template(
        "reporting/not_sent.html",
        form_url=url_for("reporting.report_form"),
        **form_input.not_sent_context(),
    )
    return page, 413


# -- after submitting -------------------------------------------------------------------


@bp.get("/report/<id:report_id>/receipt")
@allow(*REPORTER_ROLES)
def receipt(report_id: int) -> str:
    """The reference and what happens next (the reporter's own report only)."""
    return render_template(
        "reporting/receipt.html", report=service.own_report(current_user, report_id)
    )


@bp.get("/my-reports")
@allow(*REPORTER_ROLES)
def my_reports() -> str | tuple[str, int]:
    """The user's own reports, newest first, a page at a time."""
    try:
        args = paging.page_args(request.args, (int,))
    except ValidationError as exc:
        return paging.refused(exc)
    page = service.reports_of(current_user, limit=args.limit, after=args.after)
    more: dict[str, Any] = {"limit": args.limit} if request.args.get("limit") else {}
    unread = news.unread(current_user.id) if page.items else 0
    marked = news.reports_with_news(
        current_user.id, [r.id for r in page.items], unread_count=unread
    )
    if unread and not marked and args.after is None:
        # News none of the reports has any more (its case erased since): read.
        news.settle(current_user.id, service.own_report_ids(current_user), unread)
    return render_template(
        "reporting/my_reports.html",
        reports=page.items,
        news=marked,
        next_page=url_for("reporting.my_reports", **more, after=page.next_cursor)
        if page.next_cursor
        else None,
        first_page=url_for("reporting.my_reports", **more) if args.after else None,
    )


@bp.get("/my-reports/<id:report_id>")
@allow(*REPORTER_ROLES)
def my_report(report_id: int) -> str:
    """One of the user's reports, decrypted (the opening is audited)."""
    report = service.own_report(current_user, report_id)
    content = service.open_report(
        report, actor=service.reporter_actor(report, current_user), part="report"
    )
    unit = org.get_unit(report.unit_id) if report.unit_id else None
    has_news = bool(news.reports_with_news(current_user.id, [report.id]))
    return render_template(
        "reporting/my_report.html", content=content, r=report, unit=unit, has_news=has_news
    )


def stream_attachment(report: Report, attachment_id: int, actor: str) -> Response:
    """A download response for one attachment of a report the caller may read
    (`trygg.downloads`: saved, never shown; HEAD refused before anything is opened).

    ReportNotFound if the report has no such attachment.
    """
    return downloads.sealed_download(
        lambda: service.attachment_download(report, attachment_id, actor=actor)
    )


@bp.get("/my-reports/<id:report_id>/attachments/<id:attachment_id>")
@allow(*REPORTER_ROLES)
def my_attachment(report_id: int, attachment_id: int) -> Response:
    """Download an attachment of one's own report (never shown inline)."""
    report = service.own_report(current_user, report_id)
    return stream_attachment(report, attachment_id, service.reporter_actor(report, current_user))
