"""Builders for case-handling tests: an organisation with handler groups, and reports.

Reports are created through reporting's real intake service, so the real
`report_submitted` signal opens each case exactly as in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from handling import service
from handling.models import Case
from reporting.schemas import ReportSchema
from reporting.service import submit_report
from tests.factories import UnitInfo, UserInfo, api_login, csrf_token
from trygg.accounts.models import User
from trygg.extensions import db


@dataclass
class CaseRef:
    id: int
    report_id: int
    group_id: int | None
    track: str
    state: str


@dataclass
class Org:
    hospital: UnitInfo
    emergency: UnitInfo
    ward: UnitInfo
    psychiatry: UnitInfo
    hms: int
    whistle: int
    fallback: int
    handler: UserInfo
    colleague: UserInfo
    whistle_handler: UserInfo
    fallback_handler: UserInfo
    employee: UserInfo
    manager: UserInfo
    safety_rep: UserInfo
    admin: UserInfo


def report_data(**overrides: Any) -> dict[str, Any]:
    """A valid ReportSchema payload: a threat from a patient, severity 2."""
    data: dict[str, Any] = {
        "incident_types": ["threat"],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "place_type": "patient_room",
        "counterpart_category": "patient",
        "severity": 2,
        "narrative": "The patient threatened to hit me when I refused a request.",
    }
    data.update(overrides)
    return data


@contextmanager
def in_app(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def user_obj(info: UserInfo) -> User:
    user = db.session.get(User, info.id)
    assert user is not None
    return user


@pytest.fixture
def submit(app: Flask) -> Callable[..., CaseRef]:
    """submit(reporter, **report fields) → the opened case (committed)."""

    def do(reporter: UserInfo | None, **fields: Any) -> CaseRef:
        with app.app_context():
            user = user_obj(reporter) if reporter is not None else None
            if "unit_id" not in fields:
                raise AssertionError("give unit_id")
            data = ReportSchema().load(report_data(**fields))
            report = submit_report(data, reporter=user)
            db.session.commit()
            case = service.case_for_report(report)
            assert case is not None, "no case was opened for the report"
            return CaseRef(case.id, report.id, case.group_id, case.track, case.state)

    return do


@pytest.fixture
def org(app: Flask, make: Any) -> Org:
    """A hospital with units, three handler groups and one user per role."""
    hospital = make.unit("Sykehuset")
    emergency = make.unit("Akutten", parent=hospital)
    ward = make.unit("Akutten post 2", parent=emergency)
    psychiatry = make.unit("Psykiatrien", parent=hospital)
    handler = make.user("handler", "employee", name="Hanna Handler", units=(hospital,))
    colleague = make.user("handler", "employee", name="Kari Kollega", units=(psychiatry,))
    whistle_handler = make.user("handler", name="Vilde Varsel", units=(hospital,))
    fallback_handler = make.user("handler", name="Frode Fallback", units=(hospital,))
    employee = make.user("employee", name="Ella Employee", units=(ward,))
    manager = make.user("manager", "employee", name="Mona Manager", manages=(ward,))
    safety_rep = make.user("safety_rep", "employee", name="Sverre Safety", units=(emergency,))
    admin = make.user("admin", name="Ada Admin")
    with app.app_context():
        hms = service.save_group(
            actor="test", name="HMS", member_ids=[handler.id, colleague.id], is_default=True
        )
        # The rule first, then the members: set-up tells no one of access changes.
        whistle = service.save_group(actor="test", name="Varsling")
        service.create_rule(actor="test", group_id=whistle.id, track="whistleblowing")
        service.save_group(
            actor="test", name="Varsling", member_ids=[whistle_handler.id], group=whistle
        )
        fallback = service.save_group(
            actor="test", name="Reserve", member_ids=[fallback_handler.id], is_fallback=True
        )
        db.session.commit()
        ids = hms.id, whistle.id, fallback.id
    return Org(
        hospital,
        emergency,
        ward,
        psychiatry,
        *ids,
        handler,
        colleague,
        whistle_handler,
        fallback_handler,
        employee,
        manager,
        safety_rep,
        admin,
    )


def get_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


class Api:
    """A logged-in JSON client with the CSRF header on every state-changing call."""

    def __init__(self, app: Flask, user: UserInfo) -> None:
        self.client: FlaskClient = app.test_client()
        self.user = user
        api_login(self.client, user)
        self.token = csrf_token(self.client)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def _send(self, method: str, path: str, body: Any) -> Any:
        return self.client.open(path, method=method, json=body, headers={"X-CSRFToken": self.token})

    def post(self, path: str, body: Any = None) -> Any:
        return self._send("POST", path, body if body is not None else {})

    def put(self, path: str, body: Any = None) -> Any:
        return self._send("PUT", path, body if body is not None else {})

    def patch(self, path: str, body: Any = None) -> Any:
        return self._send("PATCH", path, body if body is not None else {})

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers={"X-CSRFToken": self.token})


@pytest.fixture
def api(app: Flask) -> Callable[[UserInfo], Api]:
    """api(user) → a client logged in as that user (log each user in once per test)."""
    return lambda user: Api(app, user)
