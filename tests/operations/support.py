"""An organisation filled through the real API, and everything read back from it.

`fill` makes reports with attachments (several chunks, an image, text), their cases and
a handler's message, as people would. `read_back` opens all of it again, as the
employee and as the handler would, so a database can be compared before and after.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from handling import service as handling
from tests.factories import Factory, UserInfo, api_login, csrf_token
from tests.reporting.support import png_bytes, post_report, valid_report
from trygg.extensions import db
from trygg.roles import Role


def pdf_bytes(size: int) -> bytes:
    """A file sniffed as PDF and stored as sent: random bytes behind the magic."""
    return b"%PDF-1.4\n" + os.urandom(size)


@dataclass
class Filled:
    employee: UserInfo
    handler: UserInfo
    report_ids: list[int]


def fill(app: Flask) -> Filled:
    """A unit, an employee, a handler group, an admin with TOTP, and three reports.

    The app should not require two-factor logins (two_factor_roles=[]): the handler logs
    in more often than TOTP's time steps allow in a fast test. The admin's authenticator
    stands for the users' sealed secrets.
    """
    make = Factory(app)
    unit = make.unit("Akuttmottaket", headcount=40)
    employee = make.user(Role.EMPLOYEE, units=(unit,), name="Kari Nordmann")
    handler = make.user(Role.HANDLER, units=(unit,), name="Hanne Handler")
    make.user(Role.ADMIN, name="Ada Admin", totp=True)
    with app.app_context():
        group = handling.save_group(
            actor="test", name="HMS", member_ids=[handler.id], is_default=True, is_fallback=True
        )
        handling.create_rule(actor="test", group_id=group.id)
        db.session.commit()

    client = app.test_client()
    api_login(client, employee)
    files: list[list[tuple[bytes, str]]] = [
        [],
        [(pdf_bytes(1_500_000), "politianmeldelse.pdf"), (png_bytes((40, 30)), "bilde.png")],
        [("Han sa: «Jeg vet hvor du bor.»\n".encode() * 50, "notat.txt")],
    ]
    ids = []
    for n, attached in enumerate(files):
        body = valid_report(unit.id, narrative=f"Hendelse {n}: {secrets.token_hex(8)}")
        response = post_report(client, body, attached or None)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])

    staff = app.test_client()
    api_login(staff, handler)
    cases = staff.get("/api/v1/cases").get_json()["cases"]
    assert len(cases) == len(ids)
    response = staff.post(
        f"/api/v1/cases/{cases[0]['id']}/messages",
        json={"body": "Takk for meldingen. Kan vi snakke i morgen?"},
        headers={"X-CSRFToken": csrf_token(staff)},
    )
    assert response.status_code == 201, response.get_json()
    return Filled(employee, handler, ids)


def read_back(app: Flask, filled: Filled) -> dict[str, Any]:
    """Every report, file, case and message, opened through the API."""
    client = app.test_client()
    api_login(client, filled.employee)
    seen: dict[str, Any] = {}
    for report_id in filled.report_ids:
        response = client.get(f"/api/v1/reports/{report_id}")
        assert response.status_code == 200, response.get_json()
        detail = response.get_json()
        seen[f"report {report_id}"] = detail["narrative"]
        for attachment in detail["attachments"]:
            path = f"/api/v1/reports/{report_id}/attachments/{attachment['id']}"
            download = client.get(path, buffered=True)
            assert download.status_code == 200
            seen[f"file {attachment['id']}"] = (attachment["name"], download.get_data())
    staff = app.test_client()
    api_login(staff, filled.handler)
    for case in staff.get("/api/v1/cases").get_json()["cases"]:
        response = staff.get(f"/api/v1/cases/{case['id']}")
        assert response.status_code == 200, response.get_json()
        detail = response.get_json()
        seen[f"case {case['id']}"] = (
            detail["report"]["narrative"],
            [m["body"] for m in detail["messages"]],
            sorted(d["kind"] for d in detail["deadlines"]),
        )
    return seen


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table the models know, counted without the backup's own code."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
        }
