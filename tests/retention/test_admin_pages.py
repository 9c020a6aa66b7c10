"""The admin's retention pages (policies, legal holds, access requests) and a handler's
retention page per case: only their roles, CSRF on every form, translated messages."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from retention.models import LegalHold, RetentionPolicy
from tests.factories import form_login, form_token
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case
from trygg.audit import AuditEntry
from trygg.extensions import db

ADMIN_PAGES = ("/admin/retention", "/admin/retention/holds", "/admin/retention/access-requests")


@pytest.fixture
def world(app):
    return build_world(app)


def page_client(app, user):
    client = app.test_client()
    form_login(client, user)
    return client


def test_only_admins_see_the_retention_admin_pages(app, world):
    admin = page_client(app, world.admin)
    for path in ADMIN_PAGES:
        assert admin.get(path).status_code == 200, path
    home = admin.get("/admin/").get_data(as_text=True)
    assert "Oppbevaringsregler" in home
    assert "Innsynsbegjæringer" in home
    for user in (world.handler, world.employee, world.manager):
        client = page_client(app, user)
        for path in ADMIN_PAGES:
            assert client.get(path).status_code == 403, (user.roles, path)
    anonymous = app.test_client()
    for path in ADMIN_PAGES:
        assert anonymous.get(path).status_code in (302, 401), path
    for path in ADMIN_PAGES:  # no CSRF token: refused
        assert admin.post(path, data={}).status_code == 400, path


def test_the_retention_policies_are_saved_by_a_button_named_for_them(app, world):
    # The button shared its text with the deadline policies' and read "Lagre
    # fristreglene" (save the deadline rules) on the retention page.
    html = page_client(app, world.admin).get("/admin/retention").get_data(as_text=True)
    assert "Lagre oppbevaringsreglene" in html
    assert "fristregl" not in html


def test_an_admin_changes_a_policy_and_bad_months_are_refused_in_words(app, world):
    admin = page_client(app, world.admin)
    with app.app_context():
        policy = db.session.scalars(
            select(RetentionPolicy).where(RetentionPolicy.scope == "report")
        ).one()
        rows = {p.id: p.months for p in db.session.scalars(select(RetentionPolicy))}
    token = form_token(admin, "/admin/retention")
    form = {"csrf_token": token, **{f"months-{k}": str(v) for k, v in rows.items()}}
    bad = admin.post("/admin/retention", data={**form, f"months-{policy.id}": "0"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Velg mellom 1 og 600 måneder." in html
    assert 'aria-invalid="true"' in html
    bad = admin.post("/admin/retention", data={**form, f"months-{policy.id}": "tolv"})
    assert "Skriv antall måneder som et helt tall." in bad.get_data(as_text=True)
    saved = admin.post("/admin/retention", data={**form, f"months-{policy.id}": "18"})
    assert saved.status_code == 303
    assert "Oppbevaringsreglene er lagret." in admin.get("/admin/retention").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RetentionPolicy, policy.id).months == 18
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retention.policy")
        ).all()
        assert [e.detail_dict()["to"] for e in entries] == [18]  # only the changed row


def test_an_admin_places_and_lifts_a_hold_by_reference(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    _, _, reference = marked_case(app, world, "ADM", handler=handler, reporter=reporter)
    admin = page_client(app, world.admin)
    token = form_token(admin, "/admin/retention/holds")
    path = "/admin/retention/holds"
    unknown = admin.post(path, data={"csrf_token": token, "reference": "X-1", "reason": "police"})
    assert unknown.status_code == 400
    assert "Ingen sak har dette saksnummeret." in unknown.get_data(as_text=True)
    no_reason = admin.post(path, data={"csrf_token": token, "reference": reference})
    assert "Velg hvorfor saken må beholdes." in no_reason.get_data(as_text=True)
    # Typed as people type it: lower case, a space around it.
    placed = admin.post(
        path, data={"csrf_token": token, "reference": f" {reference.lower()} ", "reason": "lawsuit"}
    )
    assert placed.status_code == 303
    html = admin.get(path).get_data(as_text=True)
    assert reference in html
    assert "Rettssak" in html
    assert "ADM-" not in html  # an admin sees the reference, never the case
    lifted = admin.post(f"{path}/{reference}/lift", data={"csrf_token": token})
    assert lifted.status_code == 303
    assert "Ingen saker har slettestopp." in admin.get(path).get_data(as_text=True)
    again = admin.post(f"{path}/{reference}/lift", data={"csrf_token": token})
    assert again.status_code == 400
    with app.app_context():
        hold = db.session.scalars(select(LegalHold)).one()
        assert (hold.placed_by, hold.lifted_by) == (f"user:{world.admin.id}",) * 2


def test_an_admin_answers_an_access_request_on_the_page(app, world):
    admin = page_client(app, world.admin)
    path = "/admin/retention/access-requests"
    token = form_token(admin, path)
    missing = admin.post(
        path,
        data={"csrf_token": token, "email": "no@example.org", "reason": "data_subject_request"},
    )
    assert missing.status_code == 400
    assert "Ingen bruker har denne e-postadressen." in missing.get_data(as_text=True)
    no_reason = admin.post(path, data={"csrf_token": token, "email": world.employee.email})
    assert "Velg hvem begjæringen kommer fra." in no_reason.get_data(as_text=True)
    body = {
        "csrf_token": token,
        "email": world.employee.email,
        "reason": "data_subject_request",
        "format": "pdf",
    }
    answer = admin.post(path, data=body)
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.data)).pages)
    assert "Konto" in text
    assert "E-postadresse" in text
    assert world.employee.email in text
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.access_export")
        ).one()
        assert entry.detail_dict() == {"reason": "data_subject_request", "cases": False}


def test_a_handler_exports_and_holds_from_the_cases_retention_page(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, reference = marked_case(app, world, "HPG", handler=handler, reporter=reporter)
    client = handler.client  # the pages share the API's login session
    case_page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/retention" in case_page  # the notice's link
    path = f"/cases/{case_id}/retention"
    html = client.get(path).get_data(as_text=True)
    assert "Eksport til en myndighet" in html
    token = form_token(client, path)
    refused = client.post(f"{path}/export", data={"csrf_token": token, "format": "pdf"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Velg hvem eksporten er til." in html
    assert "Velg minst én del av saken som skal være med." in html
    body = {
        "csrf_token": token,
        "recipient": "police",
        "reason": "police_report",
        "sections": ["report", "closing"],
        "format": "pdf",
    }
    done = client.post(f"{path}/export", data=body)
    assert done.status_code == 200
    assert done.headers["Content-Disposition"] == f'attachment; filename="{reference}.pdf"'
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(done.data)).pages)
    assert "HPG-narrative æøå" in text
    assert "HPG-closing" in text
    placed = client.post(
        f"/cases/{case_id}/hold",
        data={"csrf_token": token, "reason": "police", "back": "retention"},
    )
    assert placed.status_code == 303
    assert placed.headers["Location"].endswith(path)
    assert "Politietterforskning" in client.get(path).get_data(as_text=True)
    # Others do not reach the page.
    for user in (world.employee, world.admin):
        assert page_client(app, user).get(path).status_code in (403, 404)
    assert (
        client.post(
            f"{path}/export", data={k: v for k, v in body.items() if k != "csrf_token"}
        ).status_code
        == 400
    )
