"""The retention JSON API: policies and status for admins, a case's deletion date and
legal hold for its handlers, and holds by reference for admins (who never read cases).

A case the caller may not see answers 404, never 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from handling import service as handling
from handling.errors import CaseError, CaseNotFound
from handling.models import Case
from handling.states import AccessLevel
from reporting.models import Report
from reporting.service import typed_reference
from retention import schemas, service
from retention.exports import access, document
from retention.exports.files import access_pdf, case_pdf, download
from retention.service import people
from trygg import audit
from trygg.accounts.models import Role, User
from trygg.api import ApiError, documented, load_json, schema_error
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import allow

bp = Blueprint("api_retention", __name__, url_prefix="/api/v1")
TAGS = ("retention",)


def _not_found() -> ApiError:
    return ApiError(404, {"_request": [_("Not found.")]})


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _case(case_id: int) -> Case:
    try:
        return handling.case_for(_user(), case_id, levels=(AccessLevel.HANDLER,), lock=True)
    except CaseNotFound:
        audit.keep_audited()  # an excluded handler's attempt
        raise _not_found() from None


def _by_reference(reference: str) -> Case:
    case = db.session.scalar(
        select(Case)
        .join(Report, Report.id == Case.report_id)
        .where(Report.reference == typed_reference(reference), Report.erased_month.is_(None))
    )
    if case is None:
        raise _not_found()
    return case


def _case_retention(case: Case) -> dict[str, Any]:
    items = service.due_items(within_days=365 * 100, report_id=case.report_id)
    hold = service.active_hold(case.id)
    return {
        "delete_on": items[0].due_at if items else None,
        "rule": items[0].rule if items else None,
        "hold": hold,
    }


@bp.get("/retention/policies")
@allow(Role.ADMIN)
@documented("Retention policies", response=schemas.PolicySchema(many=True), tags=TAGS)
def policies() -> Response:
    return jsonify(schemas.PolicySchema(many=True).dump(service.policies()))


@bp.put("/retention/policies/<id:policy_id>")
@allow(Role.ADMIN)
@documented(
    "Change a retention policy's months",
    body=schemas.PolicyInSchema,
    response=schemas.PolicySchema,
    tags=TAGS,
    errors=(400, 404),
)
def set_policy(policy_id: int) -> Response:
    data = load_json(schemas.PolicyInSchema())
    try:
        policy = service.set_months(policy_id, data["months"], actor=actor_label(_user()))
    except service.PolicyNotFound:
        raise _not_found() from None
    db.session.commit()
    return jsonify(schemas.PolicySchema().dump(policy))


@bp.get("/retention/status")
@allow(Role.ADMIN)
@documented("Retention counts: due, held, deleted", response=schemas.StatusSchema, tags=TAGS)
def status() -> Response:
    return jsonify(schemas.StatusSchema().dump(service.status()))


@bp.get("/cases/<id:case_id>/retention")
@allow(Role.HANDLER)
@documented(
    "When the case is to be deleted, and its legal hold",
    response=schemas.CaseRetentionSchema,
    tags=TAGS,
    errors=(404,),
)
def case_retention(case_id: int) -> Response:
    return jsonify(schemas.CaseRetentionSchema().dump(_case_retention(_case(case_id))))


@bp.put("/cases/<id:case_id>/hold")
@allow(Role.HANDLER)
@documented(
    "Place a legal hold on the case",
    body=schemas.HoldInSchema,
    response=schemas.CaseRetentionSchema,
    tags=TAGS,
    errors=(400, 404),
)
def place_hold(case_id: int) -> Response:
    case = _case(case_id)
    data = load_json(schemas.HoldInSchema())
    service.place_hold(case, data["reason"], actor=actor_label(_user()))
    db.session.commit()
    return jsonify(schemas.CaseRetentionSchema().dump(_case_retention(case)))


@bp.delete("/cases/<id:case_id>/hold")
@allow(Role.HANDLER)
@documented(
    "Lift the case's legal hold",
    response=schemas.CaseRetentionSchema,
    tags=TAGS,
    errors=(404,),
)
def lift_hold(case_id: int) -> Response:
    case = _case(case_id)
    try:
        service.lift_hold(case, actor=actor_label(_user()))
    except service.HoldNotFound:
        raise _not_found() from None
    db.session.commit()
    return jsonify(schemas.CaseRetentionSchema().dump(_case_retention(case)))


@bp.post("/retention/holds")
@allow(Role.ADMIN)
@documented(
    "Place a legal hold on a case by its reference (admins do not read cases)",
    body=schemas.HoldByReferenceInSchema,
    response=schemas.HoldSchema,
    status=201,
    tags=TAGS,
    errors=(400, 404),
)
def admin_hold() -> tuple[Response, int]:
    data = load_json(schemas.HoldByReferenceInSchema())
    case = _by_reference(data["reference"])
    hold = service.place_hold(case, data["reason"], actor=actor_label(_user()))
    db.session.commit()
    return jsonify(schemas.HoldSchema().dump(hold)), 201


@bp.delete("/retention/holds/<reference>")
@allow(Role.ADMIN)
@documented(
    "Lift a case's legal hold by its reference",
    response=schemas.HoldSchema,
    tags=TAGS,
    errors=(404,),
)
def admin_lift(reference: str) -> Response:
    case = _by_reference(reference)
    try:
        hold = service.lift_hold(case, actor=actor_label(_user()))
    except service.HoldNotFound:
        raise _not_found() from None
    db.session.commit()
    return jsonify(schemas.HoldSchema().dump(hold))


@bp.post("/cases/<id:case_id>/exports")
@allow(Role.HANDLER)
@documented(
    "Export the case for an authority: a PDF, or the same as JSON (audited with reason "
    "and recipient; a protected reporter (a varsel's, a confidential report's) is named only "
    "to a recipient they agreed to on their case page)",
    body=schemas.ExportInSchema,
    tags=TAGS,
    errors=(400, 404),
)
def export_case(case_id: int) -> Response:
    case = _case(case_id)
    data = load_json(schemas.ExportInSchema())
    request_ = document.ExportRequest(data["recipient"], data["reason"], data["sections"])
    doc = document.build(case, _user(), request_)
    db.session.commit()
    return download(doc, data["format"], doc["reference"], case_pdf)


def _format() -> str:
    try:
        form: str = schemas.FormatQuerySchema().load(request.args.to_dict())["format"]
    except ValidationError as exc:
        raise schema_error(exc) from None
    return form


@bp.post("/cases/<id:case_id>/identity-consent-requests")
@allow(Role.HANDLER)
@documented(
    "Ask a protected reporter (a varsel's, a confidential report's) whether they agree to "
    "be named to kinds of recipient of an export; they answer on their case page and the "
    "case's handlers are told (audited; a confidential reporter only by the assignee)",
    body=schemas.ConsentRequestInSchema,
    response=schemas.ConsentRequestOutSchema,
    status=201,
    tags=TAGS,
    errors=(400, 404),
)
def ask_consent(case_id: int) -> tuple[Response, int]:
    case = _case(case_id)
    data = load_json(schemas.ConsentRequestInSchema())
    try:
        asked = document.ask_consent(case, _user(), data["recipients"])
    except CaseError as exc:
        raise ApiError(400, exc.messages()) from None
    waiting = sorted(handling.pending_requests(case))
    db.session.commit()
    out = schemas.ConsentRequestOutSchema().dump({"asked": asked, "waiting": waiting})
    return jsonify(out), 201


@bp.get("/account/my-data")
@allow()
@documented(
    "Everything Trygg stores about you as reporter or exposed employee (JSON or PDF; audited)",
    query=schemas.FormatQuerySchema,
    tags=TAGS,
    errors=(400,),
)
def my_data() -> Response:
    form = _format()
    user = _user()
    doc = access.build(user, actor=actor_label(user))
    db.session.commit()
    return download(doc, form, "trygg-my-data", access_pdf)


@bp.post("/retention/access-requests")
@allow(Role.ADMIN)
@documented(
    "Answer a person's access request: their account data only; reports and cases never "
    "reach an admin, the person downloads them from their account (audited with reason)",
    body=schemas.AccessRequestInSchema,
    tags=TAGS,
    errors=(400, 404),
)
def access_request() -> Response:
    data = load_json(schemas.AccessRequestInSchema())
    person = db.session.scalar(select(User).where(User.email == data["email"].strip().lower()))
    if person is None:
        raise ApiError(404, {"email": [_("No user has this e-mail address.")]})
    doc = access.build(person, actor=actor_label(_user()), reason=data["reason"], with_cases=False)
    db.session.commit()
    return download(doc, data["format"], "trygg-access-request", access_pdf)


@bp.post("/retention/erase-user")
@allow(Role.ADMIN)
@documented(
    "Erase an account's personal data; its cases stay, pseudonymous (audited)",
    body=schemas.EraseUserInSchema,
    status=204,
    tags=TAGS,
    errors=(400, 404),
)
def erase_user() -> tuple[str, int]:
    data = load_json(schemas.EraseUserInSchema())
    person = db.session.scalar(select(User).where(User.email == data["email"].strip().lower()))
    if person is None:
        raise ApiError(404, {"email": [_("No user has this e-mail address.")]})
    me = _user()
    try:
        people.erase_person(person, actor=actor_label(me), actor_id=me.id)
    except people.CannotEraseSelf:
        raise ApiError(400, {"email": [_("You cannot erase your own account.")]}) from None
    db.session.commit()
    return "", 204
