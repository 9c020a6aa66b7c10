"""Operations on assessments, items, participants, comments and the published summary.

Services take plain data (already validated by risk.assessment.schemas), check the rule
of the operation, record it in the audit log and flush; the request commits. An
approved version is frozen: every change to its content raises Frozen.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, update

from risk.assessment import matrix, notices
from risk.assessment.access import (
    AssessmentError,
    Need,
    allowed,
)
from risk.assessment.codes import OPEN_MEASURE_STATES
from risk.assessment.models import (
    Assessment,
    AssessmentVersion,
    Measure,
    Participant,
    RiskItem,
    Trigger,
)
from risk.assessment.schemas import date_order_errors
from trygg import audit, org
from trygg.accounts.models import Role, User
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l

ITEM_FIELDS = (
    "hazard",
    "description",
    "factors",
    "existing_measures",
    "likelihood",
    "consequence",
    "likelihood_after",
    "consequence_after",
    "scope_unit_id",
    "scope_types",
    "scope_counterparts",
    "scope_places",
    "scope_activities",
    "scope_time_bands",
    "scope_lone_work",
)
VERSION_FIELDS = ("period_start", "period_end", "next_review", "notes")


class Frozen(AssessmentError):
    def __init__(self) -> None:
        super().__init__(
            _l("This version is approved and cannot change: start a new version."), "_request", 409
        )


def _log(action: str, user: User, kind: str, oid: object, **detail: Any) -> None:
    audit.record(action, actor=actor_label(user), object_type=kind, object_id=oid, detail=detail)


def _check_dates(values: dict[str, Any]) -> None:
    """The dates in order (`schemas.date_order_errors`), or the first that is not."""
    errors = date_order_errors(values)
    if errors:
        field, message = next(iter(errors.items()))
        raise AssessmentError(message, field)


def create(user: User, values: dict[str, Any]) -> Assessment:
    """A new assessment for one of the user's units, with a first draft version."""
    unit = org.get_unit(values["unit_id"])
    if unit is None or not user.has_role(Role.MANAGER):
        raise AssessmentError(_l("Choose one of your units."), "unit_id")
    assessment = Assessment(
        unit_id=unit.id,
        title=values["title"],
        work_kind=values.get("work_kind") or None,
        matrix_size=values.get("matrix_size", matrix.DEFAULT_SIZE),
        owner_id=user.id,
    )
    if not allowed(user, assessment, Need.EDIT):
        raise AssessmentError(_l("Choose one of your units."), "unit_id")
    _check_dates(values)
    db.session.add(assessment)
    db.session.flush()
    version = AssessmentVersion(
        assessment_id=assessment.id,
        number=1,
        status="draft",
        **{k: values[k] for k in VERSION_FIELDS if k in values},
    )
    db.session.add(version)
    db.session.flush()
    db.session.refresh(assessment)
    _log("risk.assessment.created", user, "risk_assessment", assessment.id, unit=unit.id)
    return assessment


def version_of(assessment: Assessment, number: int | None) -> AssessmentVersion:
    if number is None:
        return assessment.latest
    for version in assessment.versions:
        if version.number == number:
            return version
    raise AssessmentError(_l("Not found."), "version", 404)


def _editable(version: AssessmentVersion) -> None:
    if version.frozen:
        raise Frozen()


def update_version(
    user: User, version: AssessmentVersion, values: dict[str, Any]
) -> AssessmentVersion:
    """Change a draft's dates, notes, title, kind of work and participants."""
    _editable(version)
    merged = {k: values.get(k, getattr(version, k)) for k in VERSION_FIELDS}
    _check_dates(merged)
    for key in VERSION_FIELDS:
        if key in values:
            setattr(version, key, values[key])
    assessment = version.assessment
    if "title" in values:
        assessment.title = values["title"]
    if "work_kind" in values:
        assessment.work_kind = values["work_kind"] or None
    if "participants" in values:
        version.participants.clear()
        for person in values["participants"]:
            version.participants.append(Participant(role=person["role"], name=person["name"]))
    db.session.flush()
    _log("risk.version.updated", user, "risk_assessment", assessment.id, version=version.number)
    return version


def _next_ref(assessment_id: int) -> int:
    highest = db.session.scalar(
        select(func.max(RiskItem.ref))
        .join(AssessmentVersion, AssessmentVersion.id == RiskItem.version_id)
        .where(AssessmentVersion.assessment_id == assessment_id)
    )
    return int(highest or 0) + 1


def _check_item(assessment: Assessment, values: dict[str, Any]) -> None:
    size = assessment.matrix_size
    try:
        matrix.check_values(size, values.get("likelihood"), values.get("consequence"))
        matrix.check_values(size, values.get("likelihood_after"), values.get("consequence_after"))
    except matrix.MatrixError as exc:
        raise AssessmentError(exc, exc.field) from None
    if (values.get("likelihood_after") is None) != (values.get("consequence_after") is None):
        raise AssessmentError(
            _l("Give both likelihood and consequence after measures, or neither."),
            "likelihood_after",
        )
    likelihood, consequence = values.get("likelihood"), values.get("consequence")
    after = (values.get("likelihood_after"), values.get("consequence_after"))
    if (
        likelihood is not None
        and consequence is not None
        and after[0] is not None
        and after[1] is not None
        and after[0] * after[1] > likelihood * consequence
    ):
        # The measures lower the risk, or leave it: a higher level after them is a slip.
        raise AssessmentError(
            _l(
                "The risk after the planned measures cannot be higher than before them "
                "(likelihood %(l)s × consequence %(c)s).",
                l=likelihood,
                c=consequence,
            ),
            "likelihood_after",
        )
    scope_unit = values.get("scope_unit_id")
    if scope_unit is not None and scope_unit not in org.subtree_ids(assessment.unit_id):
        raise AssessmentError(
            _l("The incident scope must be the assessment's unit or a unit below it."),
            "scope_unit_id",
        )


def add_item(user: User, version: AssessmentVersion, values: dict[str, Any]) -> RiskItem:
    _editable(version)
    _check_item(version.assessment, values)
    item = RiskItem(version_id=version.id, ref=_next_ref(version.assessment_id))
    for key in ITEM_FIELDS:
        if key in values:
            setattr(item, key, values[key])
    db.session.add(item)
    db.session.flush()
    db.session.refresh(version)
    _log("risk.item.added", user, "risk_assessment", version.assessment_id, item=item.ref)
    return item


def level(assessment: Assessment, likelihood: int | None, consequence: int | None) -> Any:
    return matrix.level_of(likelihood, consequence, matrix.levels(assessment.matrix_size))


def update_item(user: User, item: RiskItem, values: dict[str, Any]) -> RiskItem:
    """Change a draft's item; if its level rises above the approved version's, its
    training measures are due again (risk changed: train and drill again)."""
    version = item.version
    _editable(version)
    merged = {k: values.get(k, getattr(item, k)) for k in ITEM_FIELDS}
    _check_item(version.assessment, merged)
    for key in ITEM_FIELDS:
        if key in values:
            setattr(item, key, values[key])
    db.session.flush()
    _training_due_again(version.assessment, item)
    _log("risk.item.updated", user, "risk_assessment", version.assessment_id, item=item.ref)
    return item


def _training_due_again(assessment: Assessment, item: RiskItem) -> int:
    approved = assessment.approved
    before = next((i for i in approved.items if i.ref == item.ref), None) if approved else None
    if before is None:
        return 0
    old = level(assessment, before.likelihood, before.consequence)
    new = level(assessment, item.likelihood, item.consequence)
    if old is None or new is None or new.rank <= old.rank:
        return 0
    today = date.today()
    result = db.session.execute(
        update(Measure)
        .where(
            Measure.assessment_id == assessment.id,
            Measure.item_ref == item.ref,
            Measure.is_training.is_(True),
            Measure.status.in_(("done", *OPEN_MEASURE_STATES)),
        )
        .values(status="planned", deadline=today, done_on=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def check_removable(item: RiskItem) -> None:
    """Refuse removing an item that measures of the action plan belong to: they would
    stay in the plan under an item it no longer has, and their change form could not
    show their item (it offers the newest version's). The message says which, and how
    to move them; a measure is never removed, so its history stays."""
    _editable(item.version)
    goals = list(
        db.session.scalars(
            select(Measure.goal)
            .where(
                Measure.assessment_id == item.version.assessment_id,
                Measure.item_ref == item.ref,
            )
            .order_by(Measure.id)
        )
    )
    if goals:
        raise AssessmentError(
            _l(
                "R%(ref)s has measures in the action plan: %(goals)s. Give each of them "
                "another risk item first (on the measure's page, under Change the measure), "
                "then remove R%(ref)s.",
                ref=item.ref,
                goals="; ".join(goals),
            )
        )


def delete_item(user: User, item: RiskItem) -> None:
    version, ref = item.version, item.ref  # a deleted row's attributes cannot be read after
    check_removable(item)
    db.session.delete(item)
    db.session.flush()
    db.session.refresh(version)
    _log("risk.item.deleted", user, "risk_assessment", version.assessment_id, item=ref)


def set_status(user: User, version: AssessmentVersion, status: str) -> AssessmentVersion:
    """draft → review → approved (or review → draft). Approving freezes the version,
    records who and when, and closes the open re-assessment tasks."""
    _editable(version)
    if version.id != version.assessment.latest.id:
        raise AssessmentError(_l("Only the newest version can change."), "status", 409)
    if status == "approved":
        if not version.items:
            raise AssessmentError(_l("An assessment needs at least one risk item."), "status")
        now = utcnow()
        version.approved_at = now
        version.approved_by_id = user.id
        db.session.execute(
            update(Trigger)
            .where(Trigger.assessment_id == version.assessment_id, Trigger.resolved_at.is_(None))
            .values(resolved_at=now, resolved_by_id=user.id)
        )
    version.status = status
    db.session.flush()
    notices.version_moved(version, user)
    _log(
        f"risk.version.{status}",
        user,
        "risk_assessment",
        version.assessment_id,
        version=version.number,
    )
    return version


def new_version(user: User, assessment: Assessment) -> AssessmentVersion:
    """A draft copy of the approved newest version (items kept with their refs)."""
    latest = assessment.latest
    if not latest.frozen:
        raise AssessmentError(
            _l("The newest version is still a draft: change that."), "_request", 409
        )
    today = date.today()
    version = AssessmentVersion(
        assessment_id=assessment.id,
        number=latest.number + 1,
        status="draft",
        period_start=today,
        period_end=max(latest.period_end, today),
        next_review=max(latest.next_review, today),
        notes=latest.notes,
    )
    for item in latest.items:
        copy = RiskItem(ref=item.ref)
        for key in ITEM_FIELDS:
            value = getattr(item, key)
            setattr(copy, key, list(value) if isinstance(value, list) else value)
        version.items.append(copy)
    db.session.add(version)
    db.session.flush()
    db.session.refresh(assessment)
    _log("risk.version.started", user, "risk_assessment", assessment.id, version=version.number)
    return version


def publish(user: User, version: AssessmentVersion, values: dict[str, Any]) -> AssessmentVersion:
    """Publish the plain-language summary of an approved version to its units' employees."""
    if not version.frozen:
        raise AssessmentError(_l("Only an approved version can be published."), "_request", 409)
    version.summary_risks = values["summary_risks"]
    version.summary_routines = values["summary_routines"]
    version.summary_contact = values["summary_contact"]
    version.summary_show_levels = bool(values.get("summary_show_levels"))
    version.published_at = utcnow()
    db.session.flush()
    _log(
        "risk.summary.published",
        user,
        "risk_assessment",
        version.assessment_id,
        version=version.number,
    )
    return version


def open_measures(assessment: Assessment) -> list[Measure]:
    return list(
        db.session.scalars(
            select(Measure).where(
                Measure.assessment_id == assessment.id,
                Measure.status.in_(OPEN_MEASURE_STATES),
            )
        )
    )


def compare(old: AssessmentVersion, new: AssessmentVersion) -> list[dict[str, Any]]:
    """Item by item (by ref): the level in each version, or None where it is absent."""
    assessment = new.assessment
    before = {i.ref: i for i in old.items}
    after = {i.ref: i for i in new.items}
    rows = []
    for ref in sorted(set(before) | set(after)):
        a, b = before.get(ref), after.get(ref)
        rows.append(
            {
                "ref": ref,
                "hazard": (b or a).hazard,  # type: ignore[union-attr]
                "old": level(assessment, a.likelihood, a.consequence) if a else None,
                "new": level(assessment, b.likelihood, b.consequence) if b else None,
                "old_score": (a.likelihood, a.consequence) if a else None,
                "new_score": (b.likelihood, b.consequence) if b else None,
            }
        )
    return rows
