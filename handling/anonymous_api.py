"""The anonymous reporter's JSON API: follow up a report with its receipt code.

Start a session with the receipt code, read the case (state in plain words, feedback,
messages), write to the case handlers, end the session. Reporting keeps the receipt
codes and the session (reporting/anonymous.py); the case and its messages are handling's,
so these routes are here, in the same URL space as the rest of the link. Like every
route of the link they are public, leave no trace, and answer a plain 404 while the
link is switched off.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, session

from handling import reporter_schemas, service
from handling.states import Side
from handling.workflow import CaseError, CaseNotFound
from reporting import anonymous
from reporting.codes import STATUSES, label
from reporting.models import Report
from reporting.schemas import ReceiptSchema
from trygg import anonymous_link
from trygg.anonymous_link import part_of_the_link
from trygg.api import ApiError, documented, load_json
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import public

bp = Blueprint("anonymous_case_api", __name__, url_prefix="/api/v1")
part_of_the_link(bp)

TAGS = ("anonymous",)


def _no_session() -> ApiError:
    return ApiError(401, {"_request": [_("Enter your receipt code first.")]})


def _followed() -> Report:
    report = anonymous.session_report(session)
    if report is None:
        raise _no_session()
    return report


def message_out(message: service.MessageView) -> dict[str, Any]:
    """A message as the anonymous reporter sees it: the day only, no handler's name."""
    return {
        "author_kind": message.author_kind,
        "body": message.body,
        "day": message.day,
        "identity": message.identity,
    }


def case_out(report: Report) -> dict[str, Any]:
    """The reporter's view of their case (audited as a read, at day precision)."""
    try:
        view = service.anonymous_view(report)
    except CaseNotFound:
        raise ApiError(404, {"_request": [_("Not found.")]}) from None
    return {
        "reference": report.reference,
        "status": report.status,
        "status_text": label(STATUSES, report.status),
        "state": view.state,
        "state_text": view.state_text,
        "feedback": view.feedback,
        "identity_revealed": any(m.identity for m in view.messages),
        "messages": [message_out(m) for m in view.messages],
    }


@bp.post("/anonymous/session")
@public
@documented(
    "Start following up an anonymous report with its receipt code",
    body=ReceiptSchema,
    response=reporter_schemas.AnonymousCaseSchema,
    tags=TAGS,
    errors=(401, 404, 429),
)
def start_session() -> Response:
    """Open the report of a receipt code; 401 with one generic message; 429 when throttled."""
    typed = load_json(ReceiptSchema())["receipt"]
    try:
        report = anonymous.start_follow_up(typed, address=request.remote_addr)
    except anonymous.Throttled as exc:
        raise anonymous_link.throttled(
            exc.retry_after
        ) from None  # a refused attempt is not counted
    except anonymous.ReceiptInvalid:
        db.session.commit()  # keep the failure counted
        raise ApiError(401, {"receipt": [_("The receipt code is not valid.")]}) from None
    anonymous.begin_session(session, report)
    return jsonify(reporter_schemas.AnonymousCaseSchema().dump(case_out(report)))


@bp.get("/anonymous/report")
@public
@documented(
    "The report this anonymous session follows: its state, the feedback and the messages",
    response=reporter_schemas.AnonymousCaseSchema,
    tags=TAGS,
    errors=(401, 404),
)
def report_status() -> Response:
    """Reference, state in plain words, feedback when closed, and the messages."""
    return jsonify(reporter_schemas.AnonymousCaseSchema().dump(case_out(_followed())))


@bp.get("/anonymous/messages")
@public
@documented(
    "The messages between you and the case handlers, oldest first (days only)",
    response=reporter_schemas.AnonymousMessageOutSchema(many=True),
    tags=TAGS,
    errors=(401, 404),
)
def messages() -> Response:
    """The conversation; internal notes never appear."""
    out = case_out(_followed())["messages"]
    return jsonify(reporter_schemas.AnonymousMessageOutSchema(many=True).dump(out))


@bp.post("/anonymous/messages")
@public
@documented(
    'Write to the case handlers; "identity": true says who you are, which cannot be undone',
    body=reporter_schemas.AnonymousMessageInSchema,
    response=reporter_schemas.AnonymousMessageOutSchema,
    status=201,
    tags=TAGS,
    errors=(401, 404),
)
def post_message() -> tuple[Response, int]:
    """Store a sealed message from the anonymous reporter, dated to the day."""
    report = _followed()
    data = load_json(reporter_schemas.AnonymousMessageInSchema())
    try:
        message = service.post_anonymous_message(report, data["body"], identity=data["identity"])
    except CaseNotFound:
        raise ApiError(404, {"_request": [_("Not found.")]}) from None
    except CaseError as exc:
        raise ApiError(exc.status, exc.messages()) from None
    service.record_read(
        service.reporter_case(report), service.ANONYMOUS_ACTOR, part="messages", level="reporter"
    )
    out = {
        "author_kind": Side.REPORTER,
        "body": data["body"].strip(),
        "day": service.oslo_day(message.created_at),
        "identity": message.identity,
    }
    return jsonify(reporter_schemas.AnonymousMessageOutSchema().dump(out)), 201


@bp.delete("/anonymous/session")
@public
@documented("End the anonymous follow-up session", tags=TAGS, errors=(404,))
def end_session() -> Response:
    """Forget the followed report in this browser session."""
    anonymous.end_session(session)
    return jsonify({})
