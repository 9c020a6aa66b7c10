"""The action plan: a sortable list of measures, adding and changing a measure, and
evaluating it."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, render_template, request
from werkzeug.wrappers.response import Response as BaseResponse

from risk.assessment import display
from risk.assessment import plan as plan_service
from risk.assessment.access import READER_ROLES, AssessmentError, Need, allowed
from risk.assessment.codes import LOWERS, MEASURE_STATES, OPEN_MEASURE_STATES, RESULTS
from risk.assessment.models import Assessment, Measure
from risk.assessment.schemas import EvaluationInSchema, MeasureInSchema, MeasureUpdateSchema
from risk.assessment.views.common import (
    Errors,
    bp,
    done,
    load,
    page_url,
    parse,
    refusal,
    user,
)
from trygg.accounts.models import Role
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import allow

Page = str | tuple[str, int] | BaseResponse


def _plan(
    assessment: Assessment, errors: Errors | None = None, status: int = 200, form: Any = None
) -> Page:
    sort = request.args.get("sort", "deadline")
    if sort not in plan_service.SORTS:
        sort = "deadline"
    measures = plan_service.measures(assessment, sort)
    page = render_template(
        "risk/assessment/plan.html",
        lang_next=page_url(".action_plan", assessment.id),
        assessment=assessment,
        measures=measures,
        sort=sort,
        sorts=plan_service.SORTS,
        names=display.user_names({m.responsible_id for m in measures}),
        refs=[(i.ref, f"R{i.ref} {i.hazard}") for i in assessment.latest.items],
        people=plan_service.responsible_options(assessment),
        states=MEASURE_STATES,
        open_measure_states=OPEN_MEASURE_STATES,
        lowers=LOWERS,
        results=RESULTS,
        replacement_needed={m.id for m in measures if plan_service.replacement_needed(m)},
        can_edit=allowed(user(), assessment, Need.EDIT),
        today=display.today(),
        errors=errors or {},
        form=form or {},
    )
    return (page, status) if status != 200 else page


@bp.get("/risk/assessments/<id:assessment_id>/plan")
@allow(*READER_ROLES)
def action_plan(assessment_id: int) -> Page:
    """The action plan, sortable by deadline, status, responsible person or item."""
    return _plan(load(assessment_id))


@bp.post("/risk/assessments/<id:assessment_id>/measures")
@allow(Role.MANAGER)
def add_measure(assessment_id: int) -> Page:
    """Add a measure to the plan."""
    assessment = load(assessment_id, Need.EDIT)
    values, errors = parse(MeasureInSchema())
    errors = _with_deadline(assessment, errors)
    if errors:
        return _plan(assessment, errors, 400, dict(request.form))
    try:
        plan_service.add(user(), assessment, values)
    except AssessmentError as exc:
        db.session.rollback()
        errors, status = refusal(exc)
        return _plan(assessment, errors, status, dict(request.form))
    said = _("The measure is added to the action plan.")
    return done(said, ".action_plan", assessment_id=assessment.id)


def _with_deadline(assessment: Assessment, errors: Errors, kept: date | None = None) -> Errors:
    """The form's mistakes with the deadline's among them: the plan checks the deadline
    against the assessment once the form is otherwise right, so a deadline in 1900 would
    be said only in a second round. One `kept` from before is not checked again."""
    if not errors or "deadline" in errors:
        return errors
    try:
        deadline = date.fromisoformat(request.form.get("deadline", "").strip())
    except ValueError:
        return errors
    message = None if deadline == kept else plan_service.deadline_error(assessment, deadline)
    return errors if message is None else {**errors, "deadline": [str(message)]}


def _measure(assessment: Assessment, measure_id: int) -> Measure:
    try:
        return plan_service.get(assessment, measure_id)
    except AssessmentError:
        abort(404)


def _measure_page(
    assessment: Assessment, measure: Measure, errors: Errors, status: int = 200
) -> Page:
    page = render_template(
        "risk/assessment/measure.html",
        assessment=assessment,
        measure=measure,
        refs=[(i.ref, f"R{i.ref} {i.hazard}") for i in assessment.latest.items],
        people=plan_service.responsible_options(assessment),
        names=display.user_names(
            {measure.responsible_id} | {e.evaluated_by_id for e in measure.evaluations}
        ),
        states=MEASURE_STATES,
        open_measure_states=OPEN_MEASURE_STATES,
        lowers=LOWERS,
        results=RESULTS,
        needs_replacement=plan_service.replacement_needed(measure),
        can_edit=allowed(user(), assessment, Need.EDIT),
        errors=errors,
        form=dict(request.form) if request.method == "POST" else {},
    )
    return (page, status) if status != 200 else page


@bp.route("/risk/assessments/<id:assessment_id>/measures/<id:measure_id>", methods=["GET", "POST"])
@allow(*READER_ROLES)
def measure(assessment_id: int, measure_id: int) -> Page:
    """A measure with its evaluations; the leader changes it here."""
    if request.method == "GET":
        assessment = load(assessment_id)
        return _measure_page(assessment, _measure(assessment, measure_id), {})
    assessment = load(assessment_id, Need.EDIT)
    found = _measure(assessment, measure_id)
    values, errors = parse(MeasureUpdateSchema())
    errors = _with_deadline(assessment, errors, found.deadline)
    if errors:
        return _measure_page(assessment, found, errors, 400)
    try:
        plan_service.update(user(), found, values)
    except AssessmentError as exc:
        db.session.rollback()
        return _measure_page(assessment, found, *refusal(exc))
    return done(_("The measure is saved."), ".action_plan", assessment_id=assessment.id)


@bp.post("/risk/assessments/<id:assessment_id>/measures/<id:measure_id>/evaluations")
@allow(Role.MANAGER)
def evaluate(assessment_id: int, measure_id: int) -> Page:
    """Record whether the measure worked (a "did not work" sets off a re-assessment)."""
    assessment = load(assessment_id, Need.EDIT)
    found = _measure(assessment, measure_id)
    values, errors = parse(EvaluationInSchema())
    if errors:
        return _measure_page(assessment, found, errors, 400)
    try:
        plan_service.evaluate(user(), found, values)
    except AssessmentError as exc:
        db.session.rollback()
        return _measure_page(assessment, found, *refusal(exc))
    said = _("The evaluation is recorded.")
    return done(said, ".measure", assessment_id=assessment.id, measure_id=found.id)
