"""Who may do what with which assessment: one loader for pages and API alike.

A manager reads and edits the assessments of the units they lead and below; a safety
representative reads and comments on those of the units they represent and below, and
gives a statement on approved versions; the working environment committee (amu) does the
same for the whole organisation. An employee sees only published summaries for the
units they belong to (an assessment covers its unit's subtree). Anyone else: not found.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select

from risk.assessment.models import Assessment
from trygg import org
from trygg.accounts.models import Role, User
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

READER_ROLES = (Role.MANAGER, Role.SAFETY_REP, Role.AMU)


class Need(StrEnum):
    READ = "read"
    EDIT = "edit"
    STATEMENT = "statement"


class AssessmentError(Exception):
    """A refused operation; `field` names the input, `status` the HTTP answer."""

    def __init__(self, message: object, field: str = "_request", status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class NotFound(AssessmentError):
    def __init__(self) -> None:
        super().__init__(_l("Not found."), "_request", 404)


class Forbidden(AssessmentError):
    def __init__(self) -> None:
        super().__init__(_l("You may read this assessment, but not change it."), "_request", 403)


def _subtrees(units: list[int]) -> set[int]:
    out: set[int] = set()
    for unit_id in units:
        out |= org.subtree_ids(unit_id)
    return out


def edit_units(user: User) -> set[int]:
    if not user.has_role(Role.MANAGER):
        return set()
    return _subtrees([u.id for u in user.managed_units])


def read_units(user: User) -> set[int] | None:
    """Units whose assessments the user reads; None: every unit (amu)."""
    if user.has_role(Role.AMU):
        return None
    units = edit_units(user)
    if user.has_role(Role.SAFETY_REP):
        units |= _subtrees([u.id for u in user.represented_units])
    return units


def statement_units_of_rep(user: User) -> set[int]:
    if user.has_role(Role.SAFETY_REP):
        return _subtrees([u.id for u in user.represented_units])
    return set()


def statement_units(user: User) -> set[int] | None:
    if user.has_role(Role.AMU):
        return None
    return statement_units_of_rep(user)


def _within(unit_id: int, units: set[int] | None) -> bool:
    return units is None or unit_id in units


def allowed(user: User, assessment: Assessment, need: Need) -> bool:
    if need == Need.EDIT:
        return assessment.unit_id in edit_units(user)
    if need == Need.STATEMENT:
        return _within(assessment.unit_id, statement_units(user))
    return _within(assessment.unit_id, read_units(user))


def load(assessment_id: int, user: User, need: Need = Need.READ) -> Assessment:
    """The assessment if the user may `need` it: NotFound outside their scope, Forbidden
    when they may read but not do this."""
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None or not allowed(user, assessment, Need.READ):
        raise NotFound()
    if need != Need.READ and not allowed(user, assessment, need):
        raise Forbidden()
    return assessment


def visible(user: User) -> list[Assessment]:
    units = read_units(user)
    stmt = select(Assessment).order_by(Assessment.id)
    if units is not None:
        if not units:
            return []
        stmt = stmt.where(Assessment.unit_id.in_(sorted(units)))
    return list(db.session.scalars(stmt))


def member_covering_units(user: User) -> set[int]:
    """The user's units and every unit above them: the assessments that cover them."""
    return org.with_ancestors(unit.id for unit in user.units)
