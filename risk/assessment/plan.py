"""The action plan: measures (tiltak) and their evaluations.

The plan is one living list per assessment; measures keep their status, done date and
evaluations across versions. A measure evaluated as not working sets off a re-assessment
task (risk.assessment.triggers) and asks for a replacement. A training or drill measure
with a repeat interval is due again that long after it was done.

A measure's deadline falls between the assessment's start (not before 2000) and
DEADLINE_YEARS ahead, and
its responsible person is one the form offers (`responsible_options`); a value kept from
before is not checked again, so a measure whose person has left can still be changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_date
from sqlalchemy import or_, select

from risk.assessment import triggers
from risk.assessment.access import AssessmentError
from risk.assessment.models import Assessment, Evaluation, Measure
from risk.assessment.schemas import EARLIEST, before_earliest, years_ahead
from trygg import audit, org
from trygg.accounts.models import Membership, Role, User, UserRole
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l
from trygg.ids import ID_MAX

MEASURE_FIELDS = (
    "item_ref",
    "goal",
    "what",
    "collective",
    "lowers",
    "affected",
    "responsible_id",
    "deadline",
    "status",
    "done_on",
    "is_training",
    "repeat_months",
    "replaces_id",
)
SORTS = ("deadline", "status", "responsible", "item")
DEADLINE_YEARS = 5


def _log(action: str, user: User, assessment_id: int, **detail: Any) -> None:
    audit.record(
        action,
        actor=actor_label(user),
        object_type="risk_assessment",
        object_id=assessment_id,
        detail=detail,
    )


def _refs(assessment: Assessment) -> set[int]:
    return {i.ref for v in assessment.versions for i in v.items}


def responsible_options(assessment: Assessment) -> list[tuple[int, str]]:
    """Who can be responsible for a measure, by name: the active people of the
    assessment's unit and the units below it, and the managers. The form offers them
    and `_check` takes no one else, from this one list, so the two cannot differ."""
    units = sorted(org.subtree_ids(assessment.unit_id))
    members = select(Membership.user_id).where(Membership.unit_id.in_(units))
    managers = select(UserRole.user_id).where(UserRole.role == Role.MANAGER)
    rows = db.session.execute(
        select(User.id, User.name)
        .where(or_(User.id.in_(members), User.id.in_(managers)), User.active.is_(True))
        .order_by(User.name)
    )
    return [(uid, name) for uid, name in rows]


def _offered(assessment: Assessment, user_id: int | None) -> bool:
    return user_id is None or user_id in {uid for uid, _name in responsible_options(assessment)}


def _first_day(assessment: Assessment) -> date:
    """The earliest deadline: the first period's start or the day the assessment was
    made (Oslo), whichever came first. A measure may record work done since the period
    began (and be overdue at once); a deadline before that is a typing error."""
    made = triggers.local_today(assessment.created_at)
    return min(assessment.versions[0].period_start, made) if assessment.versions else made


def deadline_error(assessment: Assessment, deadline: date) -> object | None:
    """Why `deadline` cannot be given to a measure, or None. Not before 2000 even where
    an assessment's period was let begin earlier (year 1 was once accepted)."""
    first = _first_day(assessment)
    if deadline < max(first, EARLIEST):
        if first < EARLIEST:
            return before_earliest()
        return _l(
            "The deadline cannot be before %(day)s, when the assessment began.",
            day=format_date(first),
        )
    last = years_ahead(triggers.now_local(), DEADLINE_YEARS)
    if deadline > last:
        return _l(
            "Choose a deadline at most %(n)s years ahead (by %(day)s).",
            n=DEADLINE_YEARS,
            day=format_date(last),
        )
    return None


def _check(assessment: Assessment, values: dict[str, Any], changed: set[str] | None = None) -> None:
    """Refuse what the plan cannot hold; the deadline and the responsible person only
    when they are given anew (`changed`, None for a new measure)."""
    if "item_ref" in values and values["item_ref"] not in _refs(assessment):
        raise AssessmentError(_l("Choose a risk item of this assessment."), "item_ref")
    fresh = set(values) if changed is None else changed
    if "deadline" in fresh and values.get("deadline") is not None:
        message = deadline_error(assessment, values["deadline"])
        if message is not None:
            raise AssessmentError(message, "deadline")
    if "responsible_id" in fresh and not _offered(assessment, values.get("responsible_id")):
        raise AssessmentError(_l("Choose a responsible person from the list."), "responsible_id")
    replaces = values.get("replaces_id")
    if replaces is not None:
        old = db.session.get(Measure, replaces) if 0 < replaces <= ID_MAX else None
        if old is None or old.assessment_id != assessment.id:
            raise AssessmentError(_l("Choose a measure of this plan."), "replaces_id")
    if values.get("repeat_months") is not None and not values.get("is_training"):
        raise AssessmentError(
            _l("Only training and drills have a repeat interval."), "repeat_months"
        )


def add(user: User, assessment: Assessment, values: dict[str, Any]) -> Measure:
    _check(assessment, values)
    measure = Measure(assessment_id=assessment.id)
    for key in MEASURE_FIELDS:
        if key in values:
            setattr(measure, key, values[key])
    _done_date(measure)
    db.session.add(measure)
    db.session.flush()
    _log("risk.measure.added", user, assessment.id, measure=measure.id)
    return measure


def update(user: User, measure: Measure, values: dict[str, Any]) -> Measure:
    assessment = db.session.get(Assessment, measure.assessment_id)
    assert assessment is not None  # noqa: S101 - a measure belongs to an assessment
    merged = {k: values.get(k, getattr(measure, k)) for k in MEASURE_FIELDS}
    _check(assessment, merged, {k for k in values if values[k] != getattr(measure, k, None)})
    for key in MEASURE_FIELDS:
        if key in values:
            setattr(measure, key, values[key])
    _done_date(measure)
    db.session.flush()
    _log("risk.measure.updated", user, assessment.id, measure=measure.id)
    return measure


def _done_date(measure: Measure) -> None:
    if measure.status == "done" and measure.done_on is None:
        measure.done_on = date.today()
    if measure.status != "done":
        measure.done_on = None


def get(assessment: Assessment, measure_id: int) -> Measure:
    measure = db.session.get(Measure, measure_id)
    if measure is None or measure.assessment_id != assessment.id:
        raise AssessmentError(_l("Not found."), "_request", 404)
    return measure


def evaluate(user: User, measure: Measure, values: dict[str, Any]) -> Evaluation:
    """Record whether a measure worked; "not" sets off a re-assessment task."""
    if measure.status != "done" and values["result"] != "not":
        raise AssessmentError(
            _l("Evaluate a measure once it is done (or record that it did not work)."), "result"
        )
    today = triggers.now_local()
    evaluated_on = values.get("evaluated_on") or today
    if evaluated_on > today:
        raise AssessmentError(
            _l("Enter the day the measure was evaluated: it cannot be in the future."),
            "evaluated_on",
        )
    if measure.created_at is not None and evaluated_on < triggers.local_today(measure.created_at):
        raise AssessmentError(
            _l("Enter a day after the measure was added to the plan."), "evaluated_on"
        )
    row = Evaluation(
        measure_id=measure.id,
        result=values["result"],
        evaluated_on=evaluated_on,
        evaluated_by_id=user.id,
        next_step=values.get("next_step", ""),
    )
    db.session.add(row)
    db.session.flush()
    _log(
        "risk.measure.evaluated", user, measure.assessment_id, measure=measure.id, result=row.result
    )
    if row.result == "not":
        assessment = db.session.get(Assessment, measure.assessment_id)
        assert assessment is not None  # noqa: S101
        triggers.fire(assessment, "measure", f"evaluation:{row.id}", measure.item_ref)
    return row


def measures(assessment: Assessment, sort: str = "deadline") -> list[Measure]:
    """The plan, sorted: deadline (default), status, responsible person or item."""
    order: list[Any]
    if sort == "status":
        order = [Measure.status, Measure.deadline]
    elif sort == "responsible":
        order = [Measure.responsible_id, Measure.deadline]
    elif sort == "item":
        order = [Measure.item_ref, Measure.deadline]
    else:
        order = [Measure.deadline, Measure.id]
    return list(
        db.session.scalars(
            select(Measure)
            .where(Measure.assessment_id == assessment.id)
            .order_by(*order, Measure.id)
        )
    )


def replacement_needed(measure: Measure) -> bool:
    """Evaluated as not working and not yet replaced by another measure."""
    if not measure.evaluations or measure.evaluations[-1].result != "not":
        return False
    replaced = db.session.scalar(select(Measure.id).where(Measure.replaces_id == measure.id))
    return replaced is None
