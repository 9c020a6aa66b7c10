"""The separation-of-duties matrix (issue 10): who reads an existing case, by every way in.

Rows: an admin; an admin who tries to become a case reader (refused at every door, so
they stay an admin); a handler added to the group after the case came; a member from
before; a handler given access by break-glass. Columns: the case page, the case's JSON,
its messages, the queue (page and JSON), and the command line. The case holds a
narrative and a message that must appear only where access was given.
"""

from __future__ import annotations

import pytest

from tests.factories import form_login, form_token
from trygg.roles import Role

NARRATIVE = "Pasienten truet med kniv ved sengen (matrise)."
MESSAGE = "Internt: vi ringer politiet (matrise)."

# The scenarios (who tries to read the case), not roles or grant kinds.
ROWS = [
    "admin",  # vocabulary: scenario name
    "admin_plus",
    "new_member",
    "existing_member",
    "break_glass",  # vocabulary: scenario name
]
CAN_READ = {"existing_member", "break_glass"}  # vocabulary: scenario name


@pytest.fixture
def world(app, org, make, submit, api, runner):
    case = submit(org.employee, unit_id=org.ward.id, narrative=NARRATIVE)
    hanna = api(org.handler)
    assert (
        hanna.post(
            f"/api/v1/cases/{case.id}/messages", {"body": MESSAGE, "internal": True}
        ).status_code
        == 201
    )
    new_member = make.user(Role.HANDLER, name="Nils Ny")
    rescuer = make.user(Role.HANDLER, name="Berit Brann")
    admin_plus = make.user(Role.ADMIN, name="Adam Both")
    admin_api = api(org.admin)
    members = [org.handler.id, org.colleague.id, new_member.id]
    put = admin_api.put(
        f"/api/v1/admin/handler-groups/{org.hms}",
        {"name": "HMS", "member_ids": members, "is_default": True},
    )
    assert put.status_code == 200
    # The admin tries every door to read cases: a case-reading role, a group seat.
    admin_page = app.test_client()
    form_login(admin_page, admin_plus)
    refused = admin_page.post(
        f"/admin/users/{admin_plus.id}",
        data={
            "csrf_token": form_token(admin_page, f"/admin/users/{admin_plus.id}"),
            "email": admin_plus.email,
            "name": "Adam Both",
            "roles": [Role.ADMIN, Role.HANDLER],
            "active": "on",
        },
    )
    assert refused.status_code == 400
    seat = admin_api.put(
        f"/api/v1/admin/handler-groups/{org.hms}",
        {"name": "HMS", "member_ids": [*members, admin_plus.id], "is_default": True},
    )
    assert seat.status_code == 400
    cli = runner.invoke(args=["users", "create", "both@example.org", "--name", "B",
                              "--role", Role.ADMIN.value,
                              "--role", Role.HANDLER.value])  # fmt: skip
    assert cli.exit_code != 0
    glass = runner.invoke(
        args=["break-glass", admin_plus.email, "--case", str(case.id), "--reason", "Meg selv"]
    )
    assert glass.exit_code != 0
    assert (
        runner.invoke(
            args=["break-glass", rescuer.email, "--case", str(case.id), "--reason", "Ingen igjen"]
        ).exit_code
        == 0
    )
    return {
        "case": case,
        "page": admin_page,
        "users": {
            "admin": make.user(Role.ADMIN, name="Anne Admin"),  # vocabulary: scenario name
            "admin_plus": admin_plus,
            "new_member": new_member,
            "existing_member": org.colleague,
            "break_glass": rescuer,  # vocabulary: scenario name
        },
    }


def client_for(app, world, row):
    if row == "admin_plus":
        return world["page"]
    client = app.test_client()
    form_login(client, world["users"][row])
    return client


@pytest.mark.parametrize("row", ROWS)
def test_who_reads_an_existing_case(app, world, row, runner):
    case_id = world["case"].id
    client = client_for(app, world, row)
    reads = row in CAN_READ
    page = client.get(f"/cases/{case_id}")
    detail = client.get(f"/api/v1/cases/{case_id}")
    messages = client.get(f"/api/v1/cases/{case_id}/messages")
    queue_page = client.get("/cases").get_data(as_text=True)
    queue = client.get("/api/v1/cases?state=all")
    if reads:
        assert page.status_code == 200
        assert NARRATIVE in page.get_data(as_text=True)
        assert detail.get_json()["report"]["narrative"] == NARRATIVE
        assert MESSAGE in [m["body"] for m in messages.get_json()]
        assert case_id in {c["id"] for c in queue.get_json()["cases"]}
    else:
        refused = {403} if row.startswith("admin") else {404}  # vocabulary: scenario name
        assert page.status_code in refused
        assert detail.status_code in refused
        assert messages.status_code in refused
        assert NARRATIVE not in queue_page
        if queue.status_code == 200:
            assert case_id not in {c["id"] for c in queue.get_json()["cases"]}
        else:
            assert queue.status_code == 403
    # The command line's case views show ids and codes, never content, to anyone.
    for args in (["cases", "groups"], ["cases", "warnings"], ["cases", "overdue"]):
        output = runner.invoke(args=args).output
        assert NARRATIVE not in output
        assert MESSAGE not in output


def test_the_matrix_case_was_really_sealed(app, world):
    """The narrative is stored sealed: what the rows above read came through the keys."""
    from sqlalchemy import text

    from trygg.extensions import db

    with app.app_context():
        dump = " ".join(str(row) for row in db.session.execute(text("SELECT * FROM report")).all())
    assert NARRATIVE not in dump
