"""The employee's pages: the report form, the receipt, "My reports" and downloads."""

from __future__ import annotations

import json
import re
import secrets
import time as clock
from datetime import date, datetime, time
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers.response import Response as BaseResponse

from reporting import codes, news, service
from reporting.models import Report
from reporting.schemas import ReportSchema
from trygg import crypto, downloads, forms, keys, org, paging, web
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.roles import Role
from trygg.security import allow
from trygg.validation import (
    REQUIRED,
    flatten_errors,
    in_form_order,
    translate_errors,
    translate_message,
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
REPORT_SCHEMA = ReportSchema()  # keeps no state between loads: built once


@bp.context_processor
def reporting_helpers() -> dict[str, Any]:
    return {"codes": codes, "label": codes.label}


@bp.app_template_filter("code_label")
def code_label(code: str, codeset: codes.Codes) -> str:
    """`{{ values|map('code_label', codes.CAUSES) }}`: translated labels of codes."""
    return codes.label(codeset, code)


# -- the form ---------------------------------------------------------------------------


def _as_int(value: str) -> int | str:
    """A whole number, or the text unchanged so the schema names the error."""
    try:
        return int(value.strip())
    except ValueError:
        return value


def _occurred_at(day: str, clock: str) -> str | None:
    """Date and time typed in Oslo time → ISO 8601 with the Oslo offset of that moment.

    Unparseable input is passed on as typed, so the schema refuses it in its own words;
    a date or time left out makes the answer missing (not invalid).
    """
    if not day or not clock:
        return None
    try:
        moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError:
        return f"{day}T{clock}"
    return moment.replace(tzinfo=service.OSLO).isoformat()


def form_to_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as the dict ReportSchema loads (the API sends the same as JSON).

    Lists come from getlist, checkboxes and radios become booleans, whole numbers are
    parsed, and empty text becomes None (left out for required fields, so the message
    says the field is required).
    """

    def text(name: str) -> str | None:
        # Line breaks arrive as LF, as the browser counted them (trygg/uploads.py).
        value = form.get(name, "")
        return value if value.strip() else None

    def number(name: str) -> int | str | None:
        value = form.get(name, "").strip()
        return _as_int(value) if value else None

    choice = {"yes": True, "no": False}
    data: dict[str, Any] = {
        "incident_types": [v for v in form.getlist("incident_types") if v],
        "occurred_at": _occurred_at(
            form.get("occurred_date", "").strip(), form.get("occurred_time", "").strip()
        ),
        "unit_id": number("unit_id"),
        "place_type": text("place_type"),
        "channel": text("channel"),
        "counterpart_category": text("counterpart_category"),
        "counterpart_identity": text("counterpart_identity"),
        "lone_work": choice.get(form.get("lone_work", "")),
        "activity": text("activity"),
        "severity": number("severity"),
        "injury_level": text("injury_level"),
        "serious_injury": bool(form.get("serious_injury")),
        "injury_description": text("injury_description"),
        "sick_leave": text("sick_leave"),
        "sick_leave_days": number("sick_leave_days"),
        "police_report": text("police_report"),
        "police_details": text("police_details"),
        "immediate_measures": [v for v in form.getlist("immediate_measures") if v],
        "immediate_measures_text": text("immediate_measures_text"),
        "narrative": text("narrative"),
        "causes": [v for v in form.getlist("causes") if v],
        "causes_text": text("causes_text"),
        "witnesses": [{"name": v} for v in form.getlist("witness") if v.strip()],
        "on_behalf_of_user_id": number("on_behalf_of_user_id"),
        "must_not_handle": [_as_int(v) for v in form.getlist("must_not_handle") if v],
    }
    confidential = form.get("confidential", "")
    if confidential:
        data["confidential"] = {"confidential": True, "named": False}.get(
            confidential, confidential
        )
    fields = REPORT_SCHEMA.fields
    for name in [n for n, v in data.items() if v is None]:
        # A required field left empty is "missing"; an optional one falls to its default.
        if fields[name].required or fields[name].load_default is not None:
            del data[name]
    return data


# The form's inputs from top to bottom: the error summary lists problems in this order.
FORM_ORDER = (
    "_request",
    "incident_types",
    "channel",
    "occurred_date",
    "occurred_time",
    "unit_id",
    "place_type",
    "activity",
    "lone_work",
    "counterpart_category",
    "counterpart_identity",
    "counterpart_user_id",
    "severity",
    "injury_level",
    "serious_injury",
    "injury_description",
    "sick_leave",
    "sick_leave_days",
    "police_report",
    "police_details",
    "immediate_measures",
    "immediate_measures_text",
    "narrative",
    "causes",
    "causes_text",
    "witnesses",
    "exposed",
    "on_behalf_of_user_id",
    "must_not_handle",
    "confidential",
    "attachments",
)


def _field_errors(errors: dict[str, list[str]], form: MultiDict[str, str]) -> dict[str, list[str]]:
    """Errors keyed by form input (the date or the time for `occurred_at`), in form order."""
    out = dict(errors)
    when = out.pop("occurred_at", None)
    if when:
        out.update(_when_errors(form, when))
    return in_form_order(out, FORM_ORDER)


def _when_errors(form: MultiDict[str, str], refused: list[str]) -> dict[str, list[str]]:
    """The schema's refusal of `occurred_at`, on the input each problem is about.

    The schema sees one moment, or none when the date or the time is missing or cannot
    be read; the form has two inputs, and each is checked on its own so that both
    problems are named in one round (a future date and a missing time; no date and no
    time). A moment that was read and refused is about the date (ten years back, a
    future day) unless the date is today: then it is the time that lies ahead.
    """
    day_text = form.get("occurred_date", "").strip()
    clock_text = form.get("occurred_time", "").strip()
    out: dict[str, list[str]] = {}
    day: date | None = None
    clock: time | None = None
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        out["occurred_date"] = [
            _("Enter a valid date.") if day_text else translate_message(REQUIRED)
        ]
    try:
        clock = time.fromisoformat(clock_text)
    except ValueError:
        out["occurred_time"] = [
            _("Enter a valid time.") if clock_text else translate_message(REQUIRED)
        ]
    if day is not None and clock is not None:
        today = datetime.now(service.OSLO).date()
        out["occurred_time" if day == today else "occurred_date"] = refused
    elif day is not None:
        # The date alone, at its first minute, by the schema's own rules: a day in the
        # future or more than ten years back is said now, not after the time is given.
        start = datetime.combine(day, time()).replace(tzinfo=service.OSLO).isoformat()
        found = REPORT_SCHEMA.validate({"occurred_at": start}, partial=True)
        if found.get("occurred_at"):
            out["occurred_date"] = translate_errors(found["occurred_at"])
    return out


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
            limits=upload_limits(),
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
    key = _submission_key(form)
    sent = service.report_by_submission(user, key) if key else None
    if sent is not None:  # the same form again (reloaded, or clicked twice): one report
        return _sent_already(sent.id)
    digest = _content_digest(form)
    resent = _resent(digest)
    if resent is not None:  # the same text from a form Back brought again: one report
        return _sent_already(resent)
    uploads = request.files.getlist("attachments")
    had_files = any(u.filename for u in uploads)
    # A NUL taken out of a field (forms.flags_nul): said by the field, with the rest.
    held_nul = {
        ("witnesses" if name == "witness" else name): [forms.nul_message()]
        for name in forms.nul_fields()
    }
    try:
        data = REPORT_SCHEMA.load(form_to_data(form))
        if held_nul:
            return _render_form(form, _field_errors(held_nul, form), 400, files_dropped=had_files)
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
        return _render_form(form, _field_errors(errors, form), 400, files_dropped=had_files)
    except service.ReportError as exc:
        errors = _field_errors({exc.field: [str(exc)]}, form)
        return _render_form(form, errors, 400, files_dropped=had_files)
    session[SENT] = {"id": report.id, "digest": digest, "at": int(clock.time())}
    return redirect(url_for("reporting.receipt", report_id=report.id), 303)


# Back after sending brings the form again: the page is not cached, so the browser
# fetches a new one (a new token) and fills in what was typed. Sent again, the same
# text from the same browser within RESENT_WITHIN seconds is the report already stored.
# The session keeps its id and a keyed digest of the form, never the text.
SENT = "report_sent"
RESENT_WITHIN = 30 * 60


def _content_digest(form: MultiDict[str, str]) -> str:
    """A keyed digest of what the form says (not its token or CSRF token; files are
    not restored by a browser, so they are not part of it)."""
    said = sorted((k, v) for k, v in form.items(multi=True) if k not in ("csrf_token", "form_id"))
    secret = keys.keyring().derive("report-form-sent")
    return crypto.keyed_hash(secret, json.dumps(said, ensure_ascii=False))[:32]


def _resent(digest: str) -> int | None:
    """The report this browser sent with the same form lately, if there is one."""
    last = session.get(SENT)
    if not isinstance(last, dict) or last.get("digest") != digest:
        return None
    fresh = clock.time() - int(last.get("at", 0)) < RESENT_WITHIN
    return int(last["id"]) if fresh and isinstance(last.get("id"), int) else None


def _sent_already(report_id: int) -> BaseResponse:
    flash(_("This report was sent already, and it is stored once: here is its receipt."), "info")
    return redirect(url_for("reporting.receipt", report_id=report_id), 303)


def _submission_key(form: MultiDict[str, str]) -> str | None:
    """The form's token (`_defaults`), if it looks like one."""
    key = form.get("form_id", "")
    return key if 16 <= len(key) <= 64 and _TOKEN.fullmatch(key) else None


_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def upload_limits() -> dict[str, int]:
    """What a report form says of its files up front, in MB where it is a size: how
    many (`n`), each (`mb`), and all together (`total`), which is also the most the
    request body may carry (max_content_length) however the files are split."""
    cfg = current_app.config["TRYGG"]
    count, size = int(cfg["attachment_max_count"]), int(cfg["attachment_max_bytes"])
    total = min(count * size, int(current_app.config["MAX_CONTENT_LENGTH"]))
    return {"n": count, "mb": size // 1_000_000, "total": total // 1_000_000}


def not_sent_context() -> dict[str, Any]:
    """What the "not sent" page (`reporting/not_sent.html`) says of a body too large.

    The body was never read (werkzeug refuses it by its length, or stops at
    MAX_FORM_MEMORY_SIZE), so nothing typed can be shown again: the page says that
    nothing was sent and sends the reporter Back, where the browser has usually kept
    the form as it was. `files`: the body was larger than any report may be, which
    only files make it.
    """
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    return {"files": (request.content_length or 0) > limit, "limits": upload_limits()}


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
        "reporting/not_sent.html", form_url=url_for("reporting.report_form"), **not_sent_context()
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
