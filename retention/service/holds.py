"""Legal holds: a case under one is not deleted until the hold is lifted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from handling.models import Case
from reporting.models import Report
from retention.codes import HOLD_REASONS
from retention.models import LegalHold
from trygg import audit
from trygg.extensions import db, utcnow


class HoldNotFound(Exception):
    """The case has no hold in force."""


def active_hold(case_id: int) -> LegalHold | None:
    return db.session.scalar(
        select(LegalHold).where(LegalHold.case_id == case_id, LegalHold.lifted_at.is_(None))
    )


def place_hold(case: Case, reason: str, *, actor: str, now: datetime | None = None) -> LegalHold:
    """Stop the case's deletion (police, lawsuit, inspection …); audited. A second
    hold while one is in force only changes nothing and returns the one in force."""
    if reason not in HOLD_REASONS:
        raise ValueError(reason)
    hold = active_hold(case.id)
    if hold is not None:
        return hold
    hold = LegalHold(case_id=case.id, reason=reason, placed_by=actor, placed_at=now or utcnow())
    db.session.add(hold)
    db.session.flush()
    audit.record(
        "case.hold", actor=actor, object_type="case", object_id=case.id, detail={"reason": reason}
    )
    return hold


def lift_hold(case: Case, *, actor: str, now: datetime | None = None) -> LegalHold:
    """Lift the hold in force: the next run deletes the case if its time has come."""
    hold = active_hold(case.id)
    if hold is None:
        raise HoldNotFound()
    hold.lifted_at = now or utcnow()
    hold.lifted_by = actor
    audit.record(
        "case.hold_lifted",
        actor=actor,
        object_type="case",
        object_id=case.id,
        detail={"reason": hold.reason},
    )
    db.session.flush()
    return hold


# The admin's list of holds in force shows at most this many (holds are few).
HOLDS_SHOWN = 200


def holds_in_force() -> list[tuple[LegalHold, str]]:
    """Holds in force with their case's reference, newest first (no case content)."""
    rows = db.session.execute(
        select(LegalHold, Report.reference)
        .join(Case, Case.id == LegalHold.case_id)
        .join(Report, Report.id == Case.report_id)
        .where(LegalHold.lifted_at.is_(None))
        .order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
        .limit(HOLDS_SHOWN)
    )
    return [(hold, reference) for hold, reference in rows]
