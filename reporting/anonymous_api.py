"""The anonymous link's JSON API: report, then follow up with the receipt code.

Every route here is public and leaves no trace (trygg/privacy.py); when the link is
switched off they all answer a plain 404 (reporting/anonymous_views.hide_when_off).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, session
from flask_babel import gettext as _

from reporting import anonymous
from reporting.schemas import (
    AnonymousReportSchema,
    AnonymousStatusSchema,
    ReceiptIssuedSchema,
    ReceiptSchema,
)
from reporting.service import ReportError
from trygg import privacy
from trygg.api import ApiError, documented, load_json
from trygg.extensions import db
from trygg.security import public

bp = Blueprint("anonymous_api", __name__, url_prefix="/api/v1")
privacy.no_trace(bp)

TAGS = ("anonymous",)


def _throttled(exc: anonymous.Throttled) -> ApiError:
    return ApiError(
        429,
        {"_request": [_("Too many attempts from your network. Wait a little and try again.")]},
        headers={"Retry-After": str(exc.retry_after)},
    )


def _no_session() -> ApiError:
    return ApiError(401, {"_request": [_("Enter your receipt code first.")]})


@bp.post("/anonymous/reports")
@public
@documented(
    "Send a report without an account; the receipt code in the answer is shown only once",
    body=AnonymousReportSchema,
    response=ReceiptIssuedSchema,
    status=201,
    tags=TAGS,
    errors=(404, 413, 415, 429),
)
def submit_report() -> tuple[Response, int]:
    """Store an anonymous report; answer its receipt code and reference."""
    data = load_json(AnonymousReportSchema())
    try:
        report, code = anonymous.submit(data, address=request.remote_addr)
    except anonymous.Throttled as exc:
        raise _throttled(exc) from None
    except ReportError as exc:
        raise ApiError(exc.status, {exc.field: [str(exc)]}) from None
    body = {"receipt": anonymous.format_receipt(code), "reference": report.reference}
    return jsonify(ReceiptIssuedSchema().dump(body)), 201


@bp.post("/anonymous/session")
@public
@documented(
    "Start following up an anonymous report with its receipt code",
    body=ReceiptSchema,
    response=AnonymousStatusSchema,
    tags=TAGS,
    errors=(401, 404, 429),
)
def start_session() -> Response:
    """Open the report of a receipt code; 401 with one generic message; 429 when throttled."""
    typed = load_json(ReceiptSchema())["receipt"]
    try:
        report = anonymous.start_follow_up(typed, address=request.remote_addr)
    except anonymous.Throttled as exc:
        raise _throttled(exc) from None  # a refused attempt is not counted
    except anonymous.ReceiptInvalid:
        db.session.commit()  # keep the failure counted
        raise ApiError(401, {"receipt": [_("The receipt code is not valid.")]}) from None
    anonymous.begin_session(session, report)
    return jsonify(AnonymousStatusSchema().dump(anonymous.status_of(report)))


@bp.get("/anonymous/report")
@public
@documented(
    "The state of the report this anonymous session follows",
    response=AnonymousStatusSchema,
    tags=TAGS,
    errors=(401, 404),
)
def report_status() -> Response:
    """Reference, state in plain words and messages of the followed report."""
    report = anonymous.session_report(session)
    if report is None:
        raise _no_session()
    return jsonify(AnonymousStatusSchema().dump(anonymous.status_of(report)))


@bp.delete("/anonymous/session")
@public
@documented("End the anonymous follow-up session", tags=TAGS, errors=(404,))
def end_session() -> Response:
    """Forget the followed report in this browser session."""
    anonymous.end_session(session)
    return jsonify({})
