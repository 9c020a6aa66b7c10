"""Passing a case on to a colleague chosen for you, without naming anyone.

In a confidential report only the assignee names a colleague (`names_handler`): a
handler who sent it is excluded from their own case, and would be the member a list
leaves out. A lead who distributes the group's cases passes one on without taking it
(and so without learning who reported): it goes to an eligible member other than them,
never the excluded reporter; the least busy, and in a confidential report one at
random, so that whom it passes over tells nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from handling import service
from handling.states import CaseState
from tests.factories import CaseRef, UserInfo, user_obj
from tests.handling.conftest import Org, get_case
from tests.handling.test_pages import Browser, page_text, redirected_to
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role

GIVE = {"pass_on": True}


@pytest.fixture
def login(app: Flask) -> Any:
    """login(user) → a logged-in browser reading English pages."""
    return lambda user: Browser(app, user)


@pytest.fixture
def lars(app: Flask, make: Any, org: Org) -> UserInfo:
    """A third member of the HMS group (with Hanna, the lead, and Kari)."""
    lars = make.user(Role.HANDLER, Role.EMPLOYEE, name="Lars Ledig", units=(org.psychiatry,))
    _members(app, org, [org.handler.id, org.colleague.id, lars.id])
    return lars


def _members(app: Flask, org: Org, member_ids: list[int]) -> None:
    with app.app_context():
        group = service.get_group(org.hms)
        service.save_group(
            actor="test", name="HMS", member_ids=member_ids, group=group, is_default=True
        )
        db.session.commit()


def _busy(app: Flask, org: Org, submit: Any, person: UserInfo, cases: int) -> None:
    """Give `person` this many active cases of their own."""
    for _ in range(cases):
        ref = submit(org.employee, unit_id=org.ward.id)
        with app.app_context():
            service.take(get_case(ref.id), user_obj(person))
            db.session.commit()


def _assignee(app: Flask, ref: CaseRef) -> int | None:
    with app.app_context():
        return get_case(ref.id).assigned_user_id


def _events(api: Any, ref: CaseRef) -> int:
    return len(api.get(f"/api/v1/cases/{ref.id}").get_json()["events"])


def _send(browser: Browser, path: str, body: dict[str, Any]) -> Any:
    """The JSON API as the browser's user (each user logs in once per test)."""
    return browser.client.post(path, json=body, headers={"X-CSRFToken": browser.token})


def user_by_id(org: Org, lars: UserInfo, user_id: int | None) -> UserInfo:
    return lars if user_id == lars.id else org.colleague


def _told(api: Any, ref: CaseRef) -> list[str]:
    """The kinds of the caller's notifications that lead to the case."""
    items = api.get("/api/v1/notifications").get_json()["items"]
    return [n["kind"] for n in items if n["link"].endswith(f"/cases/{ref.id}")]


def test_a_case_goes_to_the_least_busy_colleague_as_an_assignment(
    app, org, submit, api, login, lars
):
    _busy(app, org, submit, org.colleague, 2)
    _busy(app, org, submit, lars, 1)
    ref = submit(org.employee, unit_id=org.ward.id)
    hanna = login(org.handler)

    page = hanna.text(f"/cases/{ref.id}")
    section = page[page.index('id="h-assignment"') :]
    assert "Pass on to a colleague chosen for you" in section
    assert "with the fewest active cases" in section
    r = hanna.post(f"/cases/{ref.id}/assignment", {"pass_on": "true", "reason": "Fordeling mandag"})
    assert redirected_to(r, f"/cases/{ref.id}")
    assert "The case went to Lars Ledig." in page_text(hanna.get(r.headers["Location"]))
    assert _assignee(app, ref) == lars.id

    larsen = api(lars)
    assert "case_assigned" in _told(larsen, ref)
    assert "case_assigned" not in _told(api(org.colleague), ref)
    case = larsen.get(f"/api/v1/cases/{ref.id}").get_json()
    assert case["events"][-1]["kind"] == "assigned"
    notes = larsen.get(f"/api/v1/cases/{ref.id}/messages").get_json()
    assert [m["body"] for m in notes if m["internal"]] == ["Fordeling mandag"]
    with app.app_context():
        logged = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.assign", AuditEntry.object_id == str(ref.id)
            )
        ).all()
        assert [(e.actor, e.detail_dict()["to"]) for e in logged] == [
            (f"user:{org.handler.id}", lars.id)
        ]


def test_a_lead_passes_a_confidential_case_on_without_taking_it(app, org, submit, api, login, lars):
    ref = submit(org.employee, unit_id=org.ward.id, confidential=True)
    hanna = login(org.handler)
    page = hanna.text(f"/cases/{ref.id}")
    assert "chosen at random among those who may handle it" in page
    r = hanna.post(f"/cases/{ref.id}/assignment", {"pass_on": "true", "reason": ""})
    assert redirected_to(r, f"/cases/{ref.id}")
    page = page_text(hanna.get(r.headers["Location"]))
    receiver = _assignee(app, ref)
    names = {org.colleague.id: "Kari Kollega", lars.id: "Lars Ledig"}
    assert receiver in names
    assert f"The case went to {names[receiver]}" in page
    # Hanna did not take it, so she still reads "The reporter", not who it is.
    assert "Ella Employee" not in page
    assert "case_assigned" in _told(api(user_by_id(org, lars, receiver)), ref)


def test_in_a_confidential_report_the_least_busy_is_not_always_chosen(app, org, submit, api, lars):
    """Were the least busy always chosen, a lead who knows that Lars has the fewest cases
    would learn, each time a case passes him over, that he is excluded from it (and from
    the excluded count, which leaves a confidential reporter out, that he reported).
    Chosen at random, both eligible colleagues receive some: twenty cases in a row all
    going to one of them has a chance of one in half a million."""
    _busy(app, org, submit, org.colleague, 2)
    hanna = api(org.handler)
    receivers = set()
    for _ in range(20):
        ref = submit(org.employee, unit_id=org.ward.id, confidential=True)
        given = hanna.post(f"/api/v1/cases/{ref.id}/assignment", GIVE)
        assert given.status_code == 200, given.get_json()
        receivers.add(given.get_json()["assigned_user_id"])
        with app.app_context():  # Lars stays the least busy
            case = get_case(ref.id)
            service.transition(case, CaseState.DROPPED, actor=user_obj(org.handler), reason="Test")
            db.session.commit()
    assert receivers == {org.colleague.id, lars.id}


def test_a_confidential_reporter_in_the_group_never_receives_it_and_reads_like_anyone(
    app, org, submit, api, lars
):
    """Lars, a handler of the group, sent a confidential report: however often it is
    passed on, it goes to Kari, never to him. His report and Ella's offer the same form
    and give the same answer."""
    hanna = api(org.handler)
    seen = {}
    for ref in (
        submit(lars, unit_id=org.ward.id, confidential=True),
        submit(org.employee, unit_id=org.ward.id, confidential=True),
    ):
        page = hanna.get(f"/cases/{ref.id}").get_data(as_text=True)
        form = re.search(r'<input type="hidden" name="pass_on".*?</form>', page, re.S)
        assert form is not None
        given = hanna.post(f"/api/v1/cases/{ref.id}/assignment", GIVE)
        seen[ref.id] = (form.group(0), given.status_code, given.get_json()["assigned_user_id"])
    by_lars, by_ella = seen.values()
    assert by_lars[:2] == by_ella[:2] == (by_ella[0], 200)
    assert by_lars[2] == org.colleague.id
    assert by_ella[2] in {org.colleague.id, lars.id}
    for _ in range(5):
        ref = submit(lars, unit_id=org.ward.id, confidential=True)
        assert (
            hanna.post(f"/api/v1/cases/{ref.id}/assignment", GIVE).get_json()["assigned_user_id"]
            == org.colleague.id
        )
    assert _told(api(lars), ref) == []


def test_when_no_one_else_may_have_it_the_refusal_is_the_same_whoever_reported(
    app, org, make, submit, api, login, lars
):
    """Hanna and Lars are the group. Lars's own confidential report excludes him; Ella's
    report about him excludes him too. Either way no one but Hanna may have the case:
    the same refusal at the action, and the case stays as it was."""
    _members(app, org, [org.handler.id, lars.id])
    by_lars = submit(lars, unit_id=org.ward.id, confidential=True)
    about_lars = {"counterpart_user_id": lars.id, "counterpart_category": "colleague"}
    by_ella = submit(org.employee, unit_id=org.ward.id, confidential=True, **about_lars)
    hanna = login(org.handler)
    seen = {}
    for ref in (by_lars, by_ella):
        before = _events(hanna.client, ref)
        refused = _send(hanna, f"/api/v1/cases/{ref.id}/assignment", GIVE)
        page = hanna.post(f"/cases/{ref.id}/assignment", {"pass_on": "true", "reason": ""})
        assert page.status_code == 400
        form = page_text(page).split('name="pass_on" value="true">')[1].split("</form>")[0]
        message = re.search(r'<div class="ds-validation-message"[^>]*>([^<]*)</div>', form)
        assert message is not None
        seen[ref.id] = (refused.status_code, refused.get_json(), message.group(1))
        assert _assignee(app, ref) is None
        assert _events(hanna.client, ref) == before
    assert seen[by_lars.id] == seen[by_ella.id]
    assert seen[by_ella.id][0] == 400
    assert seen[by_ella.id][2] == (
        "No one else in the case's group can take it. Keep it, leave it in the group's "
        "queue or move it to another group."
    )


def test_giving_needs_the_forms_token(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id, confidential=True)
    hanna = login(org.handler)
    path = f"/cases/{ref.id}/assignment"
    refused = hanna.client.post(path, data={"pass_on": "true", "reason": ""})
    assert refused.status_code == 400
    assert _assignee(app, ref) is None
    assert redirected_to(hanna.post(path, {"pass_on": "true", "reason": ""}), f"/cases/{ref.id}")
    assert _assignee(app, ref) == org.colleague.id


def test_only_a_case_no_one_else_has_is_given_and_only_by_itself(app, org, submit, api, login):
    """The assignee's case is theirs to give on; a colleague who does not have it is
    not offered the action, and the API refuses it; it names no one and moves no group."""
    ref = submit(org.employee, unit_id=org.ward.id)
    kari, hanna = api(org.colleague), login(org.handler)
    base = f"/api/v1/cases/{ref.id}/assignment"
    for mixed in ({"handler_id": org.colleague.id}, {"group_id": org.whistle}, {"recuse": True}):
        r = _send(hanna, base, {**GIVE, **mixed, "reason": "Both"})
        assert r.status_code == 400
        assert "pass_on" in r.get_json()["errors"]
    assert kari.post(base, {"handler_id": org.colleague.id}).status_code == 200

    assert "Pass on to a colleague chosen for you" not in hanna.text(f"/cases/{ref.id}")
    refused = _send(hanna, base, GIVE)
    assert refused.status_code == 400
    assert "or your own" in refused.get_json()["errors"]["_request"][0]
    # Kari, who has it (a case that is not confidential), gives it on: to Hanna.
    assert kari.post(base, GIVE).get_json()["assigned_user_id"] == org.handler.id

    with app.app_context():
        case = get_case(ref.id)
        service.transition(case, CaseState.DROPPED, actor=user_obj(org.colleague), reason="Twice")
        db.session.commit()
    assert _send(hanna, base, GIVE).status_code == 409


def test_passing_on_again_and_again_does_not_list_who_may_have_it(app, org, submit, api, lars):
    """Hanna may leave a confidential case to the group's queue whoever has it, and pass
    it on again. Were each pass a new draw, doing so a dozen times would list everyone
    who may have the case, and the member never drawn (Lars, whose own report it is,
    beside an excluded count that leaves him out) would be the reporter. The case goes
    to the same colleague each time, whoever reported."""
    hanna = api(org.handler)
    drawn = []
    for ref in (
        submit(lars, unit_id=org.ward.id, confidential=True),
        submit(org.employee, unit_id=org.ward.id, confidential=True),
    ):
        path = f"/api/v1/cases/{ref.id}/assignment"
        receivers = set()
        for _ in range(12):
            given = hanna.post(path, GIVE)
            assert given.status_code == 200, given.get_json()
            receivers.add(given.get_json()["assigned_user_id"])
            back = hanna.post(path, {"handler_id": None})
            assert back.status_code == 200, back.get_json()
        drawn.append(len(receivers))
    assert drawn == [1, 1]


def test_in_a_confidential_report_a_recusal_does_not_always_give_it_to_the_least_busy(
    app, org, submit, lars
):
    """The reason pass_on draws at random holds for the assignee who steps aside: were
    the case always given to the least busy (Lars), a colleague who knows the workloads
    would learn, each time it passed him over, that he is excluded, and from the count
    that leaves a confidential reporter out, that he reported."""
    _busy(app, org, submit, org.handler, 2)
    receivers = set()
    for _ in range(20):
        ref = submit(org.employee, unit_id=org.ward.id, confidential=True)
        with app.app_context():
            kari = user_obj(org.colleague)
            service.take(get_case(ref.id), kari)
            case = service.recuse(get_case(ref.id), kari, "Jeg kjenner den det gjelder")
            receivers.add(case.assigned_user_id)
            service.transition(case, CaseState.DROPPED, actor=user_obj(org.handler), reason="Test")
            db.session.commit()
    assert receivers == {org.handler.id, lars.id}
