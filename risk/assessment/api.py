"""The risk assessment JSON API: assessments, items, measures, evaluations, triggers,
comments and the published summary (all in the OpenAPI document)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from risk.assessment import access, display, links, participation, plan, service, triggers
from risk.assessment.access import READER_ROLES, AssessmentError, Need
from risk.assessment.models import Assessment, AssessmentVersion
from risk.assessment.schemas import (
    AssessmentDetailSchema,
    AssessmentInSchema,
    AssessmentListSchema,
    CaseItemListSchema,
    CaseLinkInSchema,
    CommentInSchema,
    CommentSchema,
    EvaluationInSchema,
    EvaluationSchema,
    ItemInSchema,
    ItemSchema,
    MeasureInSchema,
    MeasureListSchema,
    MeasureSchema,
    MeasureUpdateSchema,
    StatusInSchema,
    SummaryInSchema,
    TriggerListSchema,
)
from trygg.accounts.models import Role, User
from trygg.api import ApiError, documented, error_response, load_json
from trygg.security import allow

bp = Blueprint("api_risk_assessment", __name__, url_prefix="/api/v1/risk")
F = TypeVar("F", bound=Callable[..., Any])
ERRORS = (400, 403, 404, 409)


def _user() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001
    return user


@bp.errorhandler(AssessmentError)
def _assessment_error(exc: AssessmentError) -> Response:
    """A domain refusal (not found, forbidden, frozen, invalid) as its status with the
    field's message; the blueprint's handler, so no view converts it."""
    return error_response(exc.status, {exc.field: [str(exc)]})


@dataclass
class Shown:
    """An assessment with the version shown (and, in detail, its items)."""

    assessment: Assessment
    shown: AssessmentVersion
    items: list[Any] = field(default_factory=list)
    took_part: dict[str, bool] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.assessment, name)


def _detail(assessment: Assessment, version: AssessmentVersion | None = None) -> Response:
    version = version or assessment.latest
    shown = Shown(
        assessment,
        version,
        display.item_views(assessment, version),
        participation.took_part(version),
    )
    return jsonify(AssessmentDetailSchema().dump(shown))


@bp.get("/assessments")
@allow(*READER_ROLES)
@documented(
    "The risk assessments in your scope, each with its newest version",
    response=AssessmentListSchema,
    tags=("risk",),
)
def list_assessments() -> Response:
    """Assessments of the units you lead or represent (AMU: all)."""
    rows = [Shown(a, a.latest) for a in access.visible(_user())]
    return jsonify(AssessmentListSchema().dump({"assessments": rows}))


@bp.post("/assessments")
@allow(Role.MANAGER)
@documented(
    "Start a risk assessment for one of your units (a first draft version)",
    body=AssessmentInSchema,
    response=AssessmentDetailSchema,
    status=201,
    tags=("risk",),
    errors=ERRORS,
)
def create_assessment() -> tuple[Response, int]:
    assessment = service.create(_user(), load_json(AssessmentInSchema()))
    return _detail(assessment), 201


@bp.get("/assessments/<id:assessment_id>")
@allow(*READER_ROLES)
@documented(
    "An assessment's version (the newest, or ?version=n) with its items, levels, trends",
    response=AssessmentDetailSchema,
    tags=("risk",),
    errors=(404,),
)
def get_assessment(assessment_id: int) -> Response:
    assessment = access.load(assessment_id, _user())
    number = request.args.get("version", type=int)
    return _detail(assessment, service.version_of(assessment, number))


@bp.post("/assessments/<id:assessment_id>/items")
@allow(Role.MANAGER)
@documented(
    "Add a risk item to the draft",
    body=ItemInSchema,
    response=ItemSchema,
    status=201,
    tags=("risk",),
    errors=ERRORS,
)
def add_item(assessment_id: int) -> tuple[Response, int]:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    item = service.add_item(_user(), assessment.latest, load_json(ItemInSchema()))
    view = next(v for v in display.item_views(assessment, item.version) if v.item.id == item.id)
    return jsonify(ItemSchema().dump(view)), 201


@bp.post("/assessments/<id:assessment_id>/items/<id:ref>")
@allow(Role.MANAGER)
@documented(
    "Change a risk item of the draft (all fields)",
    body=ItemInSchema,
    response=ItemSchema,
    tags=("risk",),
    errors=ERRORS,
)
def update_item(assessment_id: int, ref: int) -> Response:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    item = next((i for i in assessment.latest.items if i.ref == ref), None)
    if item is None:
        raise access.NotFound()
    service.update_item(_user(), item, load_json(ItemInSchema()))
    view = next(v for v in display.item_views(assessment, item.version) if v.item.id == item.id)
    return jsonify(ItemSchema().dump(view))


@bp.post("/assessments/<id:assessment_id>/status")
@allow(Role.MANAGER)
@documented(
    "Put the newest version under review, back to draft, or approve it (freezes it)",
    body=StatusInSchema,
    response=AssessmentDetailSchema,
    tags=("risk",),
    errors=ERRORS,
)
def set_status(assessment_id: int) -> Response:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    service.set_status(_user(), assessment.latest, load_json(StatusInSchema())["status"])
    return _detail(assessment)


@bp.post("/assessments/<id:assessment_id>/versions")
@allow(Role.MANAGER)
@documented(
    "Start a new draft version from the approved one",
    response=AssessmentDetailSchema,
    status=201,
    tags=("risk",),
    errors=ERRORS,
)
def new_version(assessment_id: int) -> tuple[Response, int]:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    version = service.new_version(_user(), assessment)
    return _detail(assessment, version), 201


@bp.post("/assessments/<id:assessment_id>/summary")
@allow(Role.MANAGER)
@documented(
    "Publish the approved version's plain-language summary to its units' employees",
    body=SummaryInSchema,
    response=AssessmentDetailSchema,
    tags=("risk",),
    errors=ERRORS,
)
def publish(assessment_id: int) -> Response:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    version = assessment.approved
    if version is None:
        raise AssessmentError(display.NOT_APPROVED, "_request", 409)
    service.publish(_user(), version, load_json(SummaryInSchema()))
    return _detail(assessment, version)


@bp.post("/assessments/<id:assessment_id>/comments")
@allow(*READER_ROLES)
@documented(
    "Comment on the newest version, or give the safety representative's / AMU's "
    "statement on an approved one",
    body=CommentInSchema,
    response=CommentSchema,
    status=201,
    tags=("risk",),
    errors=ERRORS,
)
def add_comment(assessment_id: int) -> tuple[Response, int]:
    assessment = access.load(assessment_id, _user())
    data = load_json(CommentInSchema())
    row = participation.comment(_user(), assessment.latest, data["body"], data["kind"])
    return jsonify(CommentSchema().dump(row)), 201


@bp.get("/assessments/<id:assessment_id>/measures")
@allow(*READER_ROLES)
@documented(
    "The action plan: measures with their evaluations (?sort=deadline|status|responsible|item)",
    response=MeasureListSchema,
    tags=("risk",),
    errors=(404,),
)
def list_measures(assessment_id: int) -> Response:
    assessment = access.load(assessment_id, _user())
    sort = request.args.get("sort", "deadline")
    if sort not in plan.SORTS:
        raise ApiError(400, {"sort": [str(display.BAD_SORT)]})
    return jsonify(MeasureListSchema().dump({"measures": plan.measures(assessment, sort)}))


@bp.post("/assessments/<id:assessment_id>/measures")
@allow(Role.MANAGER)
@documented(
    "Add a measure to the action plan",
    body=MeasureInSchema,
    response=MeasureSchema,
    status=201,
    tags=("risk",),
    errors=ERRORS,
)
def add_measure(assessment_id: int) -> tuple[Response, int]:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    measure = plan.add(_user(), assessment, load_json(MeasureInSchema()))
    return jsonify(MeasureSchema().dump(measure)), 201


@bp.patch("/assessments/<id:assessment_id>/measures/<id:measure_id>")
@allow(Role.MANAGER)
@documented(
    "Change a measure: status, done date, deadline, responsible, …",
    body=MeasureUpdateSchema,
    response=MeasureSchema,
    tags=("risk",),
    errors=ERRORS,
)
def update_measure(assessment_id: int, measure_id: int) -> Response:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    measure = plan.get(assessment, measure_id)
    plan.update(_user(), measure, load_json(MeasureUpdateSchema()))
    return jsonify(MeasureSchema().dump(measure))


@bp.post("/assessments/<id:assessment_id>/measures/<id:measure_id>/evaluations")
@allow(Role.MANAGER)
@documented(
    "Evaluate a measure: worked, partly or not (not: a re-assessment task for the owner)",
    body=EvaluationInSchema,
    response=EvaluationSchema,
    status=201,
    tags=("risk",),
    errors=ERRORS,
)
def evaluate(assessment_id: int, measure_id: int) -> tuple[Response, int]:
    assessment = access.load(assessment_id, _user(), Need.EDIT)
    measure = plan.get(assessment, measure_id)
    row = plan.evaluate(_user(), measure, load_json(EvaluationInSchema()))
    return jsonify(EvaluationSchema().dump(row)), 201


@bp.get("/assessments/<id:assessment_id>/triggers")
@allow(*READER_ROLES)
@documented(
    "Open reasons to assess again, each in words that identify no one",
    response=TriggerListSchema,
    tags=("risk",),
    errors=(404,),
)
def list_triggers(assessment_id: int) -> Response:
    assessment = access.load(assessment_id, _user())
    rows = triggers.open_triggers(assessment)
    return jsonify(TriggerListSchema().dump({"triggers": rows}))


# -- cases linked in the learning review (case handlers) ---------------------------------


@bp.get("/cases/<id:case_id>/items")
@allow(Role.HANDLER)
@documented(
    "The risk items a case you handle may be linked to (assessments covering its unit)",
    response=CaseItemListSchema,
    tags=("risk",),
    errors=(404,),
)
def case_items(case_id: int) -> Response:
    return jsonify(CaseItemListSchema().dump({"items": links.choices(_user(), case_id)}))


@bp.post("/cases/<id:case_id>/links")
@allow(Role.HANDLER)
@documented(
    "Link a case you handle to a risk item (the item shows links only as a count)",
    body=CaseLinkInSchema,
    response=CaseItemListSchema,
    status=201,
    tags=("risk",),
    errors=ERRORS,
)
def link_case(case_id: int) -> tuple[Response, int]:
    data = load_json(CaseLinkInSchema())
    links.link(_user(), case_id, data["assessment_id"], data["item_ref"])
    return jsonify(CaseItemListSchema().dump({"items": links.choices(_user(), case_id)})), 201


@bp.delete("/cases/<id:case_id>/links/<id:assessment_id>/<id:item_ref>")
@allow(Role.HANDLER)
@documented(
    "Undo a case's link to a risk item (a link made by mistake)",
    response=CaseItemListSchema,
    tags=("risk",),
    errors=(400, 404),
)
def unlink_case(case_id: int, assessment_id: int, item_ref: int) -> Response:
    links.unlink(_user(), case_id, assessment_id, item_ref)
    return jsonify(CaseItemListSchema().dump({"items": links.choices(_user(), case_id)}))
