"""Participation (medvirkning): comments on a version, the safety representative's and
AMU's statements on approved versions, and whether they took part."""

from __future__ import annotations

from sqlalchemy import select

from risk.assessment import notices
from risk.assessment.access import (
    AssessmentError,
    Forbidden,
    Need,
    allowed,
    statement_units_of_rep,
)
from risk.assessment.models import Assessment, AssessmentVersion, Comment
from trygg import audit
from trygg.accounts.models import Role, User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l


def _log(action: str, user: User, assessment_id: int, **detail: object) -> None:
    audit.record(
        action,
        actor=actor_label(user),
        object_type="risk_assessment",
        object_id=assessment_id,
        detail=detail,
    )


def comment(user: User, version: AssessmentVersion, body: str, kind: str) -> Comment:
    """A comment by a reader, or a statement by the safety representative or AMU on an
    approved version (one each)."""
    assessment = version.assessment
    if kind == "statement":
        if not allowed(user, assessment, Need.STATEMENT):
            raise Forbidden()
        if not version.frozen:
            raise AssessmentError(_l("A statement is given on an approved version."), "kind", 409)
        taken = db.session.scalar(
            select(Comment.id).where(
                Comment.version_id == version.id,
                Comment.author_id == user.id,
                Comment.kind == "statement",
            )
        )
        if taken is not None:
            raise AssessmentError(
                _l("You have already given your statement on this version."), "kind", 409
            )
    role = comment_role(user, assessment)
    row = Comment(version_id=version.id, author_id=user.id, role=role, kind=kind, body=body)
    db.session.add(row)
    db.session.flush()
    notices.commented(row, version)
    _log(f"risk.{kind}.added", user, assessment.id, version=version.number)
    return row


def comment_role(user: User, assessment: Assessment) -> str:
    """The capacity a comment is given in: safety representative for their units, else
    AMU, else leader."""
    represented = statement_units_of_rep(user)
    if user.has_role(Role.SAFETY_REP) and assessment.unit_id in represented:
        return Role.SAFETY_REP
    if user.has_role(Role.AMU):
        return Role.AMU
    return Role.MANAGER


def comments(version: AssessmentVersion) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment).where(Comment.version_id == version.id).order_by(Comment.id)
        )
    )


def took_part(version: AssessmentVersion) -> dict[str, bool]:
    """Whether the safety representative / AMU took part: recorded as a participant, or
    by a comment or statement on this version."""
    said = {c.role for c in comments(version)}
    roles = {p.role for p in version.participants}
    rep, amu = Role.SAFETY_REP, Role.AMU
    return {rep: rep in roles or rep in said, amu: amu in said}
