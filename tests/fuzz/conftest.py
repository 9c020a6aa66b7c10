"""A small organisation on a really committed database, and a logged-in caller per role.

The fuzzer sends every request through the app as a real client would: with a session
cookie from a real login (a TOTP code for handlers and admins), the CSRF token from
/api/v1/csrf, and the anonymous follow-up session from a real receipt code. The world
holds one object of each kind (a report with a file, its case, a task, a group, a rule,
a notification), so generated paths can name things that exist.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from handling import service as handling
from handling.models import Case
from notifications.models import Notification
from reporting.models import Attachment, Report
from tests.conftest import ENGINE, _worker, drop_postgres_database, migrated_database
from tests.factories import Factory, UnitInfo, UserInfo, api_login, csrf_token
from tests.reporting.support import valid_report
from trygg import audit_check
from trygg.app import create_app
from trygg.extensions import db
from trygg.roles import Role

ROLES = (
    "anonymous",
    "whistleblower",
    Role.EMPLOYEE,
    Role.HANDLER,
    Role.MANAGER,
    Role.SAFETY_REP,
    Role.ADMIN,
)


@dataclass
class Caller:
    """A client with its session and the headers every request of it carries."""

    client: FlaskClient
    headers: dict[str, str]


@dataclass
class World:
    app: Flask
    unit: UnitInfo
    group_id: int
    users: dict[str, UserInfo] = field(default_factory=dict)
    callers: dict[str, Caller] = field(default_factory=dict)
    receipt: str = ""
    ids: dict[str, int] = field(default_factory=dict)

    def caller(self, role: str) -> Caller:
        if role not in self.callers:
            self.callers[role] = self.log_in(role)
        return self.callers[role]

    def log_in(self, role: str, *, fresh_user: bool = False) -> Caller:
        """A new client in the role's session; `fresh_user` for a new account of it
        (a TOTP code works once, so a second login of the same handler has to wait)."""
        client = self.app.test_client()
        if role == "whistleblower":
            response = client.post(
                "/api/v1/anonymous/session",
                json={"receipt": self.receipt},
                headers={"X-CSRFToken": csrf_token(client)},
            )
            assert response.status_code == 200, response.get_json()
        elif role != "anonymous":
            user = self.users[role]
            if fresh_user:
                user = self.new_user(role)
            api_login(client, user)
        return Caller(client, {"X-CSRFToken": csrf_token(client)})

    def new_user(self, role: str) -> UserInfo:
        make = Factory(self.app)
        extra = (Role.EMPLOYEE,) if role in {Role.MANAGER, Role.SAFETY_REP} else ()
        return make.user(
            role,
            *extra,
            units=(self.unit,),
            manages=(self.unit,) if role == Role.MANAGER else (),
            represents=(self.unit,) if role == Role.SAFETY_REP else (),
        )

    def problems(self) -> list[str]:
        """What a half-done request would leave behind: a report without its case, a
        file without its report, or a broken audit chain."""
        found = []
        with self.app.app_context():
            reports = db.session.scalar(select(func.count()).select_from(Report)) or 0
            cases = db.session.scalar(select(func.count()).select_from(Case)) or 0
            if reports != cases:
                found.append(f"{reports} reports but {cases} cases")
            orphans = db.session.scalar(
                select(func.count())
                .select_from(Attachment)
                .where(~Attachment.report_id.in_(select(Report.id)))
            )
            if orphans:
                found.append(f"{orphans} attachments without a report")
            checked, broken = audit_check.verify()
            if broken is not None:
                found.append(f"audit chain broken after {checked} entries: {broken}")
            db.session.rollback()
        return found


def _build(app: Flask) -> World:
    make = Factory(app)
    unit = make.unit("Akuttmottaket", headcount=40)
    world = World(app, unit, 0)
    for role in ROLES[2:]:
        world.users[role] = world.new_user(role)
    with app.app_context():
        group = handling.save_group(
            actor="test",
            name="HMS",
            member_ids=[world.users[Role.HANDLER].id],
            is_default=True,
            is_fallback=True,
        )
        rule = handling.create_rule(actor="test", group_id=group.id)
        db.session.commit()
        world.group_id, world.ids["rule_id"] = group.id, rule.id

    employee = world.caller(Role.EMPLOYEE).client
    response = employee.post(
        "/api/v1/reports",
        data={
            "data": json.dumps(valid_report(unit.id)),
            "files": [(io.BytesIO(b"Han sa: Jeg vet hvor du bor.\n"), "notat.txt")],
        },
        headers=world.caller(Role.EMPLOYEE).headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    world.ids["report_id"] = response.get_json()["id"]
    detail = employee.get(f"/api/v1/reports/{world.ids['report_id']}").get_json()
    world.ids["attachment_id"] = detail["attachments"][0]["id"]

    anonymous = app.test_client()
    body = {**valid_report(unit.id), "incident_types": ["bullying"], "severity": 1}
    body.pop("unit_id")
    response = anonymous.post(
        "/api/v1/anonymous/reports",
        json=body,
        headers={"X-CSRFToken": csrf_token(anonymous)},
    )
    assert response.status_code == 201, response.get_json()
    world.receipt = response.get_json()["receipt"]

    staff = world.caller(Role.HANDLER)
    cases = staff.client.get("/api/v1/cases").get_json()["cases"]
    case_id = next(c["id"] for c in cases if c["report_id"] == world.ids["report_id"])
    world.ids["case_id"] = case_id
    response = staff.client.post(
        f"/api/v1/cases/{case_id}/tasks",
        json={"template": "leader_contact", "responsible_user_id": world.users[Role.HANDLER].id},
        headers=staff.headers,
    )
    assert response.status_code == 201, response.get_json()
    world.ids["task_id"] = response.get_json()["id"]
    world.ids["group_id"] = world.group_id
    with app.app_context():
        notification = db.session.scalar(select(Notification.id).limit(1))
    world.ids["notification_id"] = notification or 1
    return world


@pytest.fixture(scope="module")
def world(
    base_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The organisation on a database of its own, committed for real."""
    label = "fuzz"
    url = migrated_database(base_settings, tmp_path_factory.mktemp("fuzz"), label)
    app = create_app({**base_settings, "database_url": url, "anonymous_enabled": True})
    yield _build(app)
    with app.app_context():
        db.engine.dispose()
    if ENGINE == "postgres":
        drop_postgres_database(f"trygg_{label}_{_worker()}")
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
