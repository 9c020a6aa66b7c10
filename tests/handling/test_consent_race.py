"""The reporter's consent to be named, sent twice at the same moment (a double click):
stored once, both answered 200, one audit entry (both engines, really committed)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from handling.models import IdentityConsent
from tests.concurrency import committed_app, in_parallel
from tests.factories import Factory, api_login, csrf_token
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Any:
    yield from committed_app(make_app, scratch_database)


def test_the_same_consent_sent_twice_at_once_is_stored_once(race_app):
    make = Factory(race_app)
    unit = make.unit("Akutten")
    reporter = make.user(Role.EMPLOYEE, units=(unit,))
    varsel = make.report(
        reporter, unit_id=unit.id, incident_types=["bullying"], counterpart_category="colleague"
    )
    browsers = []
    for _n in range(2):
        tab = race_app.test_client()
        api_login(tab, reporter)
        browsers.append((tab, csrf_token(tab)))

    def send(tab: FlaskClient, token: str) -> Any:
        return tab.put(
            f"/api/v1/reports/{varsel.report_id}/identity-consent",
            json={"recipients": ["police"]},
            headers={"X-CSRFToken": token},
        )

    assert in_parallel(browsers, send) == {200: 2}
    with race_app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(IdentityConsent))
        audited = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "case.identity_consent")
        )
    assert (stored, audited) == (1, 1)


def test_two_handlers_asking_the_same_at_once_ask_it_once(race_app):
    """Two handlers of a varsel ask the reporter about the police at the same moment: one
    question (one timeline line, one audit entry, one piece of news), the other is told
    it was asked already."""
    from handling import service
    from handling.models import CaseEvent
    from handling.states import Track

    make = Factory(race_app)
    unit = make.unit("Akutten")
    reporter = make.user(Role.EMPLOYEE, units=(unit,))
    handlers = [make.user(Role.HANDLER, units=(unit,)) for _n in range(2)]
    with race_app.app_context():
        group = service.save_group(actor="test", name="Varsling")
        service.create_rule(actor="test", group_id=group.id, track=Track.WHISTLEBLOWING)
        service.save_group(
            actor="test", name="Varsling", member_ids=[h.id for h in handlers], group=group
        )
        db.session.commit()
    varsel = make.report(
        reporter, unit_id=unit.id, incident_types=["bullying"], counterpart_category="colleague"
    )
    browsers = []
    for handler in handlers:
        tab = race_app.test_client()
        api_login(tab, handler)
        browsers.append((tab, csrf_token(tab)))

    def ask(tab: FlaskClient, token: str) -> Any:
        return tab.post(
            f"/api/v1/cases/{varsel.id}/identity-consent-requests",
            json={"recipients": ["police"]},
            headers={"X-CSRFToken": token},
        )

    assert in_parallel(browsers, ask) == {201: 1, 400: 1}
    with race_app.app_context():
        asked = db.session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.kind == "identity_consent_asked")
        )
        audited = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "case.identity_consent.request")
        )
    assert (asked, audited) == (1, 1)
