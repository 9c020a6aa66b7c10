"""Giving a case to the least busy handler of its group, without naming anyone.

In a confidential report only the assignee names a colleague (`names_handler`): a
handler who sent it is excluded from their own case, and would be the member a list
leaves out. A lead who distributes the group's cases gives one on without taking it
(and so without learning who reported): it goes to the eligible member other than
them with the fewest active cases, never the excluded reporter.
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

GIVE = {"least_busy": True}


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


def _told(api: Any, ref: CaseRef) -> list[str]:
    """The kinds of the caller's notifications that lead to the case."""
    items = api.get("/api/v1/notifications").get_json()["items"]
    return [n["kind"] for n in items if n["link"].endswith(f"/cases/{ref.id}")]


def test_a_lead_gives_a_confidential_case_to_the_least_busy_colleague_without_taking_it(
    app, org, submit, api, login, lars
):
    _busy(app, org, submit, org.colleague, 2)
    _busy(app, org, submit, lars, 1)
    ref = submit(org.employee, unit_id=org.ward.id, confidential=True)
    hanna = login(org.handler)

    page = hanna.text(f"/cases/{ref.id}")
    section = page[page.index('id="h-assignment"') :]
    assert "Give to the least busy case handler" in section
    r = hanna.post(
        f"/cases/{ref.id}/assignment", {"least_busy": "true", "reason": "Fordeling mandag"}
    )
    assert redirected_to(r, f"/cases/{ref.id}")
    page = page_text(hanna.get(r.headers["Location"]))
    assert "The case went to Lars Ledig, the least busy case handler." in page
    # Hanna did not take it, so she still reads "The reporter", not who it is.
    assert _assignee(app, ref) == lars.id
    assert "Ella Employee" not in page

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


def test_a_confidential_reporter_in_the_group_never_receives_it_and_reads_like_anyone(
    app, org, submit, api, lars
):
    """Lars, a handler of the group, sent a confidential report: he is its least busy
    member, yet never receives it. Where he is not the least busy, his report and
    Ella's go the same way, with the same answer, and read the same before."""
    by_lars = submit(lars, unit_id=org.ward.id, confidential=True)
    _busy(app, org, submit, org.colleague, 1)
    hanna = api(org.handler)
    given = hanna.post(f"/api/v1/cases/{by_lars.id}/assignment", GIVE)
    assert given.status_code == 200, given.get_json()
    assert given.get_json()["assigned_user_id"] == org.colleague.id
    assert _told(api(lars), by_lars) == []

    # Now Lars is the busiest: his report and Ella's both go to Kari.
    _busy(app, org, submit, lars, 3)
    by_lars = submit(lars, unit_id=org.ward.id, confidential=True)
    by_ella = submit(org.employee, unit_id=org.ward.id, confidential=True)
    seen = {}
    for ref in (by_lars, by_ella):
        page = hanna.get(f"/cases/{ref.id}").get_data(as_text=True)
        form = re.search(r'<input type="hidden" name="least_busy".*?</form>', page, re.S)
        assert form is not None
        given = hanna.post(f"/api/v1/cases/{ref.id}/assignment", GIVE)
        seen[ref.id] = (form.group(0), given.status_code, given.get_json()["assigned_user_id"])
    assert seen[by_lars.id] == seen[by_ella.id] == (seen[by_ella.id][0], 200, org.colleague.id)


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
        page = hanna.post(f"/cases/{ref.id}/assignment", {"least_busy": "true", "reason": ""})
        assert page.status_code == 400
        form = page_text(page).split('name="least_busy" value="true">')[1].split("</form>")[0]
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
    refused = hanna.client.post(path, data={"least_busy": "true", "reason": ""})
    assert refused.status_code == 400
    assert _assignee(app, ref) is None
    assert redirected_to(hanna.post(path, {"least_busy": "true", "reason": ""}), f"/cases/{ref.id}")
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
        assert "least_busy" in r.get_json()["errors"]
    assert kari.post(base, {"handler_id": org.colleague.id}).status_code == 200

    assert "Give to the least busy case handler" not in hanna.text(f"/cases/{ref.id}")
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
