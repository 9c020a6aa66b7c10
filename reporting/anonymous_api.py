"""The anonymous link's JSON API for reporting: send a report, get a receipt code.

Every route here is public and leaves no trace (trygg/privacy.py); when the link is
switched off they all answer a plain 404 (trygg/anonymous_link.hide_when_off).
Following up with the receipt code (the session, the report's case and its messages) is
handling's part of the API: handling/anonymous_api.py.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from reporting import anonymous
from reporting.api import report_refused
from reporting.schemas import AnonymousReportSchema, ReceiptIssuedSchema
from reporting.service import ReportError
from trygg import anonymous_link, privacy
from trygg.api import documented, load_json
from trygg.security import public

bp = Blueprint("anonymous_api", __name__, url_prefix="/api/v1")
bp.register_error_handler(ReportError, report_refused)
privacy.no_trace(bp)
bp.url_value_preprocessor(anonymous_link.hide_blueprint_when_off)

TAGS = ("anonymous",)


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
        raise anonymous_link.throttled(exc.retry_after) from None
    body = {"receipt": anonymous.format_receipt(code), "reference": report.reference}
    return jsonify(ReceiptIssuedSchema().dump(body)), 201
