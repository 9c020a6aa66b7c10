"""Cases linked to risk items in the learning review.

A case handler who may handle the case (handling decides: handling.service.case_for)
sees the items of the assessments that cover the case's unit — only their reference
and hazard, to choose from — and links the case to one. The item shows the links only
as a count, hidden from 1 to k − 1 (risk.assessment.trend.linked_cases).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from handling import service as handling
from handling.service import CaseNotFound
from reporting.models import Report
from risk.assessment.access import AssessmentError, NotFound
from risk.assessment.models import Assessment, CaseLink
from risk.assessment.triggers import current_version
from trygg import audit, org
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

CHOOSE = _l("Choose a risk item from the list.")


@dataclass(frozen=True)
class Choice:
    assessment_id: int
    title: str
    ref: int
    hazard: str
    linked: bool


def _case_unit(user: User, case_id: int) -> tuple[int, int | None]:
    try:
        case = handling.case_for(user, case_id)
    except CaseNotFound:
        raise NotFound() from None
    unit_id = db.session.scalar(select(Report.unit_id).where(Report.id == case.report_id))
    return case.id, unit_id


def choices(user: User, case_id: int) -> list[Choice]:
    """The items a case may be linked to: those of assessments covering its unit."""
    case_id, unit_id = _case_unit(user, case_id)
    unit = org.get_unit(unit_id) if unit_id is not None else None
    if unit is None:
        return []
    covering = {unit.id} | {u.id for u in org.ancestors(unit)}
    linked = {
        (assessment_id, ref)
        for assessment_id, ref in db.session.execute(
            select(CaseLink.assessment_id, CaseLink.item_ref).where(CaseLink.case_id == case_id)
        )
    }
    out = []
    for assessment in db.session.scalars(
        select(Assessment).where(Assessment.unit_id.in_(sorted(covering))).order_by(Assessment.id)
    ):
        for item in current_version(assessment).items:
            key = (assessment.id, item.ref)
            out.append(
                Choice(assessment.id, assessment.title, item.ref, item.hazard, key in linked)
            )
    return out


def link(user: User, case_id: int, assessment_id: int, ref: int) -> CaseLink:
    """Link the case to an item offered by `choices`; once per item."""
    found = [c for c in choices(user, case_id) if (c.assessment_id, c.ref) == (assessment_id, ref)]
    if not found:
        raise AssessmentError(CHOOSE, "item_ref")
    if found[0].linked:
        raise AssessmentError(_l("The case is already linked to this item."), "item_ref", 409)
    row = CaseLink(case_id=case_id, assessment_id=assessment_id, item_ref=ref)
    db.session.add(row)
    db.session.flush()
    audit.record(
        "risk.case_linked",
        actor=actor_label(user),
        object_type="case",
        object_id=case_id,
        detail={"assessment": assessment_id, "item": ref},
    )
    return row


def unlink(user: User, case_id: int, assessment_id: int, ref: int) -> None:
    """Undo a link made by mistake (the item's count goes down by one)."""
    found = [c for c in choices(user, case_id) if (c.assessment_id, c.ref) == (assessment_id, ref)]
    if not found or not found[0].linked:
        raise AssessmentError(_l("The case is not linked to this item."), "item_ref")
    db.session.execute(
        delete(CaseLink).where(
            CaseLink.case_id == case_id,
            CaseLink.assessment_id == assessment_id,
            CaseLink.item_ref == ref,
        )
    )
    audit.record(
        "risk.case_unlinked",
        actor=actor_label(user),
        object_type="case",
        object_id=case_id,
        detail={"assessment": assessment_id, "item": ref},
    )
