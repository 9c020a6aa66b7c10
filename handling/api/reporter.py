"""The reporter's API: their case and its messages."""

from __future__ import annotations

from flask import Response, jsonify

from handling import reporter_schemas, service
from handling.api.base import NOT_FOUND, _user, bp
from reporting import service as reporting
from reporting.models import Report
from trygg.api import documented, load_json
from trygg.security import allow

# -- the reporter's side ----------------------------------------------------------------


@bp.get("/reports/<id:report_id>/messages")
@allow()
@documented(
    "Your report's case: its state in plain words, the feedback when closed, and messages",
    response=reporter_schemas.ReporterCaseSchema,
    tags=("reports",),
    errors=NOT_FOUND,
)
def reporter_messages(report_id: int) -> Response:
    """Owner only; internal notes never appear."""
    report = reporting.own_report(_user(), report_id)
    view = service.reporter_view(report, actor=reporting.reporter_actor(report, _user()))
    service.news_read(view, _user().id)
    return jsonify(reporter_schemas.ReporterCaseSchema().dump(view))


@bp.post("/reports/<id:report_id>/messages")
@allow()
@documented(
    "Answer the case handler about your report",
    body=reporter_schemas.ReporterMessageInSchema,
    response=reporter_schemas.ReporterMessageOutSchema,
    status=201,
    tags=("reports",),
    errors=NOT_FOUND,
)
def reporter_post_message(report_id: int) -> tuple[Response, int]:
    """The reporter writes to the handler (owner only)."""
    report = reporting.own_report(_user(), report_id)
    data = load_json(reporter_schemas.ReporterMessageInSchema())
    actor = reporting.reporter_actor(report, _user())
    message = service.post_reporter_message(report, data["body"], actor=actor)
    case = service.reporter_case(report)
    service.record_read(case, actor, part="messages", level="reporter")
    out = {
        "id": service.public_message_id(case, message.id),
        "author_kind": "reporter",
        "body": data["body"].strip(),
        "created_at": message.created_at,
    }
    return jsonify(reporter_schemas.ReporterMessageOutSchema().dump(out)), 201


def _consent_out(report: Report) -> Response:
    case = service.reporter_case(report)
    given = service.identity_consents(case)
    protected = service.identity_protected(case) and not report.anonymous
    asked = service.pending_requests(case) if protected else {}
    out = {
        "protected": protected,
        "consents": [{"recipient": r, "given_at": at} for r, at in sorted(given.items())],
        "asked": [{"recipient": r, "asked_at": at} for r, at in sorted(asked.items())],
    }
    return jsonify(reporter_schemas.IdentityConsentOutSchema().dump(out))


@bp.get("/reports/<id:report_id>/identity-consent")
@allow()
@documented(
    "Who you agreed may learn that you reported, if the case is exported to them",
    response=reporter_schemas.IdentityConsentOutSchema,
    tags=("reports",),
    errors=NOT_FOUND,
)
def identity_consent(report_id: int) -> Response:
    """Owner only. Where your identity is protected (a varsel, a confidential report),
    an export of the case names you only to the kinds of recipient listed here."""
    return _consent_out(reporting.own_report(_user(), report_id))


@bp.put("/reports/<id:report_id>/identity-consent")
@allow()
@documented(
    "Agree, or no longer agree, to be named to kinds of recipient of an export",
    body=reporter_schemas.IdentityConsentSchema,
    response=reporter_schemas.IdentityConsentOutSchema,
    tags=("reports",),
    errors=(400, 404),
)
def set_identity_consent(report_id: int) -> Response:
    """Owner only; the whole list (one left out is withdrawn, or, if the case handler
    asked for it and it is among `answering`, or that is not sent, declined). 400 where
    your identity is not protected in the case."""
    report = reporting.own_report(_user(), report_id)
    data = load_json(reporter_schemas.IdentityConsentSchema())
    actor = reporting.reporter_actor(report, _user())
    service.set_identity_consents(
        report,
        data["recipients"],
        actor=actor,
        answering=data["answering"],
        asked_until=data["asked_until"],
    )
    return _consent_out(report)
