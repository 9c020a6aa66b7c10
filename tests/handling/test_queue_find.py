"""Finding a case and owning it (issue 15): search by reference and by name, sorting
by every column with paging, the owner and unread columns, "Take this case", and
acknowledging an unowned case."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from handling import service
from handling.service import queue_order
from handling.states import CaseState
from tests.factories import user_obj
from tests.handling.conftest import get_case
from tests.handling.test_pages import Browser, page_text, redirected_to
from trygg.audit import AuditEntry
from trygg.extensions import db


@pytest.fixture
def login(app: Flask) -> Any:
    return lambda user: Browser(app, user)


def _refs(app: Flask, *refs: Any) -> dict[int, str]:
    with app.app_context():
        return {r.id: get_case(r.id).report.reference for r in refs}


def _search(client: Any, **args: Any) -> dict[str, Any]:
    response = client.get("/api/v1/cases", query_string=args)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_a_reference_is_found_whole_or_in_part(app, org, submit, api):
    cases = [submit(org.employee, unit_id=org.ward.id) for _ in range(3)]
    refs = _refs(app, *cases)
    handler = api(org.handler)
    whole = refs[cases[1].id]
    assert [c["id"] for c in _search(handler, q=whole)["cases"]] == [cases[1].id]
    # The serial number alone, as people say it on the phone ("00012").
    serial = whole.rsplit("-", 1)[-1]
    assert cases[1].id in [c["id"] for c in _search(handler, q=serial)["cases"]]
    assert [c["id"] for c in _search(handler, q=whole.lower())["cases"]] == [cases[1].id]
    # LIKE's wildcards are only characters here.
    assert _search(handler, q="%")["cases"] == []
    assert _search(handler, q="_")["cases"] == []
    # Another group's handler finds nothing of it.
    assert _search(api(org.whistle_handler), q=whole)["cases"] == []


def test_a_handler_finds_a_case_by_the_names_they_may_see(app, org, submit, api):
    named = submit(org.employee, unit_id=org.ward.id, exposed=[{"name": "Per Pasientsen"}])
    confidential = submit(
        org.employee, unit_id=org.ward.id, confidential=True, exposed=[{"name": "Siri Sol"}]
    )
    submit(org.employee, unit_id=org.ward.id, exposed=[{"name": "Ola Nordmann"}])
    handler = api(org.handler)

    found = _search(handler, q="pasient")
    assert [c["id"] for c in found["cases"]] == [named.id]
    assert found["name_search"] == {"searched": 3, "capped": False, "limit": 5000}
    # The exposed person of a confidential report, yes; its reporter's name, never.
    assert [c["id"] for c in _search(handler, q="siri")["cases"]] == [confidential.id]
    by_reporter = [c["id"] for c in _search(handler, q="Ella Employee")["cases"]]
    assert named.id in by_reporter
    assert confidential.id not in by_reporter
    # Names are not searched for someone who may not read them.
    assert _search(api(org.whistle_handler), q="pasient")["cases"] == []

    with app.app_context():
        reads = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.read", AuditEntry.object_id == str(named.id)
            )
        ).all()
    assert any(e.detail_dict().get("part") == "name_search" for e in reads)


def test_the_name_search_is_bounded(app, org, submit, api, monkeypatch):
    for n in range(3):
        submit(org.employee, unit_id=org.ward.id, exposed=[{"name": f"Kari {n}"}])
    monkeypatch.setattr(service.queue, "NAME_SEARCH_LIMIT", 2)
    found = _search(api(org.handler), q="kari")
    assert len(found["cases"]) == 2
    assert found["name_search"] == {"searched": 2, "capped": True, "limit": 2}


@pytest.mark.parametrize("sort", queue_order.SORT_VALUES)
def test_every_column_sorts_and_pages_through_every_case(app, org, submit, api, sort):
    cases = [
        submit(org.employee, unit_id=unit.id, severity=severity, incident_types=types)
        for unit, severity, types in [
            (org.ward, 1, ["threat"]),
            (org.psychiatry, 4, ["damage"]),
            (org.ward, 2, ["physical_violence"]),
            (org.emergency, 4, ["threat"]),
            (org.ward, 3, ["bullying"]),
        ]
    ]
    handler = api(org.handler)
    handler.post(f"/api/v1/cases/{cases[2].id}/assignment", {"handler_id": org.handler.id})
    seen: list[dict[str, Any]] = []
    args: dict[str, Any] = {"sort": sort, "limit": 2, "state": "all"}
    while True:
        page = _search(handler, **args)
        seen += page["cases"]
        if page["next_cursor"] is None:
            break
        args["after"] = page["next_cursor"]
    assert sorted(c["id"] for c in seen) == sorted(c.id for c in cases)
    if sort.removeprefix("-") == "severity":
        values = [c["severity"] for c in seen]
        assert values == sorted(values, reverse=sort.startswith("-"))
    if sort.removeprefix("-") == "assignee":
        mine = [c["id"] for c in seen if c["assigned_user_id"]]
        assert mine == [cases[2].id]
        assert (seen[-1]["id"] == cases[2].id) == (not sort.startswith("-"))


def test_a_bad_sort_or_a_cursor_of_another_sort_is_a_translated_400(app, org, submit, api):
    for _ in range(3):
        submit(org.employee, unit_id=org.ward.id)
    handler = api(org.handler)
    bad = handler.get("/api/v1/cases?sort=narrative", headers={"Accept-Language": "en"})
    assert bad.status_code == 400
    assert "Sort by one of the columns of the list." in bad.get_data(as_text=True)
    norsk = handler.get("/api/v1/cases?sort=narrative", headers={"Accept-Language": "nb"})
    assert norsk.status_code == 400
    assert "Sorter etter en av kolonnene i listen." in norsk.get_data(as_text=True)
    cursor = _search(handler, sort="severity", limit=1)["next_cursor"]
    for other in ("-severity", "reference", "deadline"):
        refused = handler.get("/api/v1/cases", query_string={"sort": other, "after": cursor})
        assert refused.status_code == 400, other
    too_long = handler.get("/api/v1/cases", query_string={"q": "x" * 101})
    assert too_long.status_code == 400


def test_the_page_reports_a_bad_sort_and_keeps_working(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    response = handler.get("/cases?sort=narrative&q=")
    assert response.status_code == 400
    text = page_text(response)
    assert "Sort by one of the columns of the list." in text
    assert _refs(app, ref)[ref.id] in text


def test_headings_sort_and_keep_the_search_and_filters(app, org, submit, login):
    submit(org.employee, unit_id=org.ward.id)
    text = login(org.handler).text("/cases?assigned=none&sort=-severity")
    assert 'aria-sort="descending"' in text
    # The severity heading now sorts ascending, the others start ascending; filters stay.
    assert 'href="/cases?assigned=none&sort=severity"' in text
    assert 'href="/cases?assigned=none&sort=reference"' in text


def test_take_a_case_from_the_queue_and_find_it_under_mine(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    reference = _refs(app, ref)[ref.id]
    handler = login(org.handler)
    assert reference in handler.text("/cases?assigned=none")
    assert reference not in handler.text("/cases?assigned=me")

    taken = handler.post(f"/cases/{ref.id}/take", {"back": "/cases?assigned=none"})
    assert redirected_to(taken, "/cases?assigned=none")
    mine = handler.text("/cases?assigned=me")
    assert reference in mine
    assert "Hanna Handler" in mine
    with app.app_context():
        assert get_case(ref.id).assigned_user_id == org.handler.id
    # Back never leads off the queue.
    again = handler.post(f"/cases/{ref.id}/take", {"back": "https://evil.example/cases"})
    assert redirected_to(again, f"/cases/{ref.id}")
    # Someone outside the case's group cannot take it.
    assert login(org.whistle_handler).post(f"/cases/{ref.id}/take", {}).status_code == 404


def test_the_case_page_offers_to_take_the_case(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    colleague = login(org.colleague)
    assert "Take this case" in colleague.text(f"/cases/{ref.id}")
    assert redirected_to(colleague.post(f"/cases/{ref.id}/take", {}), f"/cases/{ref.id}")
    page = colleague.text(f"/cases/{ref.id}")
    assert "Kari Kollega" in page
    assert "You are now the case handler" in page
    assert "Take this case" not in page


def test_acknowledging_an_unowned_case_takes_it_unless_told_not_to(app, org, submit, login):
    first = submit(org.employee, unit_id=org.ward.id)
    second = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    handler.post(f"/cases/{first.id}/transition", {"to": CaseState.ACKNOWLEDGED})
    handler.post(
        f"/cases/{second.id}/transition", {"to": CaseState.ACKNOWLEDGED, "take_case": "false"}
    )
    with app.app_context():
        assert get_case(first.id).state == CaseState.ACKNOWLEDGED
        assert get_case(first.id).assigned_user_id == org.handler.id
        assert get_case(second.id).state == CaseState.ACKNOWLEDGED
        assert get_case(second.id).assigned_user_id is None


def test_unread_messages_from_the_reporter_until_the_handler_opens_the_case(
    app, org, submit, login
):
    ref = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        case = get_case(ref.id)
        service.post_reporter_message(case.report, "Any news?", actor="reporter")
        service.post_reporter_message(case.report, "Hello?", actor="reporter")
        db.session.commit()
        items = service.queue_for(user_obj(org.handler)).items
        assert [i.unread for i in items if i.case.id == ref.id] == [2]
    handler = login(org.handler)
    assert "2 unread" in handler.text("/cases")
    handler.text(f"/cases/{ref.id}")
    assert "2 unread" not in handler.text("/cases")
    with app.app_context():
        # The colleague has not read them yet.
        items = service.queue_for(user_obj(org.colleague)).items
        assert [i.unread for i in items if i.case.id == ref.id] == [2]


def test_the_search_and_sort_are_in_the_api_document(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/cases"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"q", "sort", "after", "limit"} <= set(params)
    assert set(params["sort"]["schema"]["enum"]) == set(queue_order.SORT_VALUES)
    assert params["q"]["schema"]["maxLength"] == 100


def test_a_safety_rep_searches_references_only_and_sees_no_owner(app, org, submit, login, api):
    ref = submit(org.employee, unit_id=org.ward.id, exposed=[{"name": "Per Pasientsen"}])
    reference = _refs(app, ref)[ref.id]
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    shared = {"template": "bht_offer", "note": "Offered.", "consent_to_share": ["off", "on"]}
    assert redirected_to(handler.post(base + "/tasks", shared), base)
    assert redirected_to(handler.post(base + "/take", {}), base)
    rep = api(org.safety_rep)
    assert [c["id"] for c in _search(rep, q=reference[-5:])["cases"]] == [ref.id]
    found = _search(rep, q="pasient")
    assert found["cases"] == []
    assert found["name_search"] is None
    row = _search(rep)["cases"][0]
    assert row["assigned_user_name"] is None
    page = login(org.safety_rep).text("/cases")
    assert reference in page
    assert "Hanna Handler" not in page
    assert "Take this case" not in page


def test_a_safety_rep_finds_a_shared_finished_case_without_choosing_a_filter(
    app, org, submit, login, api
):
    """The representative's queue shows every case shared with them, finished ones too;
    a handler's default stays the active cases."""
    ref = submit(org.employee, unit_id=org.ward.id)
    reference = _refs(app, ref)[ref.id]
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    shared = {"template": "bht_offer", "note": "Offered.", "consent_to_share": ["off", "on"]}
    assert redirected_to(handler.post(base + "/tasks", shared), base)
    with app.app_context():
        case, actor = get_case(ref.id), user_obj(org.handler)
        service.transition(case, CaseState.ACKNOWLEDGED, actor=actor)
        service.transition(
            case, CaseState.DROPPED, actor=actor, reason="Withdrawn by the reporter."
        )
        db.session.commit()
    assert reference in login(org.safety_rep).text("/cases")
    assert [c["id"] for c in _search(api(org.safety_rep))["cases"]] == [ref.id]
    assert [c["id"] for c in _search(api(org.safety_rep), state="active")["cases"]] == []
    assert reference not in handler.text("/cases")
    assert reference in handler.text("/cases?state=all")
