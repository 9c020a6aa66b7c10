"""The whole story in a real browser, by keyboard and mouse, with axe-core on every page.

An employee reports a threat from a patient; the routed handler acknowledges, triages,
records the leader's contact and the learning review, and writes to the employee; the
employee answers from "My reports"; the handler closes with feedback, which the employee
then reads. A handler of another group sees nothing of it. The report is stored through
reporting's service, which sends the
real `report_submitted` signal, so the case is opened exactly as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from handling import service
from handling.states import CaseState, Track
from reporting.schemas import ReportSchema
from reporting.service import submit_report
from tests.browser.helpers import (
    Login,
    assert_accessible,
    assert_path,
    click_and_wait,
    log_in,
    open_details,
    show_section,
)
from trygg import org
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.roles import Role

# The live server, browser and demo logins come from tests/browser/conftest.py.

pytestmark = pytest.mark.browser

EN = "en-GB"  # the nb catalogue is not translated yet: the test reads English words
NARRATIVE = "Pasienten truet med å slå meg da jeg nektet å gi ham mer medisin."


@dataclass
class Story:
    case_id: int
    report_id: int
    reference: str
    other_handler: Login


@pytest.fixture(scope="module")
def story(live_app: Flask, demo_logins: dict[str, Login]) -> Story:
    """A second handler group ("Varsling") and the employee's report of a threat."""
    password = "another long passphrase for Vilde"
    with live_app.app_context():
        vilde = accounts.create_user(
            email="vilde@demo.trygg.no",
            name="Vilde Varsel",
            roles=[Role.HANDLER],
            units=[],
            password=password,
            actor="test",
        )
        db.session.flush()
        group = service.save_group(actor="test", name="Varsling", member_ids=[vilde.id])
        service.create_rule(actor="test", group_id=group.id, track=Track.WHISTLEBLOWING)
        employee = accounts.find_user(demo_logins[Role.EMPLOYEE].email)
        unit = org.find_unit("Akuttmottaket")
        assert employee is not None
        assert unit is not None
        data = ReportSchema().load(
            {
                "incident_types": ["threat"],
                "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                "unit_id": unit.id,
                "place_type": "patient_room",
                "counterpart_category": "patient",
                "severity": 2,
                "narrative": NARRATIVE,
            }
        )
        report = submit_report(data, reporter=employee)
        db.session.commit()
        case = service.case_for_report(report)
        assert case is not None
        assert case.group is not None
        assert case.group.name == "HMS"
        other = Login(
            Role.HANDLER, "vilde@demo.trygg.no", password, "Vilde Varsel", (Role.HANDLER,)
        )
        return Story(case.id, report.id, report.reference, other)


def submit_in(page: Any, form: str) -> None:
    """Press the submit button of the form matched by `form` and wait for the answer."""
    click_and_wait(page, f"{form} button[type=submit]")


def step_form(to: str) -> str:
    return f"form:has(input[name=to][value={to}])"


def flash(page: Any) -> str:
    return str(page.locator(".case-flash").first.inner_text())


def test_a_threat_is_handled_to_the_end_in_the_browser(new_page, demo_logins, story):
    handler = new_page(locale=EN)
    log_in(handler, demo_logins[Role.HANDLER])

    # The queue: the new case, with its nearest deadline.
    handler.goto("/cases")
    assert_accessible(handler, "the handler's queue")
    row = handler.get_by_role("row", name=story.reference)
    assert "Threat" in row.inner_text()
    assert "Leader contacts the exposed employee" in row.inner_text()
    click_and_wait(handler, f"main a[href='/cases/{story.case_id}']")
    case_path = f"/cases/{story.case_id}"
    assert_path(handler, case_path)
    assert_accessible(handler, "the case page")
    show_section(handler, "h-report")
    assert NARRATIVE in handler.locator("#h-report + dl + h3 + p").inner_text()
    assert_accessible(handler, "the case page's report")
    show_section(handler, "h-actions")

    submit_in(handler, step_form(CaseState.ACKNOWLEDGED))
    assert_path(handler, case_path)
    assert flash(handler) == "The report is acknowledged."
    # The confirmation is right under the heading the address's #h-actions lands on,
    # so a screen reader reads it next, and it is beside the form it confirms.
    assert handler.locator("#h-actions + .case-flash").inner_text() == "The report is acknowledged."

    # Triage without the section 5-2 answer: refused, with the error summary focused.
    handler.locator("#f-to-triaged-track-1").check()
    submit_in(handler, step_form(CaseState.TRIAGED))
    summary = handler.locator("#error-summary")
    assert "section 5-2" in summary.inner_text()
    assert handler.evaluate("document.activeElement && document.activeElement.id") == (
        "error-summary"
    )
    assert_accessible(handler, "the case page with a refused triage")
    # The summary's link leads to the question; answer it with the keyboard.
    summary.get_by_role("link").click()
    handler.locator("#f-to-triaged-section_5_2-2").focus()
    handler.keyboard.press("Space")
    assert handler.locator("#f-to-triaged-section_5_2-2").is_checked()
    submit_in(handler, step_form(CaseState.TRIAGED))
    assert flash(handler) == "The case is triaged."

    submit_in(handler, step_form(CaseState.IN_PROGRESS))
    assert "In progress" in handler.locator(".case-facts").inner_text()

    # The leader's contact with the exposed employee, as a follow-up task, then done.
    show_section(handler, "h-tasks")
    handler.locator("#f-task-new-template").select_option("leader_contact")
    handler.locator("#f-task-new-responsible_user_id").select_option(label="Lars Leder (leader)")
    handler.locator("#f-task-new-note").fill("Lars ringer Kari i dag.")
    submit_in(handler, "form[action$='/tasks']")
    assert flash(handler) == "The follow-up task is added."
    submit_in(handler, "form:has(input[name=status][value=done])")
    assert flash(handler) == "The follow-up task is updated."
    show_section(handler, "h-actions")
    deadlines = handler.locator("#h-deadlines + .app-table-scroll table").inner_text()
    assert "Met" in deadlines

    # The learning review, opened and filled in from the keyboard.
    show_section(handler, "h-tasks")
    open_details(handler, "details:has(form[action$='/debriefing']) > summary", keyboard=True)
    handler.locator("#f-debriefing-participant_roles-1").check()
    handler.locator("#f-debriefing-participant_roles-2").check()
    handler.locator("#f-debriefing-support_offered-1").check()
    handler.locator("#f-debriefing-outcome").fill("To på vakt ved skjerming fra nå av.")
    submit_in(handler, "form[action$='/debriefing']")
    assert flash(handler) == "The debriefing is recorded."

    show_section(handler, "h-messages")
    open_details(handler, "details:has(form[action$='/messages']) > summary")
    handler.locator("#f-message-body").fill("Hei Kari, hvordan har du det etter hendelsen?")
    submit_in(handler, "form[action$='/messages']")
    assert flash(handler) == "The message is sent."

    # The employee reads the message in "My reports" and answers.
    employee = new_page(locale=EN)
    log_in(employee, demo_logins[Role.EMPLOYEE])
    mine = f"/my-reports/{story.report_id}/case"
    employee.goto(mine)
    assert "hvordan har du det" in employee.locator(".case-messages").inner_text()
    assert_accessible(employee, "the reporter's case page")
    employee.locator("#f-reply-body").fill("Takk, det går bedre nå.")
    submit_in(employee, "main form")
    assert_path(employee, mine)
    assert "Takk, det går bedre nå." in employee.locator(".case-messages").inner_text()

    # The handler sees the answer and closes the case with feedback.
    handler.goto(case_path)
    show_section(handler, "h-messages")
    assert "Takk, det går bedre nå." in handler.locator(".case-messages").inner_text()
    show_section(handler, "h-actions")
    open_details(handler, f"details:has({step_form(CaseState.CLOSED)}) > summary")
    handler.locator("#f-to-closed-closing_note").fill("Bemanningen er økt; Kari er fulgt opp.")
    handler.locator("#f-to-closed-causes-1").check()
    handler.locator("#f-to-closed-feedback").fill("Vi har satt inn to på vakt ved skjerming.")
    submit_in(handler, step_form(CaseState.CLOSED))
    assert "Closed" in handler.locator(".case-facts").inner_text()
    assert_accessible(handler, "the closed case page")

    employee.reload()
    assert "Vi har satt inn to på vakt" in employee.locator("main").inner_text()
    assert "Bemanningen er økt" not in employee.locator("main").inner_text()


def test_a_handler_of_another_group_sees_nothing(new_page, story):
    other = new_page(locale=EN)
    log_in(other, story.other_handler)
    other.goto("/cases?state=all")
    assert story.reference not in other.locator("main").inner_text()
    response = other.goto(f"/cases/{story.case_id}")
    assert response is not None
    assert response.status == 404
    assert NARRATIVE not in other.content()


def test_admin_pages_are_accessible(new_page, demo_logins, story):
    admin = new_page(locale=EN)
    log_in(admin, demo_logins[Role.ADMIN])
    admin.goto("/admin/")
    for path in ("/admin/handler-groups", "/admin/routing-rules", "/admin/deadline-policies"):
        click_and_wait(admin, f"main a[href='{path}']")
        assert_path(admin, path)
        assert_accessible(admin, path)
        admin.goto("/admin/")
    admin.goto("/admin/handler-groups/new")
    assert_accessible(admin, "the new handler group form")
    click_and_wait(admin, "main form button[type=submit]")
    assert "Please correct the following" in admin.locator("#error-summary").inner_text()
    assert_accessible(admin, "the handler group form with an error")
    # Admins see no case content: the case pages are closed to their role.
    response = admin.goto(f"/cases/{story.case_id}")
    assert response is not None
    assert response.status == 403
