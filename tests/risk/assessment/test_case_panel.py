"""The case page's risk section (issue 14): during the learning review a case handler
links the case to a risk item from the case page, without JavaScript; the item shows
the links only as a count (small counts hidden); employees and handlers outside the
case cannot link."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tests.factories import case_of, choose_language, form_login, form_token
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import report
from tests.risk.assessment.test_case_links import _group
from trygg.audit.models import AuditEntry
from trygg.extensions import db
from trygg.roles import Role

EN = {"Accept-Language": "en"}


def _handler_client(app: Flask, who):
    client = app.test_client()
    form_login(client, who)
    choose_language(client, "en")
    return client


def _linked_count(app: Flask, ra, aid: int):
    item = Api(app, ra.manager).get(f"/api/v1/risk/assessments/{aid}").get_json()["items"][0]
    return item["linked_cases"]


def _audited(app: Flask, action: str, case_id: int) -> int:
    with app.app_context():
        return len(
            db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == action, AuditEntry.object_id == str(case_id)
                )
            ).all()
        )


def test_a_handler_links_and_unlinks_a_case_from_the_case_page(app, ra, approved, monkeypatch):
    _group(app, ra.handler)
    aid = approved(hazard="Aggressive pasienter på venterommet")["id"]
    case_id = case_of(app, report(app, ra.employee, ra.ward))
    client = _handler_client(app, ra.handler)
    page = client.get(f"/cases/{case_id}", headers=EN).get_data(as_text=True)
    assert 'id="h-risk-items"' in page
    assert "R1 Aggressive pasienter på venterommet" in page
    token = form_token(client, f"/cases/{case_id}")

    done = client.post(
        f"/cases/{case_id}/risk-links",
        data={"csrf_token": token, "item": f"{aid}:1"},
        headers=EN,
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/cases/{case_id}#h-risk-items")
    page = client.get(f"/cases/{case_id}", headers=EN).get_data(as_text=True)
    assert "The case is linked to the risk item." in page
    assert "Remove the link to R1" in page
    assert _audited(app, "risk.case_linked", case_id) == 1
    # One link: the item shows that there are links, but not that it is one.
    assert _linked_count(app, ra, aid) == {"count": None, "mark": "primary"}

    again = client.post(
        f"/cases/{case_id}/risk-links", data={"csrf_token": token, "item": f"{aid}:1"}, headers=EN
    )
    assert again.status_code == 409
    assert "already linked" in again.get_data(as_text=True)
    empty = client.post(f"/cases/{case_id}/risk-links", data={"csrf_token": token}, headers=EN)
    assert empty.status_code == 400
    assert "Choose a risk item from the list." in empty.get_data(as_text=True)
    for hostile in ("²:1", f"{aid}:{2**70}", f"{aid}:-1"):
        refused = client.post(
            f"/cases/{case_id}/risk-links", data={"csrf_token": token, "item": hostile}, headers=EN
        )
        assert refused.status_code in {400, 404}, hostile
    no_token = client.post(f"/cases/{case_id}/risk-links", data={"item": f"{aid}:1"})
    assert no_token.status_code == 400

    removed = client.post(
        f"/cases/{case_id}/risk-links/remove", data={"csrf_token": token, "item": f"{aid}:1"}
    )
    assert removed.status_code == 302
    assert _audited(app, "risk.case_unlinked", case_id) == 1
    assert _linked_count(app, ra, aid) == {"count": 0, "mark": "shown"}


def test_the_item_shows_the_count_once_it_reaches_k(app, ra, approved, monkeypatch):
    monkeypatch.setitem(app.config["TRYGG"], "trends_k", 3)
    _group(app, ra.handler)
    aid = approved()["id"]
    client = _handler_client(app, ra.handler)
    for n in range(3):
        case_id = case_of(app, report(app, ra.employee, ra.ward))
        token = form_token(client, f"/cases/{case_id}")
        done = client.post(
            f"/cases/{case_id}/risk-links", data={"csrf_token": token, "item": f"{aid}:1"}
        )
        assert done.status_code == 302
        expected = {"count": 3, "mark": "shown"} if n == 2 else {"count": None, "mark": "primary"}
        assert _linked_count(app, ra, aid) == expected
    manager = Api(app, ra.manager)
    choose_language(manager.client, "en")
    shown = manager.get(f"/risk/assessments/{aid}")
    assert "Cases linked in learning reviews" in shown.get_data(as_text=True)


def test_employees_and_handlers_outside_the_case_cannot_link(app, ra, make, approved):
    _group(app, ra.handler)
    outsider = make.user(Role.HANDLER, name="Utenfor")
    aid = approved()["id"]
    case_id = case_of(app, report(app, ra.employee, ra.ward))
    other = _handler_client(app, outsider)
    assert other.get(f"/cases/{case_id}").status_code == 404
    refused = other.post(
        f"/cases/{case_id}/risk-links",
        data={"csrf_token": form_token(other, "/"), "item": f"{aid}:1"},
    )
    assert refused.status_code == 404

    employee = _handler_client(app, ra.employee)
    refused = employee.post(
        f"/cases/{case_id}/risk-links",
        data={"csrf_token": form_token(employee, "/"), "item": f"{aid}:1"},
    )
    assert refused.status_code == 403
    assert _linked_count(app, ra, aid) == {"count": 0, "mark": "shown"}


def test_no_section_when_no_assessment_covers_the_unit(app, ra):
    _group(app, ra.handler)
    case_id = case_of(app, report(app, ra.other_employee, ra.other))
    client = _handler_client(app, ra.handler)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="h-risk-items"' not in page


def test_the_api_undoes_a_link(app, ra, approved):
    _group(app, ra.handler)
    aid = approved()["id"]
    case_id = case_of(app, report(app, ra.employee, ra.ward))
    handler = Api(app, ra.handler)
    handler.post(f"/api/v1/risk/cases/{case_id}/links", {"assessment_id": aid, "item_ref": 1})
    undone = handler.delete(f"/api/v1/risk/cases/{case_id}/links/{aid}/1")
    assert undone.status_code == 200
    assert undone.get_json()["items"][0]["linked"] is False
    assert handler.delete(f"/api/v1/risk/cases/{case_id}/links/{aid}/1").status_code == 400
    assert _audited(app, "risk.case_unlinked", case_id) == 1


def test_the_link_confirmation_is_under_the_heading_the_redirect_lands_on(app, ra, approved):
    _group(app, ra.handler)
    aid = approved(hazard="Aggressive pasienter")["id"]
    case_id = case_of(app, report(app, ra.employee, ra.ward))
    client = _handler_client(app, ra.handler)
    token = form_token(client, f"/cases/{case_id}")
    done = client.post(
        f"/cases/{case_id}/risk-links", data={"csrf_token": token, "item": f"{aid}:1"}, headers=EN
    )
    assert done.headers["Location"].endswith("#h-risk-items")
    page = client.get(f"/cases/{case_id}", headers=EN).get_data(as_text=True)
    flash_at = page.index("The case is linked to the risk item.")
    heading_at = page.index('id="h-risk-items"')
    alert = page[page.rindex("<div", 0, flash_at) : flash_at]
    # Under the heading the redirect lands on, without autofocus (which would pull the
    # page back to the top, against the address's #h-risk-items).
    assert flash_at > heading_at
    assert "autofocus" not in alert, alert
