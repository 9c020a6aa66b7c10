"""The right of access: exactly the user's own data, nothing of others'; audited."""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import Factory, case_of, form_login
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case, report_payload, to_in_progress
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def world(app):
    return build_world(app)


def colleague_report(app, world, colleague: Api, marker: str, **extra) -> None:
    body = {**report_payload(world, marker), **extra}
    r = colleague.post("/api/v1/reports", body)
    assert r.status_code == 201, r.get_json()


def test_the_download_has_the_users_own_data_and_nothing_of_others(app, world):
    handler, me = Api(app, world.handler), Api(app, world.employee)
    colleague_info = Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,))
    colleague = Api(app, colleague_info)
    marked_case(app, world, "MINE", handler=handler, reporter=me)
    # The same incident, reported by a colleague: theirs, not mine.
    colleague_report(app, world, colleague, "THEIRS")
    # A colleague's report that names me as the exposed employee.
    colleague_report(app, world, colleague, "NAMED", exposed=[{"user_id": world.employee.id}])

    r = me.get("/api/v1/account/my-data")
    assert r.status_code == 200, r.get_json()
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.get_json()
    text = json.dumps(doc, ensure_ascii=False)
    assert [rep["narrative"] for rep in doc["reports"]] == ["MINE-narrative æøå"]
    # As they wrote it: what they chose on the form too, not only what they typed.
    [mine] = doc["reports"]
    assert (mine["unit"], mine["place_type"], mine["severity"], mine["injury_level"]) == (
        "Akutten",
        "patient_room",
        3,
        "first_aid",
    )
    assert mine["police_report"] == "employee"  # vocabulary: who reported to the police
    assert "MINE-to-reporter" in text
    assert "MINE-reply" in text
    assert "MINE-feedback" in text
    assert "MINE-internal" not in text  # the handlers' internal note is not the reporter's
    assert "THEIRS" not in text
    assert "NAMED" not in text  # the colleague's account stays theirs
    assert [n["role"] for n in doc["named_as_exposed"]] == ["exposed"]
    assert doc["account"]["email"] == world.employee.email
    assert "Kari Kollega" not in text

    pdf = me.get("/api/v1/account/my-data?format=pdf")
    assert pdf.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    pdf_text = "\n".join(p.extract_text() for p in pages)
    assert "MINE-narrative æøå" in pdf_text
    assert "Akutten" in pdf_text
    # Each report under its reference, each message numbered as one ("Beskjed 1").
    assert f"Melding {mine['reference']}" in pdf_text
    assert f"Sak {doc['named_as_exposed'][0]['reference']}" in pdf_text
    assert "Beskjed 1" in pdf_text
    assert "Meldingene dine 1" not in pdf_text
    assert me.get("/api/v1/account/my-data?format=docx").status_code == 400

    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.access_export")
        ).all()
        assert [(e.actor, e.object_id) for e in entries] == [
            (f"user:{world.employee.id}", str(world.employee.id))
        ] * 2


def test_the_exposed_employee_sees_the_tasks_but_not_the_handlers_notes(app, world):
    """Named in a colleague's report: the tasks of that case concern me, the handlers'
    notes on them do not; and the case's access history shows that I read it."""
    handler, me = Api(app, world.handler), Api(app, world.employee)
    colleague = Api(app, Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,)))
    r = colleague.post(
        "/api/v1/reports",
        {**report_payload(world, "NAMED"), "exposed": [{"user_id": world.employee.id}]},
    )
    assert r.status_code == 201, r.get_json()
    case_id = case_of(app, r.get_json()["id"])
    base = f"/api/v1/cases/{case_id}"
    to_in_progress(handler, case_id)
    r = handler.post(
        base + "/tasks", {"template": "leader_contact", "responsible_user_id": world.manager.id}
    )
    assert r.status_code == 201, r.get_json()
    r = handler.patch(f"{base}/tasks/{r.get_json()['id']}", {"note": "HANDLERS-ONLY-note"})
    assert r.status_code == 200, r.get_json()

    doc = me.get("/api/v1/account/my-data").get_json()
    [named] = doc["named_as_exposed"]
    assert [t["template"] for t in named["tasks"]] == ["leader_contact"]
    assert "HANDLERS-ONLY" not in json.dumps(doc, ensure_ascii=False)
    pdf = me.get("/api/v1/account/my-data?format=pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "HANDLERS-ONLY" not in text
    with app.app_context():
        reads = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.read", AuditEntry.object_id == str(case_id)
            )
        ).all()
        mine = [e.detail_dict() for e in reads if e.actor == f"user:{world.employee.id}"]
        assert mine == [{"part": "access", "level": "subject"}] * 2


def test_my_own_report_about_myself_carries_its_follow_up(app, world):
    """The report form names the reporter as the exposed employee: the follow-up of
    their own report concerns them, as it would in a colleague's report."""
    handler, me = Api(app, world.handler), Api(app, world.employee)
    r = me.post(
        "/api/v1/reports",
        {**report_payload(world, "SELF"), "exposed": [{"user_id": world.employee.id}]},
    )
    assert r.status_code == 201, r.get_json()
    case_id = case_of(app, r.get_json()["id"])
    to_in_progress(handler, case_id)
    r = handler.post(
        f"/api/v1/cases/{case_id}/tasks",
        {"template": "leader_contact", "responsible_user_id": world.manager.id},
    )
    assert r.status_code == 201, r.get_json()
    r = handler.patch(
        f"/api/v1/cases/{case_id}/tasks/{r.get_json()['id']}", {"note": "HANDLERS-ONLY-note"}
    )
    assert r.status_code == 200, r.get_json()

    doc = me.get("/api/v1/account/my-data").get_json()
    [mine] = doc["reports"]
    assert [t["template"] for t in mine["tasks"]] == ["leader_contact"]
    assert mine["debriefings"] == []
    assert doc["named_as_exposed"] == []  # the same report is not listed twice
    assert "HANDLERS-ONLY" not in json.dumps(doc, ensure_ascii=False)
    pdf = me.get("/api/v1/account/my-data?format=pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Lederen tar kontakt" in text


def test_an_admin_answers_an_access_request_with_a_reason(app, world):
    handler, me = Api(app, world.handler), Api(app, world.employee)
    marked_case(app, world, "REQ", handler=handler, reporter=me)
    admin = Api(app, world.admin)
    body = {"email": world.employee.email, "reason": "data_subject_request"}
    r = admin.post("/api/v1/retention/access-requests", body)
    assert r.status_code == 200, r.get_json()
    # The admin gets the account, never the reports or cases (nor that the person
    # reported at all): the person downloads those from their own account page.
    doc = r.get_json()
    assert doc["account"]["email"] == world.employee.email
    assert "reports" not in doc
    assert "named_as_exposed" not in doc
    assert "REQ" not in json.dumps(doc, ensure_ascii=False)
    pdf = admin.post("/api/v1/retention/access-requests", {**body, "format": "pdf"})
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "REQ" not in text
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.access_export")
        ).all()
        assert [e.actor for e in entries] == [f"user:{world.admin.id}"] * 2
        assert entries[0].detail_dict() == {"reason": "data_subject_request", "cases": False}
    missing = admin.post("/api/v1/retention/access-requests", {**body, "email": "no@example.org"})
    assert missing.status_code == 404
    assert (
        admin.post("/api/v1/retention/access-requests", {**body, "reason": "x"}).status_code == 400
    )
    assert handler.post("/api/v1/retention/access-requests", body).status_code == 403


def test_the_account_page_links_the_download_in_its_own_language(app, world):
    """A user who never chose a language reads the page in Norwegian, while their
    browser may ask for English: the download follows the page it is linked from."""
    client = app.test_client()
    form_login(client, world.employee)
    english_browser = {"Accept-Language": "en-GB,en;q=0.9"}
    page = client.get("/account", headers=english_browser).get_data(as_text=True)
    [link] = re.findall(r'href="(/api/v1/account/my-data\?format=pdf[^"]*)"', page)
    link = link.replace("&amp;", "&")
    assert "lang=nb" in link
    pdf = client.get(link, headers=english_browser)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Hva Trygg lagrer om deg" in text
    # An API client without `lang` is answered as its Accept-Language asks.
    plain = client.get("/api/v1/account/my-data?format=pdf", headers=english_browser)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(plain.data)).pages)
    assert "What Trygg stores about you" in text


def test_the_download_reads_each_case_once_for_all_reports(app, world):
    """A person may have reported a thousand times: the cases of all their reports are
    read together, and each report adds at most the reading of its messages."""
    from sqlalchemy import event

    me = Api(app, world.employee)
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            seen.append(statement)

    def statements() -> int:
        seen.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert me.get("/api/v1/account/my-data").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(seen)

    colleague_report(app, world, me, "FIRST")
    one = statements()
    for n in range(4):
        colleague_report(app, world, me, f"MORE{n}")
    five = statements()
    assert five - one <= 4, (one, five)


@pytest.mark.parametrize("bad", ["xx", "EN", "nb-NO", ""])
def test_a_download_language_not_offered_is_refused_by_its_field(app, world, bad):
    client = app.test_client()
    form_login(client, world.employee)
    answer = client.get("/api/v1/account/my-data", query_string={"format": "pdf", "lang": bad})
    assert answer.status_code == 400
    assert list(answer.get_json()["errors"]) == ["lang"]
