"""Builders for case-handling tests: an organisation with handler groups, and reports.

Reports are created through reporting's real intake service (tests/factories.py), so
the real `report_submitted` signal opens each case exactly as in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from handling import service
from handling.models import Case
from handling.states import Track
from tests.factories import (
    CaseRef,
    Factory,
    UnitInfo,
    UserInfo,
    api_login,
    csrf_token,
)
from trygg.extensions import db
from trygg.roles import Role


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


@contextmanager
def in_app(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def submit(app: Flask) -> Callable[..., CaseRef]:
    """submit(reporter, **report fields) → the opened case (committed)."""

    return Factory(app).report


@pytest.fixture
def org(app: Flask, make: Any) -> Org:
    """A hospital with units, three handler groups and one user per role."""
    hospital = make.unit("Sykehuset")
    emergency = make.unit("Akutten", parent=hospital)
    ward = make.unit("Akutten post 2", parent=emergency)
    psychiatry = make.unit("Psykiatrien", parent=hospital)
    handler = make.user(Role.HANDLER, Role.EMPLOYEE, name="Hanna Handler", units=(hospital,))
    colleague = make.user(Role.HANDLER, Role.EMPLOYEE, name="Kari Kollega", units=(psychiatry,))
    whistle_handler = make.user(Role.HANDLER, name="Vilde Varsel", units=(hospital,))
    fallback_handler = make.user(Role.HANDLER, name="Frode Fallback", units=(hospital,))
    employee = make.user(Role.EMPLOYEE, name="Ella Employee", units=(ward,))
    manager = make.user(Role.MANAGER, Role.EMPLOYEE, name="Mona Manager", manages=(ward,))
    safety_rep = make.user(
        Role.SAFETY_REP,
        Role.EMPLOYEE,
        name="Sverre Safety",
        units=(emergency,),
        represents=(emergency,),
    )
    admin = make.user(Role.ADMIN, name="Ada Admin")
    with app.app_context():
        hms = service.save_group(
            actor="test", name="HMS", member_ids=[handler.id, colleague.id], is_default=True
        )
        # The rule first, then the members: set-up tells no one of access changes.
        whistle = service.save_group(actor="test", name="Varsling")
        service.create_rule(actor="test", group_id=whistle.id, track=Track.WHISTLEBLOWING)
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


def reports_opened(monkeypatch: pytest.MonkeyPatch, opener: str) -> list[int]:
    """The ids of the reports `reporting.service.<opener>` is called for from now on (a
    spy: each call goes through to the real function), to show what was not opened."""
    from reporting import service as reporting

    opened: list[int] = []
    real = getattr(reporting, opener)

    def counted(report: Any) -> Any:
        opened.append(report.id)
        return real(report)

    monkeypatch.setattr(reporting, opener, counted)
    return opened
