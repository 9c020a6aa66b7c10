"""Builders for test data. They call the real services, each in its own app context.

They return plain records, not ORM objects, so tests never touch a session that a
request in between has closed. Every test builds through these: units and users, a
report (and the case its submission opens), an anonymous report, and the CSRF token of
the API or of a page's form.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from handling import service as handling
from reporting.models import Report
from reporting.schemas import ReportSchema
from reporting.service import submit_report
from trygg import org
from trygg.accounts import service as accounts
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.roles import Role

PASSWORD = "correct horse battery staple"


@dataclass
class UserInfo:
    id: int
    email: str
    password: str
    roles: tuple[str, ...]
    totp_secret: str | None = None
    used_steps: set[int] = field(default_factory=set)

    def otp(self) -> str:
        """A fresh TOTP code no earlier login of this user has used."""
        assert self.totp_secret, "user has no authenticator"
        totp = pyotp.TOTP(self.totp_secret)
        step = totp.timecode(datetime.now(UTC))
        for candidate in (step, step + 1):
            if candidate not in self.used_steps and all(candidate > s for s in self.used_steps):
                self.used_steps.add(candidate)
                return totp.generate_otp(candidate)
        raise AssertionError("no unused TOTP step left in the window; wait 30 s")


@dataclass
class UnitInfo:
    id: int
    name: str
    parent_id: int | None
    headcount: int


@dataclass
class CaseRef:
    id: int
    report_id: int
    group_id: int | None
    track: str
    state: str
    reference: str = ""


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


def anonymous_report_data(**changes: Any) -> dict[str, Any]:
    """A valid anonymous report for the JSON API: bullying by a leader."""
    occurred = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    body: dict[str, Any] = {
        "incident_types": ["bullying", "verbal_abuse"],
        "occurred_at": occurred.isoformat(),
        "place_type": "other",
        "counterpart_category": "leader",
        "severity": 2,
        "narrative": "My leader shouts at me in front of the others in every meeting.",
    }
    body.update(changes)
    return body


def submit_anonymous(client: FlaskClient, *, remote: str = "192.0.2.10", **changes: Any) -> Any:
    """POST an anonymous report through the API from a client address (the link must be
    on); the response."""
    return client.post(
        "/api/v1/anonymous/reports",
        json=anonymous_report_data(**changes),
        headers={"X-CSRFToken": csrf_token(client)},
        environ_base={"REMOTE_ADDR": remote},
    )


def user_obj(info: UserInfo) -> User:
    """The user's row, in the current app context."""
    user = db.session.get(User, info.id)
    assert user is not None
    return user


def case_of(app: Flask, report_id: int) -> int:
    """The id of the case a report's submission opened."""
    with app.app_context():
        case = handling.case_for_report(db.session.get(Report, report_id))
        assert case is not None, "no case was opened for the report"
        return case.id


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def unit(
        self, name: str | None = None, *, parent: UnitInfo | None = None, headcount: int = 20
    ) -> UnitInfo:
        with self.app.app_context():
            parent_unit = org.get_unit(parent.id) if parent else None
            unit = org.create_unit(
                name or f"Unit {secrets.token_hex(3)}", parent=parent_unit, headcount=headcount
            )
            db.session.commit()
            return UnitInfo(unit.id, unit.name, unit.parent_id, unit.headcount)

    def user(
        self,
        *roles: str,
        email: str | None = None,
        name: str = "Test Person",
        units: tuple[UnitInfo, ...] = (),
        manages: tuple[UnitInfo, ...] = (),
        represents: tuple[UnitInfo, ...] = (),
        password: str = PASSWORD,
        totp: bool | None = None,
        active: bool = True,
    ) -> UserInfo:
        """A user; handlers and admins get an authenticator unless totp=False."""
        roles = roles or (Role.EMPLOYEE,)
        with self.app.app_context():
            user = accounts.create_user(
                email=email or f"user-{secrets.token_hex(4)}@example.org",
                name=name,
                roles=roles,
                units=[org.get_unit(u.id) for u in units],  # type: ignore[misc]
                managed_units=[org.get_unit(u.id) for u in manages],  # type: ignore[misc]
                represented_units=[org.get_unit(u.id) for u in represents],  # type: ignore[misc]
                password=password,
                actor="test",
            )
            secret = None
            if totp if totp is not None else accounts.two_factor_required(user):
                enrolment = accounts.start_enrolment(user)
                secret = enrolment.secret
                totp_obj = pyotp.TOTP(secret)
                # The current step: should the clock pass a step boundary before the check,
                # it is still within the accepted window of one step either side.
                step = totp_obj.timecode(datetime.now(UTC))
                accounts.confirm_enrolment(user, totp_obj.generate_otp(step))
            if not active:
                accounts.deactivate_user(user, actor="test")
            db.session.commit()
            info = UserInfo(user.id, user.email, password, tuple(roles), secret)
            if secret:
                info.used_steps.add(user.totp_last_step or 0)
            return info

    def report(self, reporter: UserInfo | int | None, **fields: Any) -> CaseRef:
        """A report through the real intake service (committed; `unit_id` required, the
        rest as report_data) and the case its submission opened. The reporter is a
        user built here, or a user id (a demo user's)."""
        report_id = self.report_id(reporter, **fields)
        with self.app.app_context():
            report = db.session.get(Report, report_id)
            assert report is not None
            case = handling.case_for_report(report)
            assert case is not None, "no case was opened for the report"
            return CaseRef(
                case.id, report_id, case.group_id, case.track, case.state, report.reference
            )

    def report_id(self, reporter: UserInfo | int | None, **fields: Any) -> int:
        """A report through the real intake service (committed); its id."""
        if "unit_id" not in fields:
            raise AssertionError("give unit_id")
        with self.app.app_context():
            if isinstance(reporter, int):
                user = db.session.get(User, reporter)
            else:
                user = user_obj(reporter) if reporter is not None else None
            data = ReportSchema().load(report_data(**fields))
            report = submit_report(data, reporter=user)
            db.session.commit()
            return report.id


def csrf_token(client: FlaskClient) -> str:
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    return str(token)


def choose_language(client: FlaskClient, lang: str) -> None:
    """Pick the interface language with the language switch, as a person would (pages
    never follow the browser's Accept-Language)."""
    response = client.post("/language", data={"csrf_token": csrf_token(client), "lang": lang})
    assert response.status_code == 302


def api_login(client: FlaskClient, user: UserInfo) -> Any:
    """Log in through the JSON API (with a TOTP code when the user has one)."""
    body: dict[str, Any] = {"email": user.email, "password": user.password}
    if user.totp_secret:
        body["otp"] = user.otp()
    response = client.post(
        "/api/v1/session", json=body, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert response.status_code == 200, response.get_json()
    return response


def form_login(client: FlaskClient, user: UserInfo) -> Any:
    """Log in through the pages, like a person would."""
    page = client.get("/login")
    token = page_token(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": user.password}
    )
    if user.totp_secret:
        assert response.status_code == 302
        assert "/login/code" in response.headers["Location"]
        page = client.get("/login/code")
        response = client.post(
            "/login/code",
            data={"csrf_token": page_token(page.get_data(as_text=True)), "otp": user.otp()},
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def page_token(html: str) -> str:
    """The CSRF token in a page's form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def form_token(client: FlaskClient, path: str) -> str:
    """The CSRF token from a page's form."""
    return page_token(client.get(path).get_data(as_text=True))
