"""The case handling pages, through the test client with real forms and CSRF tokens.

The handler works a case from the queue to closing, the reporter answers from "My
reports", and everyone else is kept out: another group's handler and the named
counterpart get 404, managers and admins 403 (their role has no case pages at all).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from handling import service
from handling.models import CaseEvent, FollowUpTask, HandlerGroup
from handling.states import CaseState, Side, Track
from tests.factories import UserInfo, choose_language, form_login, form_token, user_obj
from tests.handling.conftest import get_case
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


class Browser:
    """A logged-in test client that reads pages as text and sends forms with a token."""

    def __init__(self, app: Flask, user: UserInfo) -> None:
        self.client: FlaskClient = app.test_client()
        # English pages, so the tests read the same words whatever the catalogue says.
        form_login(self.client, user)
        choose_language(self.client, "en")
        self.token = form_token(self.client, "/account")

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def text(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return page_text(response)

    def post(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data={**data, "csrf_token": self.token})


def page_text(response: Any) -> str:
    """The page's HTML with entities decoded (names and quotes read as written)."""
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def login(app: Flask) -> Any:
    return lambda user: Browser(app, user)


def redirected_to(response: Any, path: str) -> bool:
    """A 303 to `path` (the case page's answers add the section's #anchor)."""
    location = response.headers["Location"].split("#")[0]
    return response.status_code == 303 and location.endswith(path)


def case_reads(app: Flask, case_id: int) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.object_type == "case",
                    AuditEntry.object_id == str(case_id),
                    AuditEntry.action == "case.read",
                )
            )
            or 0
        )


def events_of(app: Flask, case_id: int) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
            )
            or 0
        )


def state_of(app: Flask, case_id: int) -> str:
    with app.app_context():
        return get_case(case_id).state


# -- the whole story ----------------------------------------------------------------------


def test_handler_works_a_threat_case_to_the_end_and_the_reporter_answers(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        reference = get_case(ref.id).report.reference
    handler = login(org.handler)

    queue = handler.text("/cases")
    assert reference in queue
    assert f'href="/cases/{ref.id}"' in queue
    assert "Threat" in queue

    page = handler.text(f"/cases/{ref.id}")
    assert "The patient threatened to hit me" in page
    assert "Acknowledge the report" in page  # the deadlines list
    base = f"/cases/{ref.id}"

    r = handler.post(base + "/transition", {"to": CaseState.ACKNOWLEDGED})
    assert redirected_to(r, base), r.status_code
    assert "The report is acknowledged." in handler.text(base)

    r = handler.post(
        base + "/transition",
        {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION, "section_5_2": "false"},
    )
    assert redirected_to(r, base), page_text(r)[:2000]
    r = handler.post(base + "/transition", {"to": CaseState.IN_PROGRESS})
    assert redirected_to(r, base)

    r = handler.post(
        base + "/tasks",
        {
            "template": "leader_contact",
            "responsible_user_id": str(org.manager.id),
            "due_at": "",
            "status": "open",
            "note": "",
            "consent_to_share": "off",
        },
    )
    assert redirected_to(r, base), page_text(r)[:3000]
    with app.app_context():
        task = db.session.scalars(select(FollowUpTask).where(FollowUpTask.case_id == ref.id)).one()
        assert task.responsible_user_id == org.manager.id
        task_id = task.id
    r = handler.post(f"{base}/tasks/{task_id}", {"status": "done"})
    assert redirected_to(r, base)

    r = handler.post(
        base + "/debriefing",
        {
            "held_on": date.today().isoformat(),
            "participant_roles": ["exposed_employee", "leader"],
            "support_offered": ["bht"],
            "outcome": "Two on shift from now on.",
            "further_needs": "",
        },
    )
    assert redirected_to(r, base), page_text(r)[:3000]

    r = handler.post(base + "/messages", {"internal": "false", "body": "How are you doing?"})
    assert redirected_to(r, base)
    r = handler.post(base + "/messages", {"internal": "true", "body": "Check the staffing plan."})
    assert redirected_to(r, base)

    page = handler.text(base)
    assert "How are you doing?" in page
    assert "Check the staffing plan." in page
    assert "case-message--internal" in page
    assert "Two on shift from now on." in page
    with app.app_context():
        met = {d.kind for d in get_case(ref.id).deadlines if d.met_at is not None}
    assert {"acknowledge", "leader_contact", "learning_review"} <= met

    employee = login(org.employee)
    mine = f"/my-reports/{ref.report_id}/case"
    # The reporter finds the conversation from their report in "My reports".
    assert f'href="{mine}"' in employee.text(f"/my-reports/{ref.report_id}")
    own = employee.text(mine)
    assert "How are you doing?" in own
    assert "Check the staffing plan." not in own
    assert "Your case is being handled." in own
    r = employee.post(mine, {"body": "Better, thanks."})
    assert redirected_to(r, mine)
    assert "Better, thanks." in employee.text(mine)
    assert "Better, thanks." in handler.text(base)

    r = handler.post(
        base + "/transition",
        {
            "to": CaseState.CLOSED,
            "closing_note": "Staffing changed; the employee is followed up.",
            "causes": ["staffing", "lone_work"],
            "feedback": "We have put two people on every evening shift.",
        },
    )
    assert redirected_to(r, base), page_text(r)[:3000]
    assert state_of(app, ref.id) == CaseState.CLOSED

    own = employee.text(mine)
    assert "Your case is closed." in own
    assert "We have put two people on every evening shift." in own
    assert "Staffing changed" not in own  # the closing note is for handlers only


def test_a_dropped_case_tells_the_reporter_what_it_means_and_not_why(app, org, submit, login):
    """The drop reason is internal; the reporter reads what dropping means and where to
    turn if they disagree, and can still write."""
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    r = handler.post(base + "/transition", {"to": CaseState.DROPPED, "reason": "Duplicate."})
    assert redirected_to(r, base), page_text(r)[:2000]
    own = login(org.employee).text(f"/my-reports/{ref.report_id}/case")
    assert "the case handlers decided it needs no more follow-up" in own
    assert "talk to your safety representative" in own
    assert "Duplicate." not in own
    assert "You can still write if something is not right." in own


def test_the_queue_is_in_the_menu_for_handlers_and_safety_reps(org, login):
    handler, rep = login(org.handler), login(org.safety_rep)
    assert 'href="/cases"' in handler.text("/")
    assert 'href="/cases"' in rep.text("/")
    assert 'href="/cases"' not in login(org.employee).text("/")
    assert 'href="/cases"' not in login(org.manager).text("/")
    # The safety representative handles no case: no "Mine / Unassigned" filter for them.
    assert 'name="assigned"' in handler.text("/cases")
    assert 'name="assigned"' not in rep.text("/cases")


def test_saving_the_assignment_unchanged_records_nothing(app, org, submit, login):
    # The form sent as shown (no one chosen, same group, no reason) said "The assignment
    # is saved." and added "Case handler assigned: To the group's queue" to the timeline
    # each time.
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    base = f"/cases/{ref.id}"

    def events() -> int:
        with app.app_context():
            return db.session.scalar(
                select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == ref.id)
            )

    before = events()
    response = handler.post(f"{base}/assignment", {"handler_id": "", "group_id": "", "reason": ""})
    assert response.status_code == 400
    assert "Nothing to save: choose another case handler or another group." in page_text(response)
    assert events() == before
    # A real change is still saved.
    response = handler.post(
        f"{base}/assignment", {"handler_id": str(org.handler.id), "group_id": "", "reason": ""}
    )
    assert response.status_code == 303
    assert events() == before + 1
    with app.app_context():
        assert get_case(ref.id).assigned_user_id == org.handler.id


def test_a_debriefing_form_sent_with_only_its_date_records_nothing(app, org, submit, login):
    # The form comes with today's date filled in; sent as it came it recorded a debriefing
    # ("Participants –, Outcome –") that then counted as held when closing the case.
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    r = handler.post(base + "/debriefing", {"held_on": date.today().isoformat(), "outcome": " "})
    assert r.status_code == 400
    text = page_text(r)
    assert 'href="#f-debriefing-participant_roles"' in text
    # The summary names the field by the label the form shows.
    assert re.search(r'href="#f-debriefing-participant_roles"[^>]*>\s*Who took part', r.text)
    assert "a debriefing with only a date records nothing" in text
    with app.app_context():
        assert get_case(ref.id).debriefings == []
    held = {"held_on": date.today().isoformat(), "participant_roles": ["leader"]}
    assert redirected_to(handler.post(base + "/debriefing", held), base)


def test_the_queue_filter_says_which_states_the_list_shows(org, login):
    # A safety representative's list holds every shared case, closed ones too; its state
    # filter said "Active cases", and sending the filters unchanged hid the closed ones.
    # The count of active cases leads to the active ones.
    rep = login(org.safety_rep).text("/cases")
    assert re.search(r'<option value="all" selected>', rep), rep
    assert 'href="/cases?state=active"' in rep
    # With nothing shared yet, the empty list says when a case comes to it.
    assert "No case is shared with you yet." in rep
    assert "You have no cases." not in rep
    handler = login(org.handler).text("/cases")
    assert re.search(r'<option value="active" selected>', handler)
    assert 'href="/cases"><span class="case-count__n">' in handler


def test_each_queue_cell_is_labelled_for_narrow_screens(org, submit, login):
    """On a narrow screen the queue's rows stack, each cell shown with its column's
    label: every row's cells carry the translated labels."""
    for _ in range(2):
        submit(org.employee, unit_id=org.ward.id)
    html = login(org.handler).text("/cases")
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", html, re.S)
    assert len(rows) == 2
    for row in rows:
        # In the order of the laptop's columns: the month under the type of incident,
        # the unread messages under the reporter.
        assert re.findall(r'data-label="([^"]+)"', row) == [
            "Type of incident",
            "Incident month",
            "Unit",
            "State",
            "How serious",
            "Nearest deadline",
            "Case handler",
            "Reporter",
            "Unread messages",
        ]


def test_the_queue_gives_how_serious_in_short_and_the_case_in_full(org, submit, login):
    """A row's severity is its grade and word ("3 Serious"); the long description,
    which took four lines of a laptop's row, is on the case page."""
    ref = submit(org.employee, unit_id=org.ward.id, severity=3)
    handler = login(org.handler)
    cell = re.search(r'data-label="How serious">([^<]*)</td>', handler.text("/cases"))
    assert cell is not None
    assert cell.group(1) == "3 Serious"
    assert "3 Serious: needed treatment or led to absence" in handler.text(f"/cases/{ref.id}")


def test_queue_filters_counts_and_order(app, org, submit, login):
    threat = submit(org.employee, unit_id=org.ward.id, severity=3)
    damage = submit(
        org.employee, unit_id=org.psychiatry.id, incident_types=["damage"], confidential=True
    )
    handler = login(org.handler)
    with app.app_context():
        refs = {c.id: get_case(c.id).report.reference for c in (threat, damage)}
        order = [i.case.id for i in service.queue_for(user_obj(org.handler)).items]
    page = handler.text("/cases")
    # One set of counts over the active cases, each a link to them (issue 15).
    for count in ("Active", "Mine", "Unassigned", "Past a deadline", "Due within 24 hours"):
        assert count in page
    assert "Overdue deadlines" not in page
    assert sorted(order) == sorted(refs)
    positions = [page.index(refs[i]) for i in order]
    assert positions == sorted(positions)  # the page keeps the service's order
    assert "Confidential" in page

    only_damage = handler.text("/cases?incident_type=damage")
    assert refs[damage.id] in only_damage
    assert refs[threat.id] not in only_damage
    in_ward = handler.text(f"/cases?unit_id={org.emergency.id}")
    assert refs[threat.id] in in_ward
    assert refs[damage.id] not in in_ward
    assert refs[threat.id] not in handler.text("/cases?track=whistleblowing")
    assert refs[threat.id] not in handler.text("/cases?state=closed")
    assert refs[threat.id] in handler.text("/cases?state=all&deadline=due_soon&track=&assigned=")

    refused = handler.get("/cases?state=nonsense")
    assert refused.status_code == 400
    assert "Choose one of the listed values." in page_text(refused)


# -- who is kept out ----------------------------------------------------------------------


def test_another_groups_handler_gets_404_on_the_page_and_every_form(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    other = login(org.whistle_handler)
    base = f"/cases/{ref.id}"
    assert other.get(base).status_code == 404
    assert f'href="/cases/{ref.id}"' not in other.text("/cases?state=all")
    with app.app_context():
        task = service.add_task(get_case(ref.id), actor=user_obj(org.handler), template="recontact")
        db.session.commit()
        task_id = task.id
    forms = [
        ("/transition", {"to": CaseState.ACKNOWLEDGED}),
        ("/track", {"track": Track.WHISTLEBLOWING}),
        ("/assignment", {"handler_id": str(org.whistle_handler.id), "reason": "Mine now"}),
        ("/tasks", {"template": "recontact"}),
        (f"/tasks/{task_id}", {"status": "done"}),
        ("/debriefing", {"held_on": "2026-01-10"}),
        ("/section52", {"nav_form_sent": "false"}),
        ("/messages", {"body": "Hello", "internal": "false"}),
    ]
    before = events_of(app, ref.id)
    for path, data in forms:
        assert other.post(base + path, data).status_code == 404, path
    assert events_of(app, ref.id) == before
    assert state_of(app, ref.id) == CaseState.REPORTED


def test_the_named_counterpart_never_sees_the_case(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id, counterpart_user_id=org.handler.id)
    assert ref.group_id == org.hms  # routed to the handler's group, but they are excluded
    with app.app_context():
        reference = get_case(ref.id).report.reference
    named = login(org.handler)
    assert reference not in named.text("/cases")
    assert reference not in named.text("/cases?state=all")
    assert named.get(f"/cases/{ref.id}").status_code == 404
    assert named.post(f"/cases/{ref.id}/messages", {"body": "x"}).status_code == 404
    with app.app_context():
        denied = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "case",
                AuditEntry.object_id == str(ref.id),
                AuditEntry.action == "case.access_denied",
            )
        ).all()
    assert len(denied) == 2  # both attempts are logged, although the answer was 404
    colleague = login(org.colleague)
    assert reference in colleague.text("/cases")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN, Role.EMPLOYEE])
def test_managers_admins_and_employees_have_no_case_pages(org, submit, login, role):
    ref = submit(org.employee, unit_id=org.ward.id)
    who = login(getattr(org, role))
    assert who.get("/cases").status_code == 403
    assert who.get(f"/cases/{ref.id}").status_code == 403
    assert (
        who.post(f"/cases/{ref.id}/transition", {"to": CaseState.ACKNOWLEDGED}).status_code == 403
    )
    assert who.post(f"/cases/{ref.id}/messages", {"body": "x"}).status_code == 403
    assert who.get(f"/my-reports/{ref.report_id}/case").status_code == (
        200 if role == Role.EMPLOYEE else 404
    )


def test_a_safety_rep_without_consent_gets_404(org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    rep = login(org.safety_rep)
    assert rep.get("/cases").status_code == 200
    assert rep.get(f"/cases/{ref.id}").status_code == 404


def test_a_safety_rep_sees_only_what_was_shared_with_consent(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    shared = {"template": "bht_offer", "note": "Offered BHT.", "consent_to_share": ["off", "on"]}
    assert redirected_to(handler.post(base + "/tasks", shared), base)
    private = {"template": "leader_contact", "note": "Private note.", "consent_to_share": "off"}
    assert redirected_to(handler.post(base + "/tasks", private), base)
    rep = login(org.safety_rep)
    assert f'href="{base}"' in rep.text("/cases")
    page = rep.text(base)
    main = page.split("<main", 1)[1]
    # The shared step shows; no task note does ("Only case handlers see the note").
    assert "Offer of occupational health service (BHT)" in main
    assert "Offered BHT." not in main
    assert "Private note." not in main
    assert "The patient threatened" not in main
    assert "<form" not in main
    assert rep.post(base + "/messages", {"body": "Hi", "internal": "false"}).status_code == 403
    # A debriefing held but not shared: the rep is told none was shared, not that none
    # was held.
    held = {"held_on": date.today().isoformat(), "outcome": "Not for the rep."}
    assert redirected_to(handler.post(base + "/debriefing", held), base)
    main = rep.text(base).split("<main", 1)[1]
    assert "No debriefing summary has been shared with you." in main
    assert "No debriefing recorded yet." not in main
    assert "Not for the rep." not in main


def test_the_reporter_page_is_for_the_owner_only(app, org, submit, login, make):
    ref = submit(org.employee, unit_id=org.ward.id)
    stranger = make.user(Role.EMPLOYEE, units=(org.ward,))
    path = f"/my-reports/{ref.report_id}/case"
    assert login(stranger).get(path).status_code == 404
    assert login(stranger).post(path, {"body": "Hi"}).status_code == 404
    assert login(org.handler).get(path).status_code == 404
    assert login(org.employee).get("/my-reports/999999/case").status_code == 404


def test_the_reporter_must_write_something(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    employee = login(org.employee)
    path = f"/my-reports/{ref.report_id}/case"
    before = events_of(app, ref.id)
    r = employee.post(path, {"body": "   "})
    assert r.status_code == 400
    text = page_text(r)
    assert "This field is required." in text
    # The summary names the field as the form does (it said "Text").
    assert 'href="#f-reply-body">Write to the case handler: This field is required.' in text
    assert 'aria-invalid="true"' in text
    assert events_of(app, ref.id) == before
    with app.app_context():
        assert service.messages_for(get_case(ref.id), Side.HANDLER, actor="test") == []


# -- audit --------------------------------------------------------------------------------


def test_every_view_of_the_case_page_is_audited_and_listed(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    before = case_reads(app, ref.id)
    handler.text(f"/cases/{ref.id}")
    page = handler.text(f"/cases/{ref.id}")
    assert case_reads(app, ref.id) == before + 2
    history = page.split('id="h-access"', 1)[1]
    assert "Hanna Handler" in history
    # Both openings, in one row for the day (tests/handling/test_case_workspace.py).
    assert history.count("Opened (case page), 2 times") == 1
    # Two openings in the same minute show one time, not "09:41–09:41".
    assert not re.search(r"(\d{1,2}[:.]\d\d(?:\s?[AP]M)?)\s*–\s*\1", history)


# -- refused forms ------------------------------------------------------------------------


def test_a_forbidden_transition_shows_the_error_and_changes_nothing(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    reads = case_reads(app, ref.id)
    events = events_of(app, ref.id)
    r = handler.post(
        f"/cases/{ref.id}/transition",
        {"to": CaseState.CLOSED, "closing_note": "x", "causes": ["staffing"], "feedback": "y"},
    )
    assert r.status_code == 400
    text = page_text(r)
    assert "A case cannot go from “Reported” to “Closed”." in text
    assert 'id="error-summary"' in text
    assert state_of(app, ref.id) == CaseState.REPORTED
    assert events_of(app, ref.id) == events
    # The page shown with the error displays the case: that reading is kept in the log.
    assert case_reads(app, ref.id) == reads + 1


def test_closing_without_the_guard_fields_keeps_what_was_typed(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    for step in (
        {"to": CaseState.ACKNOWLEDGED},
        {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION, "section_5_2": "false"},
        {"to": CaseState.IN_PROGRESS},
    ):
        assert handler.post(base + "/transition", step).status_code == 303
    r = handler.post(
        base + "/transition", {"to": CaseState.CLOSED, "closing_note": "My careful note"}
    )
    assert r.status_code == 400
    text = page_text(r)
    assert "Choose at least one cause." in text or "This field" in text
    assert "Write the feedback the reporter will see." in text
    assert "need a completed follow-up task and a debriefing" in text
    assert "My careful note" in text
    assert 'href="#f-to-closed-feedback"' in text
    assert 'id="f-to-closed-feedback"' in text
    assert re.search(
        r'<details class="ds-details case-details" open>\s*<summary>Close the case', text
    )
    assert state_of(app, ref.id) == CaseState.IN_PROGRESS


def test_investigation_is_offered_only_where_it_may_be_started(app, org, submit, login):
    """The page does not offer a step that would be refused: investigation is for
    whistleblowing, HR matters and harassment, not for a threat with verbal abuse."""
    handler = login(org.handler)
    pages = {}
    for name, types in (("threat", ["threat", "verbal_abuse"]), ("bullying", ["bullying"])):
        ref = submit(org.employee, unit_id=org.ward.id, incident_types=types)
        for step in (
            {"to": CaseState.ACKNOWLEDGED},
            {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION, "section_5_2": "false"},
            {"to": CaseState.IN_PROGRESS},
        ):
            assert handler.post(f"/cases/{ref.id}/transition", step).status_code == 303
        pages[name] = page_text(handler.get(f"/cases/{ref.id}"))
    assert "Start an investigation" not in pages["threat"]
    assert "Measures are decided" in pages["threat"]
    assert "Start an investigation" in pages["bullying"]


def test_triage_needs_the_section_5_2_answer(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    handler.post(base + "/transition", {"to": CaseState.ACKNOWLEDGED})
    r = handler.post(base + "/transition", {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION})
    assert r.status_code == 400
    assert "section 5-2" in page_text(r)
    assert state_of(app, ref.id) == CaseState.ACKNOWLEDGED


def test_an_empty_message_is_refused_next_to_the_field(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    r = login(org.handler).post(f"/cases/{ref.id}/messages", {"internal": "true", "body": ""})
    assert r.status_code == 400
    text = page_text(r)
    assert 'id="e-message-body"' in text
    # The error summary names the field to fix, and links to it.
    assert re.search(r'<a class="ds-link" href="#f-message-body">Text: [^<]+</a>', text), text
    # The choice made is kept: "internal note" stays ticked.
    assert re.search(r'value="true" checked', text)


# -- more actions -------------------------------------------------------------------------


def test_recusing_moves_the_case_away_and_back_to_the_queue(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    r = handler.post(f"/cases/{ref.id}/assignment", {"recuse": "true", "reason": ""})
    assert r.status_code == 400
    assert "Write why you step aside." in page_text(r)
    r = handler.post(
        f"/cases/{ref.id}/assignment", {"recuse": "true", "reason": "I know the patient."}
    )
    assert redirected_to(r, "/cases")
    assert handler.get(f"/cases/{ref.id}").status_code == 404
    with app.app_context():
        case = get_case(ref.id)
        assert org.handler.id in case.excluded_user_ids
        assert case.assigned_user_id in (None, org.colleague.id)


def test_assigning_a_handler_through_the_form(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    r = handler.post(
        f"/cases/{ref.id}/assignment",
        {"handler_id": str(org.colleague.id), "group_id": "", "reason": "She knows the ward."},
    )
    assert redirected_to(r, f"/cases/{ref.id}")
    with app.app_context():
        assert get_case(ref.id).assigned_user_id == org.colleague.id
    r = handler.post(
        f"/cases/{ref.id}/assignment",
        {"handler_id": str(org.whistle_handler.id), "group_id": "", "reason": ""},
    )
    assert r.status_code == 400
    assert "not in its group" in page_text(r)


def test_section_5_2_checklist_for_a_serious_injury(app, org, submit, login):
    ref = submit(
        org.employee,
        unit_id=org.ward.id,
        severity=4,
        injury_level="hospital",
        occurred_at="2026-03-28T22:00:00+01:00",
    )
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    page = handler.text(base)
    assert 'id="h-section52"' in page
    # Oslo wall time: summer time has begun on 29 March 2026, so 12:00 is 10:00 UTC.
    r = handler.post(
        base + "/section52",
        {
            "labour_inspection_notified_at": "2026-03-29T12:00",
            "labour_inspection_notified_by_id": "",
            "police_notified_at": "2026-03-29T12:30",
            "police_notified_by_id": "",
            "safety_rep_copied_at": "",
            "nav_form_sent": "true",
            "nav_form_sent_on": "2026-03-30",
        },
    )
    assert redirected_to(r, base), page_text(r)[:3000]
    with app.app_context():
        case = get_case(ref.id)
        check = case.section52
        assert check is not None
        assert check.labour_inspection_notified_at.isoformat() == "2026-03-29T10:00:00+00:00"
        assert check.labour_inspection_notified_by_id == org.handler.id
        assert check.nav_form_sent is True
        notice = [d for d in case.deadlines if d.kind == "section_5_2_notice"]
        assert notice
        assert notice[0].met_at is not None
    page = handler.text(base)
    assert 'value="2026-03-29T12:00"' in page


def test_section_5_2_times_are_between_the_incident_and_now(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id, severity=4, injury_level="hospital")
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    ahead = (datetime.now(ZoneInfo("Europe/Oslo")) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    # The error summary names each field with its authority: the form asks "Notified at"
    # under both the Labour Inspection Authority's and the police's legend.
    for field, value, label, message in (
        (
            "labour_inspection_notified_at",
            ahead,
            "Labour Inspection Authority notified",
            "it cannot be in the future",
        ),
        (
            "police_notified_at",
            "2020-01-01T10:00",
            "Police notified",
            "it cannot be before the incident",
        ),
        ("nav_form_sent_on", "2099-01-01", "Sent on", "it cannot be in the future"),
    ):
        r = handler.post(base + "/section52", {field: value})
        assert r.status_code == 400, field
        text = page_text(r)
        assert f"{label}: Enter when it was done: {message}." in text
        assert f'href="#f-section52-{field}"' in text, field
    with app.app_context():
        check = get_case(ref.id).section52
        assert check is None or (check.labour_inspection_notified_at, check.police_notified_at) == (
            None,
            None,
        )
        notice = [d for d in get_case(ref.id).deadlines if d.kind == "section_5_2_notice"]
        assert notice[0].met_at is None


def test_a_task_update_and_a_bad_due_time(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    handler = login(org.handler)
    base = f"/cases/{ref.id}"
    r = handler.post(base + "/tasks", {"template": "recontact", "due_at": "not a time"})
    assert r.status_code == 400
    assert "Enter a valid date and time." in page_text(r)
    r = handler.post(base + "/tasks", {"template": "", "note": "typed", "consent_to_share": "off"})
    assert r.status_code == 400
    assert "typed" in page_text(r)
    assert 'name="consent_to_share" checked' not in page_text(r)
    ticked = {"template": "", "consent_to_share": ["off", "on"]}
    assert 'name="consent_to_share" checked' in page_text(handler.post(base + "/tasks", ticked))
    r = handler.post(
        base + "/tasks",
        {"template": "bht_offer", "note": "Offered BHT.", "consent_to_share": ["off", "on"]},
    )
    assert redirected_to(r, base)
    with app.app_context():
        task = get_case(ref.id).tasks[0]
        assert task.consent_to_share is True
        task_id = task.id
    r = handler.post(
        f"{base}/tasks/{task_id}",
        {
            "status": "open",
            "responsible_user_id": str(org.manager.id),
            "due_at": f"{date.today().year + 1}-01-15T09:00",
            "note": "Rescheduled.",
            "consent_to_share": "off",
        },
    )
    assert redirected_to(r, base), page_text(r)[:3000]
    with app.app_context():
        task = get_case(ref.id).tasks[0]
        assert task.consent_to_share is False
        # 15 January: winter time, so 09:00 in Oslo is 08:00 UTC.
        assert task.due_at.isoformat() == f"{date.today().year + 1}-01-15T08:00:00+00:00"
    assert "Rescheduled." in handler.text(base)


# -- admin ----------------------------------------------------------------------------------


def test_admin_pages_are_linked_from_administration(org, login):
    admin = login(org.admin)
    home = admin.text("/admin/")
    for path in ("/admin/handler-groups", "/admin/routing-rules", "/admin/deadline-policies"):
        assert f'href="{path}"' in home
        assert admin.get(path).status_code == 200
    handler = login(org.handler)
    assert handler.get("/admin/handler-groups").status_code == 403


def test_admin_makes_a_group_and_a_rule_and_removes_it(app, org, login):
    admin = login(org.admin)
    r = admin.post(
        "/admin/handler-groups/new",
        {"name": "Psykiatri", "member_ids": [str(org.colleague.id)]},
    )
    assert redirected_to(r, "/admin/handler-groups"), page_text(r)[:2000]
    with app.app_context():
        group = next(g for g in service.handler_groups() if g.name == "Psykiatri")
        group_id = group.id
        assert group.member_ids == [org.colleague.id]
    for same in ("Psykiatri", " psykiatri  ", "PSYKIATRI"):
        r = admin.post("/admin/handler-groups/new", {"name": same})
        assert r.status_code == 400, same
        assert "already exists" in page_text(r)
    r = admin.post("/admin/handler-groups/new", {"name": "X", "member_ids": [str(org.employee.id)]})
    assert r.status_code == 400
    assert "Only case handlers" in page_text(r)

    r = admin.post(
        "/admin/routing-rules",
        {
            "unit_id": str(org.psychiatry.id),
            "incident_type": "",
            "track": "",
            "group_id": str(group_id),
        },
    )
    assert redirected_to(r, "/admin/routing-rules")
    page = admin.text("/admin/routing-rules")
    assert "Psykiatrien" in page
    assert "No members: its cases go to the fallback group" not in page
    r = admin.post("/admin/routing-rules", {"group_id": ""})
    assert r.status_code == 400
    # The summary names the field as the form does, "Goes to" (it said "Handler group").
    assert 'href="#f-rule-group_id">Goes to: ' in page_text(r)
    # The same cases once more, to another group: refused, the first rule named.
    same = {"unit_id": str(org.psychiatry.id), "incident_type": "", "track": ""}
    r = admin.post("/admin/routing-rules", {**same, "group_id": str(org.hms)})
    assert r.status_code == 400
    assert "A rule for exactly these cases exists already, to Psykiatri." in page_text(r)
    # A rule to a group without members says where its cases will go.
    r = admin.post("/admin/handler-groups/new", {"name": "Tom"})
    assert redirected_to(r, "/admin/handler-groups"), page_text(r)[:2000]
    with app.app_context():
        empty_id = next(g.id for g in service.handler_groups() if g.name == "Tom")
    r = admin.post(
        "/admin/routing-rules", {**same, "track": Track.WHISTLEBLOWING, "group_id": str(empty_id)}
    )
    assert redirected_to(r, "/admin/routing-rules")
    assert "No members: its cases go to the fallback group" in admin.text("/admin/routing-rules")
    with app.app_context():
        rule = next(r for r in service.routing_rules() if r.group_id == group_id)
        rule_id = rule.id
    r = admin.post(f"/admin/routing-rules/{rule_id}/delete", {})
    assert redirected_to(r, "/admin/routing-rules")
    with app.app_context():
        assert all(r.id != rule_id for r in service.routing_rules())


def test_removing_a_member_from_a_group_says_that_adding_them_again_is_not_undoing_it(
    org, submit, login
):
    # Removed and added again, a handler silently no longer saw the group's earlier
    # cases (access follows membership); the admin is now told, and the form says how
    # membership gives access.
    ref = submit(org.employee, unit_id=org.ward.id)
    admin = login(org.admin)
    form = admin.text(f"/admin/handler-groups/{org.hms}")
    assert "A new member sees the cases that come to the group from then on" in form
    base = {"name": "HMS", "is_default": "on"}
    alone = {**base, "member_ids": [str(org.handler.id)]}
    r = admin.post(f"/admin/handler-groups/{org.hms}", alone)
    assert redirected_to(r, "/admin/handler-groups")
    groups = admin.text("/admin/handler-groups")
    assert "1 member was removed from the group." in groups
    assert "Added again, they see the cases that come after that" in groups
    members = [str(org.handler.id), str(org.colleague.id)]
    r = admin.post(f"/admin/handler-groups/{org.hms}", {**base, "member_ids": members})
    assert redirected_to(r, "/admin/handler-groups")
    assert "was removed" not in admin.text("/admin/handler-groups")
    # What the warning says: the colleague, added again, does not see the earlier case.
    assert login(org.colleague).get(f"/cases/{ref.id}").status_code in (403, 404)
    assert login(org.handler).get(f"/cases/{ref.id}").status_code == 200


def policies_form(policies: list[Any]) -> dict[str, Any]:
    """The deadline policies page's form as it is sent for these rows, unchanged."""
    form: dict[str, Any] = {}
    for i, pol in enumerate(policies):
        src = f"p{i}"
        form |= {
            f"{src}-kind": pol.kind,
            f"{src}-track": pol.track or "",
            f"{src}-incident_type": pol.incident_type or "",
            f"{src}-min_severity": str(pol.min_severity),
            f"{src}-amount": str(pol.amount),
            f"{src}-unit": pol.unit,
            # As the page sends it: a hidden "off", then the ticked box's "on".
            f"{src}-active": ["off", "on"] if pol.active else "off",
        }
    return form


def test_admin_changes_a_deadline_duration(app, org, login):
    admin = login(org.admin)
    page = admin.text("/admin/deadline-policies")
    with app.app_context():
        policies = service.policies()
    form = policies_form(policies)
    ack = next(i for i, p in enumerate(policies) if p.kind == "acknowledge")
    assert f'name="p{ack}-amount"' in page
    # Every duration except "same day" must be at least 1.
    r = admin.post("/admin/deadline-policies", {**form, f"p{ack}-amount": "0"})
    assert r.status_code == 400
    text = page_text(r)
    assert f'href="#f-policies-p{ack}-amount"' in text
    assert f'id="e-policies-p{ack}-amount"' in text
    form[f"p{ack}-amount"] = "5"
    r = admin.post("/admin/deadline-policies", form)
    assert redirected_to(r, "/admin/deadline-policies"), page_text(r)[:2000]
    with app.app_context():
        ack_rows = [p for p in service.policies() if p.kind == "acknowledge"]
        assert [(p.amount, p.unit) for p in ack_rows] == [(5, "days")]
        assert len(service.policies()) == len(policies)
    # Unticking a row switches it off; a new row is active; a removed row goes.
    last = len(policies) - 1
    form[f"p{ack}-active"] = "off"
    form[f"p{last}-remove"] = "on"
    form |= {
        "new-kind": "acknowledge",
        "new-track": "",
        "new-incident_type": "",
        "new-min_severity": "4",
        "new-amount": "1",
        "new-unit": "days",
    }
    r = admin.post("/admin/deadline-policies", form)
    assert redirected_to(r, "/admin/deadline-policies"), page_text(r)[:2000]
    with app.app_context():
        ack_rows = [p for p in service.policies() if p.kind == "acknowledge"]
        assert sorted((p.min_severity, p.amount, p.active) for p in ack_rows) == [
            (1, 5, False),
            (4, 1, True),
        ]
        assert len(service.policies()) == len(policies)
    # Every row removed or switched off (or a form sent without its rows) would leave new
    # cases with no deadlines: refused, with nothing changed.
    everything = {f"p{i}-remove": "on" for i in range(len(policies))}
    all_off = {f"p{i}-active": "off" for i in range(len(policies))}
    no_new = {"new-kind": "", "new-amount": ""}
    for sent in ({**form, **everything, **no_new}, {**form, **all_off, **no_new}, {}):
        r = admin.post("/admin/deadline-policies", sent)
        assert r.status_code == 400
        assert "Keep at least one deadline policy switched on" in page_text(r)
    with app.app_context():
        assert len(service.policies()) == len(policies)
        assert any(p.active for p in service.policies())
    # A duration typed on the new row without its step: said, not silently dropped.
    begun = {**form, "new-kind": "", "new-amount": "3", "new-unit": "days"}
    r = admin.post("/admin/deadline-policies", begun)
    assert r.status_code == 400
    assert 'id="e-policies-new-kind"' in page_text(r)
    # A new row for a step and cases a switched-on row already has: said by the new row.
    on = next(p for i, p in enumerate(policies) if p.active and i not in (ack, last))
    again = {
        **form,
        "new-kind": on.kind,
        "new-track": on.track or "",
        "new-incident_type": on.incident_type or "",
        "new-min_severity": str(on.min_severity),
        "new-amount": "9",
        "new-unit": "days",
    }
    r = admin.post("/admin/deadline-policies", again)
    assert r.status_code == 400
    assert 'id="e-policies-new-kind"' in page_text(r)
    assert "Another switched-on row already sets this step" in page_text(r)


def test_a_switched_off_twin_switched_on_is_said_by_its_active_box(app, org, login):
    """An existing row's step and cases are not fields of the form (hidden): a row
    switched on beside a twin already on is said by its "Active" box, which the error
    summary links to."""
    with app.app_context():
        rows = [
            {
                "kind": p.kind, "track": p.track, "incident_type": p.incident_type,
                "min_severity": p.min_severity, "amount": p.amount, "unit": p.unit,
                "active": p.active,
            }
            for p in service.policies()
        ]  # fmt: skip
        twin = {**rows[0], "amount": 3, "unit": "days", "active": False}
        service.replace_policies([*rows, twin], actor="test")
        db.session.commit()
        policies = service.policies()
    form = policies_form(policies)
    off = next(i for i, p in enumerate(policies) if not p.active)
    r = login(org.admin).post("/admin/deadline-policies", {**form, f"p{off}-active": ["off", "on"]})
    assert r.status_code == 400
    text = page_text(r)
    assert "Another switched-on row already sets this step" in text
    assert f'href="#f-policies-p{off}-active"' in text
    assert f'id="f-policies-p{off}-active"' in text
    assert f'id="e-policies-p{off}-active"' in text
    assert f'aria-describedby="e-policies-p{off}-active"' in text


def test_admin_sees_the_fallback_warning_without_content(app, org, submit, login):
    ref = submit(
        org.employee,
        unit_id=org.ward.id,
        must_not_handle=[org.handler.id, org.colleague.id],
        narrative="A very private course of events.",
    )
    assert ref.group_id == org.fallback
    with app.app_context():
        reference = get_case(ref.id).report.reference
    admin = login(org.admin)
    for path in ("/admin/handler-groups", "/admin/routing-rules"):
        page = admin.text(path)
        assert reference in page
        assert "the case went to the fallback group" in page
        assert "A very private course of events." not in page
    assert admin.get(f"/cases/{ref.id}").status_code == 403


def test_admin_is_warned_of_a_group_left_without_members_that_holds_cases(app, org, submit, login):
    # Emptying a group whose cases are still active said "No warnings: every active case
    # has a handler group with someone who may handle it." (routing warnings are made
    # only when a case is routed).
    for _ in range(2):
        submit(org.employee, unit_id=org.ward.id)
    admin = login(org.admin)
    assert "No warnings" in admin.text("/admin/handler-groups")
    with app.app_context():
        hms = db.session.get(HandlerGroup, org.hms)
        service.save_group(actor="test", name=hms.name, member_ids=[], is_default=True, group=hms)
        db.session.commit()
    for path in ("/admin/handler-groups", "/admin/routing-rules"):
        page = admin.text(path)
        assert "The handler group HMS has no members: no one can see its 2 active cases." in page
        assert "No warnings" not in page
