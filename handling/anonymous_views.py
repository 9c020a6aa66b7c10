"""The anonymous reporter's follow-up pages: enter the receipt code, then the case.

After the receipt code, the page shows the case's state in plain words, the feedback
when it is closed, and the messages with the case handlers, with forms to answer, to
add information and files, and to say who they are. The addresses, the switch and the
page helpers belong to the anonymous link (trygg/anonymous_link.py); handling
serves these pages because they show the case, which reporting knows nothing of. Like
every page of the link they are public, leave no trace, and are a plain 404 while the
link is switched off.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers.response import Response

from handling import reporter_schemas, service
from handling.presenters import Forms
from handling.states import Side
from handling.workflow import FINISHED_STATES, CaseError, CaseNotFound
from reporting import anonymous
from reporting.codes import STATUSES, label
from reporting.models import Report
from reporting.service import ReportError
from trygg import anonymous_link, audit, forms, typed_codes
from trygg.anonymous_link import FOLLOW_UP_PATH, FOLLOW_UP_PATH_EN, part_of_the_link
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import public
from trygg.validation import flatten_errors, translate_errors

bp = Blueprint("anonymous_case", __name__, template_folder="templates")
part_of_the_link(bp)

# The forms of the case page, by the value of their "action" field.
CASE_ACTIONS = ("answer", "info", "identity")

Page = tuple[str, int]


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"format_date": format_date}


def _page(template: str, status: int = 200, **context: Any) -> Page:
    # The language switch returns to the Norwegian address, which follows the choice.
    html = render_template(
        template,
        lang_next=FOLLOW_UP_PATH,
        idle_minutes=int(current_app.config["TRYGG"]["anonymous_idle_minutes"]),
        **anonymous_link.page_context(),
        **context,
    )
    return html, status


def _here(**args: Any) -> str:
    return url_for(request.endpoint or "anonymous_case.follow_up", **args)


@dataclass(frozen=True)
class Kept:
    action: str
    body: str


def _kept(action: str) -> Kept | None:
    """The text of a case page form (`action`) sent after the session ran out.

    It is not sent: the reporter was away, and sends it themselves once the case is in
    front of them again (the handler may have written since; "Who you are" needs its
    box ticked again). Nor is it stored, in the session or anywhere else: the code page
    shows it in a text area of the code's own form, which posts it back with the code
    (`_enter_receipt`, which keeps it through a wrong code too), and the case page then
    shows it in the form it came from, to send or to copy. It is only ever in a POST body
    and the page answering it, as it was in the form it was typed into. Files are not
    kept (a browser never fills a file field in); the page says so.
    """
    body = request.form.get("body", "")
    return Kept(action, body) if action in CASE_ACTIONS and body.strip() else None


def _entry(
    status: int = 200,
    *,
    error: str | None = None,
    ended: bool = False,
    receipt: str = "",
    kept: Kept | None = None,
) -> Page:
    """The receipt code page; refused, with the code as typed (`receipt`).

    The code is the reporter's own secret on their own screen: shown back in the field,
    a one-character typo is fixed rather than typed again. It arrives in a POST body
    and is answered in the page (no-store, like every page of the link), never in an
    address or a log line. `kept` is a text that could not be sent (`_kept`).
    """
    return _page(
        "handling/anonymous/follow_up.html",
        status,
        error=error,
        ended=ended,
        receipt=receipt,
        kept=kept,
    )


@bp.route(FOLLOW_UP_PATH, methods=["GET", "POST"], endpoint="follow_up")
@bp.route(FOLLOW_UP_PATH_EN, methods=["GET", "POST"], endpoint="follow_up_en")
@public
@forms.flags_nul
def follow_up() -> Page | Response:
    """Enter the receipt code; then the case: state, feedback, messages and answers."""
    anonymous_link.english_entry()
    action = request.form.get("action", "") if request.method == "POST" else ""
    if action == "end":
        anonymous.end_session(session)
        return redirect(_here(ended=1), 303)
    if request.method == "POST" and action not in CASE_ACTIONS:
        return _enter_receipt()
    report = anonymous.session_report(session)
    if report is None:
        if request.method == "POST":
            kept = _kept(action)
            return _entry(
                401,
                error=_(
                    "You were away for a while, so the report was closed to protect you. "
                    "What you wrote was not sent: it is kept below. Enter your receipt "
                    "code again, and send it from your report."
                )
                if kept
                else _(
                    "You were away for a while, so the report was closed to protect you. "
                    "Enter your receipt code again. What you wrote was not sent."
                ),
                kept=kept,
            )
        return _entry(ended=bool(request.args.get("ended")))
    if request.method == "POST":
        return _act(report, action)
    return _case_page(report)


def _enter_receipt() -> Page | Response:
    """Check a typed receipt code within the limits; open its report in this session."""
    typed = request.form.get("receipt", "")
    kept = _kept(request.form.get("kept", ""))
    if not typed.strip():  # nothing tried: not a wrong code, and not counted as one
        return _entry(400, error=_("Enter your receipt code."), kept=kept)
    length = typed_codes.typed_length(typed)
    if length != anonymous.RECEIPT_LENGTH:
        # A symbol left out or typed twice: said as such, and (like an empty code) not
        # counted as a guess, since no code of that length exists. The length is no secret.
        return _entry(
            400,
            error=_(
                "A receipt code has %(n)s letters and digits, and you typed %(typed)s. "
                "Check that none is missing or typed twice, and try again.",
                n=anonymous.RECEIPT_LENGTH,
                typed=length,
            ),
            receipt=typed,
            kept=kept,
        )
    try:
        report = anonymous.start_follow_up(typed, address=request.remote_addr)
    except anonymous.Throttled as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        page = _entry(
            429,
            error=_(
                "Too many wrong codes have been tried from your network. "
                "Wait %(minutes)s minutes and try again.",
                minutes=minutes,
            ),
            receipt=typed,
            kept=kept,
        )
        return anonymous_link.with_retry_after(page, exc.retry_after)
    except anonymous.ReceiptInvalid:
        db.session.commit()  # keep the failure counted
        return _entry(
            401,
            error=_("The receipt code is not valid. Check it and try again."),
            receipt=typed,
            kept=kept,
        )
    anonymous.begin_session(session, report)
    if kept is not None:
        # Answered here, not redirected: the text travels in this request only.
        flash(_("What you wrote is filled in below. It is not sent yet: check it and send it."))
        return _case_page(report, Forms(kept.action, MultiDict({"body": kept.body})))
    return redirect(_here(), 303)


def _errors_of(exc: ValidationError | CaseError) -> dict[str, list[str]]:
    if isinstance(exc, CaseError):
        return exc.messages()
    return flatten_errors(translate_errors(exc.messages))


def _body() -> dict[str, Any]:
    body = request.form.get("body", "").strip()
    return {"body": body} if body else {}


def _act(report: Report, action: str) -> Page | Response:
    """Run one of the case page's forms; on a refusal, the page again with the errors."""
    status = 400
    held_nul = forms.nul_errors()
    if held_nul:  # taken out (forms.flags_nul): the reporter sees it so first
        return _case_page(report, Forms(action, request.form, held_nul), status)
    try:
        if action == "answer":
            data = reporter_schemas.AnonymousMessageInSchema().load(_body())
            service.post_anonymous_message(report, data["body"])
            done = _("Your answer is sent to the case handlers.")
        elif action == "info":
            service.add_anonymous_information(
                report, request.form.get("body"), request.files.getlist("attachments")
            )
            done = _("What you added is sent to the case handlers.")
        else:
            _reveal_identity(report)
            done = _("The case handlers can now see who you are.")
    except (ValidationError, CaseError) as exc:
        errors = _errors_of(exc)
        status = getattr(exc, "status", 400)
        if "identity" in errors:  # about the form as a whole (already revealed)
            errors.setdefault("_request", []).extend(errors.pop("identity"))
    except ReportError as exc:
        errors = {exc.field: [str(exc)]}
        status = exc.status
    except CaseNotFound:
        abort(404)
    else:
        flash(done, "success")
        return redirect(_here(), 303)
    db.session.rollback()
    followed = anonymous.session_report(session)
    if followed is None:
        abort(404)
    return _case_page(followed, Forms(action, request.form, errors), status)


def _reveal_identity(report: Report) -> None:
    """The identity form: the text, and a tick that says it cannot be undone."""
    refused = CaseError()
    data: dict[str, Any] = {}
    try:
        data = reporter_schemas.AnonymousMessageInSchema().load(_body())
    except ValidationError as exc:
        for name, messages in _errors_of(exc).items():
            for message in messages:
                refused.add(name, message)
    if request.form.get("confirm") != "on":
        refused.add("confirm", _("Tick the box to show that you know this cannot be undone."))
    if refused.errors:
        raise refused
    service.post_anonymous_message(report, data["body"], identity=True)


def _case_page(report: Report, forms: Forms | None = None, status: int = 200) -> Page:
    """The followed report's case (reading it is audited, at day precision)."""
    forms = forms or Forms()
    try:
        view = service.anonymous_view(report)
    except CaseNotFound:
        abort(404)
    days = [(day, list(messages)) for day, messages in groupby(view.messages, key=lambda m: m.day)]
    page = _page(
        "handling/anonymous/case.html",
        status,
        view=view,
        report=report,
        status_text=label(STATUSES, report.status),
        days=days,
        asked=any(m.author_kind == Side.HANDLER for m in view.messages),
        revealed=any(m.identity for m in view.messages),
        finished=view.state in FINISHED_STATES,
        forms=forms,
        errors=forms.errors,
    )
    if status >= 400:
        audit.keep_audited()  # the error answer rolls back the rest
    return page
