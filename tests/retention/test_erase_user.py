"""Erasing an account's personal data: gone from the account, the lists and the log-ins;
the cases stay intact, pseudonymous."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from handling.models import HandlerGroupMember
from notifications.models import Notification
from tests.factories import choose_language, csrf_token
from tests.handling.conftest import Api, reports_opened
from tests.retention.support import build_world, marked_case
from trygg.accounts.models import SignIn, User, UserRole
from trygg.accounts.names import FORMER_EMPLOYEE
from trygg.audit import AuditEntry
from trygg.extensions import db


@pytest.fixture
def world(app):
    return build_world(app)


def test_an_erased_employee_leaves_no_personal_data_and_their_case_stays(app, world):
    handler, me = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "GONE", handler=handler, reporter=me, close=False)
    admin = Api(app, world.admin)
    r = admin.post("/api/v1/retention/erase-user", {"email": world.employee.email, "confirm": True})
    assert r.status_code == 204, r.get_json()
    with app.app_context():
        user = db.session.get(User, world.employee.id)
        assert user is not None
        # A neutral marker is stored, never English (or Norwegian) words.
        assert (user.name, user.active, user.password_hash) == (FORMER_EMPLOYEE, False, None)
        assert world.employee.email not in user.email
        for model in (UserRole, SignIn, Notification):
            count = db.session.scalar(select(func.count()).where(model.user_id == user.id))
            assert count == 0, model
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.erase")
        ).one()
        assert (entry.actor, entry.object_id) == (f"user:{world.admin.id}", str(user.id))
    # The case is intact for its handler.
    detail = handler.get(f"/api/v1/cases/{case_id}")
    assert detail.status_code == 200
    report = detail.get_json()["report"]
    assert report["narrative"] == "GONE-narrative æøå"
    # It is shown in the reader's language: nb by default, en when chosen.
    assert [p["name"] for p in report["exposed"]] == ["Tidligere ansatt"]
    english = handler.get(f"/api/v1/cases/{case_id}", headers={"Accept-Language": "en"})
    assert [p["name"] for p in english.get_json()["report"]["exposed"]] == ["Former employee"]
    assert "Ella Employee" not in detail.get_data(as_text=True)
    # And the old login no longer works.
    client = app.test_client()
    body = {"email": world.employee.email, "password": world.employee.password}
    refused = client.post("/api/v1/session", json=body, headers={"X-CSRFToken": csrf_token(client)})
    assert refused.status_code == 401


def test_an_erased_handler_leaves_their_groups(app, world, runner):
    result = runner.invoke(args=["retention", "erase-user", world.handler.email, "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        members = db.session.scalar(
            select(func.count()).where(HandlerGroupMember.user_id == world.handler.id)
        )
        assert members == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [({"confirm": True}, 400), ({"email": "x@example.org", "confirm": False}, 400)],
)
def test_erasing_needs_an_address_and_a_confirmation(app, world, body, status):
    assert Api(app, world.admin).post("/api/v1/retention/erase-user", body).status_code == status


def test_an_admin_cannot_erase_themselves_and_others_cannot_erase(app, world):
    admin = Api(app, world.admin)
    body = {"email": world.admin.email, "confirm": True}
    assert admin.post("/api/v1/retention/erase-user", body).status_code == 400
    handler = Api(app, world.handler)
    body = {"email": world.employee.email, "confirm": True}
    assert handler.post("/api/v1/retention/erase-user", body).status_code == 403


def test_the_admin_user_list_shows_an_erased_account_in_the_readers_language(app, world):
    admin = Api(app, world.admin)
    body = {"email": world.employee.email, "confirm": True}
    assert admin.post("/api/v1/retention/erase-user", body).status_code == 204
    nb = admin.get("/admin/users").get_data(as_text=True)
    assert "Tidligere ansatt" in nb
    assert FORMER_EMPLOYEE not in nb
    choose_language(admin.client, "en")
    en = admin.get("/admin/users").get_data(as_text=True)
    assert "Former employee" in en


def test_a_case_export_names_an_erased_reporter_in_the_readers_language(app, world):
    """The export for an authority shows "Tidligere ansatt" / "Former employee" for an
    erased reporter, never the stored marker (044bfe9)."""
    from tests.retention.test_pdf_labels import export, text_of

    handler, me = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "EXP", handler=handler, reporter=me, close=False)
    admin = Api(app, world.admin)
    body = {"email": world.employee.email, "confirm": True}
    assert admin.post("/api/v1/retention/erase-user", body).status_code == 204
    for lang, words in (("nb", "Tidligere ansatt"), ("en", "Former employee")):
        document = export(handler, case_id, lang, "json")
        assert document.status_code == 200, document.get_json()
        raw = document.get_data(as_text=True)
        assert words in raw, lang
        assert FORMER_EMPLOYEE not in raw
        assert "Ella Employee" not in raw
        pdf = text_of(export(handler, case_id, lang).data)
        assert words in pdf, lang
        assert "former-employee" not in pdf
        assert "Ella Employee" not in pdf


def test_an_account_erased_before_the_marker_is_shown_in_the_readers_language(app, world):
    """Accounts erased before the neutral marker existed hold the English words; they are
    shown like the marker, in Norwegian by default."""
    with app.app_context():
        user = db.session.get(User, world.employee.id)
        assert user is not None
        user.name, user.active = "Former employee", False
        db.session.commit()
    admin = Api(app, world.admin)
    nb = admin.get("/admin/users").get_data(as_text=True)
    assert "Tidligere ansatt" in nb
    assert "Ella Employee" not in nb


@pytest.mark.parametrize("indexed", [True, False], ids=["by the index", "not indexed yet"])
def test_erasing_opens_only_the_reports_naming_the_person(app, world, monkeypatch, indexed):
    """The name goes from every report naming the person (as reporter, exposed or
    witness); the people index finds those, so erasing one person does not open every
    report of the organisation (a spy counts the openings and lets them through).
    Reports from before the index (people_index NULL) are all opened, as before."""
    from sqlalchemy import update

    from reporting import service as reporting
    from reporting.models import Report
    from tests.factories import Factory
    from tests.retention.support import report_payload
    from trygg.roles import Role

    make = Factory(app)
    colleague = Api(app, make.user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,)))
    me = Api(app, world.employee)
    mine = me.post("/api/v1/reports", report_payload(world, "MINE")).get_json()["id"]
    witness = {"witnesses": [{"user_id": world.employee.id}]}
    seen = colleague.post("/api/v1/reports", {**report_payload(world, "SAW"), **witness})
    others = [
        colleague.post("/api/v1/reports", report_payload(world, f"OTHER{n}")).get_json()["id"]
        for n in range(4)
    ]
    if not indexed:
        with app.app_context():
            db.session.execute(update(Report).values(people_index=None))
            db.session.commit()
    opened = reports_opened(monkeypatch, "data_key")
    admin = Api(app, world.admin)
    r = admin.post("/api/v1/retention/erase-user", {"email": world.employee.email, "confirm": True})
    assert r.status_code == 204, r.get_json()
    named = {mine, seen.get_json()["id"]}
    assert set(opened) == (named | set(others) if not indexed else named)
    monkeypatch.undo()
    with app.app_context():
        for report_id in named:
            people = reporting.people_named(db.session.get(Report, report_id))
            assert world.employee.id in people.user_ids["exposed"] | people.user_ids["witnesses"]
            text = str(
                reporting._open(  # noqa: SLF001 - reading the sealed field itself
                    reporting.data_key(db.session.get(Report, report_id)),
                    db.session.get(Report, report_id),
                    "people",
                    as_json=True,
                )
            )
            assert "Ella Employee" not in text
            assert FORMER_EMPLOYEE in text


@pytest.mark.parametrize("indexed", [True, False], ids=["by the index", "not indexed yet"])
def test_erasing_removes_the_name_of_a_reporter_who_named_someone_else(
    app, world, monkeypatch, indexed
):
    """A report the person filed about a colleague names them only as its reporter (not
    exposed, not witness): the people index's `reporter` role finds it."""
    from sqlalchemy import update

    from reporting import service as reporting
    from reporting.models import Report
    from tests.factories import Factory
    from tests.retention.support import report_payload
    from trygg.roles import Role

    colleague = Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,))
    me = Api(app, world.employee)
    body = {**report_payload(world, "FOR"), "exposed": [{"user_id": colleague.id}]}
    response = me.post("/api/v1/reports", body)
    assert response.status_code == 201, response.get_json()
    filed = response.get_json()["id"]
    if not indexed:
        with app.app_context():
            db.session.execute(update(Report).values(people_index=None))
            db.session.commit()
    admin = Api(app, world.admin)
    r = admin.post("/api/v1/retention/erase-user", {"email": world.employee.email, "confirm": True})
    assert r.status_code == 204, r.get_json()
    with app.app_context():
        report = db.session.get(Report, filed)
        reporter = reporting._open(  # noqa: SLF001 - reading the sealed field itself
            reporting.data_key(report), report, "reporter", as_json=True
        )
        assert reporter["user_id"] == world.employee.id
        assert "Ella Employee" not in str(reporter)
        assert FORMER_EMPLOYEE in str(reporter)
