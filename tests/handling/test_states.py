"""The named values are StrEnums that store as their plain codes, on both engines.

A member is a `str`, but a driver could still adapt it as an enum (psycopg's generic
Enum dumper writes the member's *name*, "CLOSED"). These tests write with members and
read back through SQL, so a change of driver or type cannot silently change what is
stored: rows written before the enums existed stay equal to the members.
"""

from __future__ import annotations

# vocabulary-file: stored code (the plain codes are what these tests compare with)
from typing import Any

from sqlalchemy import select, text

from handling import service
from handling.models import Case, CaseGrant
from handling.service.transitions import TRANSITIONS, WORKFLOW
from handling.states import CaseState, GrantKind, Track
from handling.workflow import PLAIN_STATE, REPORTER_STATUS, STATES
from reporting.codes import STATUSES, ReportStatus
from reporting.models import Report
from tests.factories import user_obj
from tests.handling.conftest import get_case, in_app
from trygg.accounts.models import User, UserRole
from trygg.extensions import db
from trygg.roles import ROLE_LABELS, Role


def test_every_state_has_a_row_a_label_and_a_reporter_status():
    for table in (WORKFLOW, TRANSITIONS, STATES, PLAIN_STATE, REPORTER_STATUS):
        assert set(table) == set(CaseState)
    assert set(STATUSES) == set(ReportStatus)
    assert set(ROLE_LABELS) == set(Role)


def test_members_are_their_codes():
    assert CaseState.CLOSED == "closed"
    assert str(CaseState.CLOSED) == "closed"
    assert f"{Track.HR_MATTER}" == "hr_matter"
    assert {"closed": 1}[CaseState.CLOSED] == 1


def _raw(sql: str, **params: Any) -> Any:
    return db.session.execute(text(sql), params).scalar_one()


def test_a_case_written_with_members_reads_back_as_plain_codes(app, org, submit):
    ref = submit(org.employee, unit_id=org.ward.id)
    with in_app(app):
        case = get_case(ref.id)
        case.state = CaseState.FORWARDED
        case.track = Track.WHISTLEBLOWING
        case.report.status = ReportStatus.FORWARDED
        db.session.add(
            CaseGrant(
                case_id=case.id,
                user_id=org.colleague.id,
                group_id=case.group_id,
                granted_by="test",
                kind=GrantKind.BREAK_GLASS,
            )
        )
        db.session.commit()
        db.session.expire_all()

        # What the database holds is the code, whatever the driver.
        state = _raw('SELECT state FROM "case" WHERE id = :id', id=ref.id)
        assert (type(state), state) == (str, "forwarded")
        assert _raw('SELECT track FROM "case" WHERE id = :id', id=ref.id) == "whistleblowing"
        assert _raw("SELECT status FROM report WHERE id = :id", id=ref.report_id) == "forwarded"
        kind = _raw("SELECT kind FROM case_grant WHERE case_id = :id", id=ref.id)
        assert kind == "break_glass"

        # The ORM reads plain strings back, and they equal the members.
        reread = get_case(ref.id)
        assert type(reread.state) is str
        assert reread.state == CaseState.FORWARDED

        # Filtering by a member finds the row (and by the plain code, the same row).
        by_member = select(Case.id).where(
            Case.state == CaseState.FORWARDED, Case.track == Track.WHISTLEBLOWING
        )
        assert list(db.session.scalars(by_member)) == [ref.id]
        by_code = select(Case.id).where(Case.state == "forwarded")
        assert list(db.session.scalars(by_code)) == [ref.id]
        in_members = select(Report.id).where(
            Report.status.in_([ReportStatus.FORWARDED, ReportStatus.CLOSED])
        )
        assert ref.report_id in list(db.session.scalars(in_members))
        grant = db.session.scalar(select(CaseGrant).where(CaseGrant.kind == GrantKind.BREAK_GLASS))
        assert grant is not None
        assert grant.case_id == ref.id


def test_a_role_written_as_a_member_reads_back_as_its_code(app, org):
    with in_app(app):
        user = user_obj(org.employee)
        db.session.add(UserRole(user_id=user.id, role=Role.AMU))
        db.session.commit()
        db.session.expire_all()
        raw = _raw("SELECT role FROM user_role WHERE user_id = :id AND role = 'amu'", id=user.id)
        assert (type(raw), raw) == (str, "amu")
        found = db.session.scalars(select(UserRole.user_id).where(UserRole.role == Role.AMU))
        assert user.id in list(found)
        assert db.session.get(User, user.id).has_role(Role.AMU)


def test_a_transition_stores_the_code(app, org, submit):
    ref = submit(org.employee, unit_id=org.ward.id)
    with in_app(app):
        case = get_case(ref.id)
        service.transition(case, CaseState.ACKNOWLEDGED, actor=user_obj(org.handler))
        db.session.commit()
        assert _raw('SELECT state FROM "case" WHERE id = :id', id=ref.id) == "acknowledged"
        assert _raw("SELECT status FROM report WHERE id = :id", id=ref.report_id) == (
            "acknowledged"
        )


def test_every_timeline_code_fits_its_column():
    """PostgreSQL refuses a code longer than its column (a 500), SQLite stores it: a
    test on SQLite alone would not notice."""
    from handling.codes import EVENT_KINDS, EXPORT_RECIPIENTS
    from handling.models import CaseEvent, IdentityConsent

    kind = CaseEvent.__table__.c.kind.type.length
    assert [k for k in EVENT_KINDS if len(k) > kind] == []
    recipient = IdentityConsent.__table__.c.recipient.type.length
    assert [r for r in EXPORT_RECIPIENTS if len(r) > recipient] == []
