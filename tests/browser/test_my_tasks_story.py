"""A leader's working day in a real browser, with axe-core on every page, nb and en.

The handler has made the leader responsible for contacting the exposed employee. The
leader logs in, finds the task first on the start page, opens "My tasks", marks it done
with a short note, and the handler (who lands in the queue) sees the note and the step
on the case. The start pages of the other roles are checked for accessibility too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from handling import service
from reporting.schemas import ReportSchema
from reporting.service import submit_report
from tests.browser.conftest import PHONE
from tests.browser.helpers import (
    Login,
    assert_accessible,
    assert_path,
    click_and_wait,
    log_in,
    log_out,
    show_section,
)
from trygg import org
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.roles import Role

pytestmark = pytest.mark.browser

EN = "en-GB"
NARRATIVE = "Pasienten truet meg i gangen (oppgavehistorie)."
NOTE = "Snakket med Kari mandag; hun har det bra."


@dataclass
class Task:
    case_id: int
    task_id: int
    reference: str


@pytest.fixture(scope="module")
def task(live_app: Flask, demo_logins: dict[str, Login]) -> Task:
    """The employee's report of a threat, and the leader made responsible for contact."""
    with live_app.app_context():
        employee = accounts.find_user(demo_logins[Role.EMPLOYEE].email)
        leader = accounts.find_user(demo_logins[Role.MANAGER].email)
        handler = accounts.find_user(demo_logins[Role.HANDLER].email)
        unit = org.find_unit("Akuttmottaket")
        assert employee
        assert leader
        assert handler
        assert unit
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
        db.session.flush()
        case = service.case_for_report(report)
        assert case is not None
        added = service.add_task(
            case,
            actor=handler,
            template="leader_contact",
            responsible_user_id=leader.id,
            note="Ring henne i dag.",
        )
        db.session.commit()
        return Task(case.id, added.id, report.reference)


def test_a_leader_marks_a_task_done_and_the_handler_sees_it(new_page, demo_logins, task):
    leader = new_page(locale=EN)
    log_in(leader, demo_logins[Role.MANAGER])
    assert_path(leader, "/")
    # The start page: the open task first, before the trends and the reporting section.
    headings = leader.locator("main h2").all_inner_texts()
    assert headings[0] == "My tasks", headings
    assert task.reference in leader.locator("section[aria-labelledby=h-my-tasks]").inner_text()
    assert_accessible(leader, "the manager's start page")

    click_and_wait(leader, "section[aria-labelledby=h-my-tasks] a[href='/my-tasks']")
    assert_path(leader, "/my-tasks")
    card = leader.locator(f"article:has-text('{task.reference}')")
    text = card.inner_text()
    assert "Leader contacts the exposed employee" in text
    assert "Kari Nordmann" in text  # whom to contact
    assert NARRATIVE not in leader.content()
    assert "Ring henne i dag." not in leader.content()  # the handler's note
    assert_accessible(leader, "My tasks")

    card.locator(f"#f-done-{task.task_id}-note").fill(NOTE)
    click_and_wait(leader, f"form[action='/my-tasks/{task.task_id}/done'] button[type=submit]")
    assert_path(leader, "/my-tasks")
    assert "The task is marked as done" in leader.locator(".case-flash").inner_text()
    assert "You have no open tasks." in leader.locator("main").inner_text()
    assert task.reference in leader.locator("table").inner_text()
    assert_accessible(leader, "My tasks after marking done")

    handler = new_page(locale=EN)
    if log_in(handler, demo_logins[Role.HANDLER]) == "enrolled":
        # The first login sets up two-factor; from the next, a handler lands in the queue.
        log_out(handler)
        assert log_in(handler, demo_logins[Role.HANDLER]) == "code"
    assert_path(handler, "/cases")
    handler.goto(f"/cases/{task.case_id}")
    show_section(handler, "h-tasks")
    page = handler.locator("main").inner_text()
    assert NOTE in page
    assert "Lars Leder" in page
    show_section(handler, "h-timeline")
    assert "Leader contacts the exposed employee: Done" in handler.locator("main").inner_text()


@pytest.mark.parametrize("locale", ["nb-NO", EN])
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.MANAGER, Role.SAFETY_REP, Role.HANDLER])
def test_start_pages_and_my_tasks_are_accessible(logged_in, role, locale, task):
    page = logged_in(role, locale=locale)
    page.goto("/")
    assert_accessible(page, f"the start page of {role} ({locale})")
    if role == Role.SAFETY_REP:
        assert page.locator("main a[href='/cases?state=all']").count() == 1
    if role == Role.EMPLOYEE:
        assert page.locator("main a.ds-button[href='/report']").count() == 1
    page.goto("/my-tasks")
    assert_accessible(page, f"My tasks of {role} ({locale})")


def _leaders_task(
    live_app: Flask, demo_logins: Any, case_id: int, template: str, *, done: bool = False
) -> int:
    """A task the demo handler gives the demo leader on the case (done by the leader, if
    `done`): its id."""
    with live_app.app_context():
        case = service.get_case(case_id)
        handler = accounts.find_user(demo_logins[Role.HANDLER].email)
        leader = accounts.find_user(demo_logins[Role.MANAGER].email)
        assert case
        assert handler
        assert leader
        added = service.add_task(
            case, actor=handler, template=template, responsible_user_id=leader.id
        )
        db.session.flush()
        if done:
            service.mark_task_done(leader, added.id, note=None)
        db.session.commit()
        return added.id


def test_a_refused_note_is_accessible(new_page, live_app: Flask, demo_logins, task: Any):
    """A too-long note: the page again with 400, the message at the field and an error
    summary that takes the focus and leads to the note, which keeps what was typed."""
    task_id = _leaders_task(live_app, demo_logins, task.case_id, "recontact")
    page = new_page(locale=EN)
    log_in(page, demo_logins[Role.MANAGER])
    page.goto("/my-tasks")
    page.locator(f"#f-done-{task_id}-note").evaluate("el => el.removeAttribute('maxlength')")
    page.locator(f"#f-done-{task_id}-note").fill("x" * 2001)
    click_and_wait(page, f"form[action='/my-tasks/{task_id}/done'] button[type=submit]")
    assert "Make the note shorter" in page.locator("main").inner_text()
    summary = page.locator("#error-summary")
    page.wait_for_function("document.activeElement?.id === 'error-summary'")
    assert "Make the note shorter" in summary.inner_text()
    summary.get_by_role("link").click()
    page.wait_for_function(f"document.activeElement.id === 'f-done-{task_id}-note'")
    assert page.locator(f"#f-done-{task_id}-note").input_value() == "x" * 2001
    assert_accessible(page, "My tasks with a refused note")


def test_the_recently_done_caption_stays_readable_on_a_phone(
    logged_in, live_app: Flask, demo_logins, task: Any
):
    """The "Recently done" table is wider than a 390 px phone and scrolls in its region;
    its caption, as wide as the table, was cut off at the region's edge mid-sentence."""
    _leaders_task(live_app, demo_logins, task.case_id, "individual_talk", done=True)
    page = logged_in(Role.MANAGER, viewport=PHONE, locale="nb-NO")
    page.goto("/my-tasks")
    caption = page.locator("#done-caption")
    assert caption.is_visible()
    region = caption.locator("xpath=ancestor::div[contains(@class,'app-table-scroll')]")
    assert region.evaluate("r => r.scrollWidth > r.clientWidth"), "the table fits: no test"
    # Every line of the caption's text lies within what the region shows.
    outside = caption.evaluate(
        """c => {
            const region = c.closest('.app-table-scroll').getBoundingClientRect();
            const range = document.createRange();
            range.selectNodeContents(c);
            return Array.from(range.getClientRects())
                .filter(r => r.width > 0 && r.right > region.right + 1).length;
        }"""
    )
    assert outside == 0, f"{outside} line(s) of the caption run past the phone's edge"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
