"""The reporting JSON API: submit a report, list and read one's own, download files."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import FileStorage

from reporting import service, views
from reporting.form_input import REPORT_SCHEMA
from reporting.schemas import (
    ReportCreatedSchema,
    ReportDetailSchema,
    ReportSchema,
    ReportSummarySchema,
)
from trygg import dumping, paging
from trygg.api import (
    ApiError,
    documented,
    error_response,
    load_json,
    refuse_unstorable,
    schema_error,
)
from trygg.i18n import gettext as _
from trygg.security import allow
from trygg.web import answer_not_found

bp = Blueprint("api_reporting", __name__, url_prefix="/api/v1")
# A report that is not the caller's own, or none: the JSON 404 (no view catches it).
answer_not_found(bp, service.ReportNotFound)


@bp.errorhandler(service.ReportError)
def report_refused(exc: service.ReportError) -> Response:
    """A refused report as JSON: the field to fix with its message, and the status."""
    return error_response(exc.status, {exc.field: [str(exc)]})


ROLES = views.REPORTER_ROLES
CREATED_SCHEMA = ReportCreatedSchema()


def _too_large() -> ApiError:
    limit = current_app.config["TRYGG"]["narrative_max_chars"]
    return ApiError(
        413,
        {
            "_request": [
                _(
                    "The report is too large. The description may have at most %(n)s "
                    "characters; send files as multipart/form-data.",
                    n=limit,
                )
            ]
        },
    )


def _read_multipart() -> tuple[dict[str, Any], list[FileStorage]]:
    """A multipart body: the report as JSON in the "data" part, files in "files"."""
    # csrf_token: Flask-WTF also accepts the token as a form field.
    if len(request.form.getlist("data")) > 1 or "data" in request.files:
        # Two reports, or one sent as a file: never pick one part and ignore the rest.
        raise ApiError(
            400, {"data": [_('Send the report once, as a text part named "data", not as a file.')]}
        )
    unknown = sorted(
        (set(request.form) - {"data", "csrf_token"}) | (set(request.files) - {"files"})
    )
    if unknown:
        raise ApiError(400, {name: [_("This field is not expected here.")] for name in unknown})
    raw = request.form.get("data")
    if raw is None:
        raise ApiError(400, {"data": [_("This field is required.")]})
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        raise ApiError(400, {"data": [_("Send the report as a JSON object.")]})
    refuse_unstorable(payload)
    try:
        data = REPORT_SCHEMA.load(payload)
    except ValidationError as exc:
        raise schema_error(exc) from None
    return data, request.files.getlist("files")


def _read_submission() -> tuple[dict[str, Any], list[FileStorage]]:
    if request.mimetype == "multipart/form-data":
        return _read_multipart()
    # A JSON report is text only: load_json allows what the form may send as text, not
    # the hundreds of megabytes a request with files may carry.
    return load_json(REPORT_SCHEMA, too_large=_too_large), []


@bp.post("/reports")
@allow(*ROLES)
@documented(
    "Submit an incident report. Send JSON, or multipart/form-data with the same JSON "
    'object in a part named "data" and files in parts named "files".',
    body=ReportSchema,
    response=ReportCreatedSchema,
    status=201,
    tags=("reports",),
    errors=(401, 403, 413, 415),
    files="files",
    links={
        "GetReport": ("api_reporting.get_report", {"report_id": "$response.body#/id"}),
        "GetMessages": ("api_handling.reporter_messages", {"report_id": "$response.body#/id"}),
    },
)
def submit() -> tuple[Response, int]:
    """Store a report; 201 with its id, reference and status."""
    data, uploads = _read_submission()
    report = service.submit_report(
        data,
        reporter=current_user._get_current_object(),  # noqa: SLF001 - the real User
        uploads=uploads,
    )
    return jsonify(CREATED_SCHEMA.dump(report)), 201


@bp.get("/reports")
@allow(*ROLES)
@documented(
    "My reports, newest first, a page at a time (limit: 1 to 200, 50 by default; the "
    "next page's address is in the Link header, rel=next)",
    response=ReportSummarySchema(many=True),
    tags=("reports",),
    errors=(401, 403),
)
def list_reports() -> Response:
    """The caller's own reports (no sealed content)."""
    try:
        args = paging.page_args(request.args, (int,))
    except ValidationError as exc:
        raise schema_error(exc) from None
    page = service.reports_of(current_user, limit=args.limit, after=args.after)
    response = jsonify(dumping.dump(ReportSummarySchema, page.items, many=True))
    if page.next_cursor is not None:
        link = url_for("api_reporting.list_reports", limit=args.limit, after=page.next_cursor)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response


@bp.get("/reports/<id:report_id>")
@allow(*ROLES)
@documented(
    "One of my reports, decrypted (each reading is audited)",
    response=ReportDetailSchema,
    tags=("reports",),
    errors=(401, 403, 404),
)
def get_report(report_id: int) -> Response:
    """The caller's own report with its sealed fields opened."""
    report = service.own_report(current_user, report_id)
    content = service.open_report(
        report, actor=service.reporter_actor(report, current_user), part="report"
    )
    return jsonify(ReportDetailSchema().dump(content.as_dict()))


@bp.get("/reports/<id:report_id>/attachments/<id:attachment_id>")
@allow(*ROLES)
@documented(
    "Download an attachment of one of my reports (application/octet-stream)",
    tags=("reports",),
    errors=(401, 403, 404),
)
def get_attachment(report_id: int, attachment_id: int) -> Response:
    """The decrypted file, as a download (never inline)."""
    report = service.own_report(current_user, report_id)
    return views.stream_attachment(
        report, attachment_id, service.reporter_actor(report, current_user)
    )
