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
