"""The risk assessment story in a real browser, in Norwegian and English: a violent
incident in the waiting room is reported; the emergency department's item gets a
re-assessment trigger; the leader starts a new version, raises the likelihood, adds a
measure (alarm buttons) with a deadline; the safety representative comments; the leader
approves and publishes the summary; an employee of the unit sees it. Every page passes
axe-core."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from reporting.schemas import ReportSchema
from reporting.service import submit_report
from risk.assessment import triggers
from risk.assessment.models import Assessment
from tests.browser.helpers import assert_accessible, click_and_wait
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.roles import Role

pytestmark = pytest.mark.browser
OSLO = ZoneInfo("Europe/Oslo")


def _violent_evening_in_the_waiting_room(app, reporter_email: str) -> int:
    """The employee's report, through the intake service, and the scheduler's risk job."""
    evening = datetime.now(OSLO).replace(hour=19, minute=30, second=0, microsecond=0)
    if evening > datetime.now(OSLO):
        evening -= timedelta(days=1)
    with app.app_context():
        reporter = db.session.scalar(select(User).where(User.email == reporter_email))
        unit = reporter.units[0]
        data = ReportSchema().load(
            {
                "incident_types": ["physical_violence"],
                "occurred_at": evening.isoformat(),
                "place_type": "front_desk",
                "counterpart_category": "patient",
                "severity": 3,
                "narrative": "En pasient slo meg i skranken.",
                "unit_id": unit.id,
            }
        )
        submit_report(data, reporter=reporter)
        db.session.commit()
        # Serious incidents are looked for the day after they were reported.
        triggers.check_incidents(datetime.now(UTC) + timedelta(days=1), None)
        db.session.commit()
        return db.session.scalar(select(Assessment.id).order_by(Assessment.id))


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_an_incident_leads_to_a_new_assessment_that_employees_see(
    live_app, demo_logins, logged_in, locale
):
    en = locale.startswith("en")
    aid = _violent_evening_in_the_waiting_room(live_app, demo_logins[Role.EMPLOYEE].email)

    leader = logged_in(Role.MANAGER, locale=locale)
    leader.goto("/risk/assessments")
    assert_accessible(leader, f"risk overview ({locale})")
    click_and_wait(leader, f"a[href='/risk/assessments/{aid}']")
    reasons = leader.locator("#h-triggers + ul").inner_text()
    assert ("A serious incident" if en else "En alvorlig hendelse") in reasons
    assert "slo meg" not in leader.content()
    assert_accessible(leader, f"assessment with a trigger ({locale})")
    # The matrix cells are reachable from the keyboard: the item's link in its cell.
    leader.locator("table.ra-matrix a[href='#item-1']").focus()
    leader.keyboard.press("Enter")
    # Following an in-page link is a navigation of its own: wait for it to land.
    leader.wait_for_url(re.compile(r"#item-1$"))

    click_and_wait(leader, "form[action$='/new-version'] button")
    click_and_wait(leader, f"a[href='/risk/assessments/{aid}/items/1']")
    assert_accessible(leader, f"item form ({locale})")
    leader.locator("#f-likelihood").select_option("5")
    click_and_wait(leader, "main form button[type=submit]")
    text = leader.locator("#item-1").inner_text()
    assert ("likelihood 5" if en else "sannsynlighet 5") in text

    leader.goto(f"/risk/assessments/{aid}/plan")
    deadline = (datetime.now(OSLO).date() + timedelta(days=30)).isoformat()
    leader.locator("#f-n-item_ref").select_option("1")
    leader.locator("#f-n-goal").fill("Alarmknapper i skranken")
    leader.locator("#f-n-what").fill("Montere alarmknapper koblet til vekter.")
    leader.locator("#f-n-responsible_id").select_option(label=demo_logins[Role.MANAGER].name)
    leader.locator("#f-n-deadline").fill(deadline)
    click_and_wait(leader, "form[action$='/measures'] button[type=submit]")
    assert "Alarmknapper i skranken" in leader.locator("table:has(#cap-plan)").inner_text()
    assert_accessible(leader, f"action plan ({locale})")

    rep = logged_in(Role.SAFETY_REP, locale=locale)
    rep.goto(f"/risk/assessments/{aid}")
    rep.locator("#f-c-body").fill("Verneombudet støtter alarmknappene.")
    click_and_wait(rep, "form[action*='/comments'] button[type=submit]")
    assert (
        "Verneombudet støtter alarmknappene."
        in rep.locator("#h-comments ~ .ds-card").last.inner_text()
    )
    assert_accessible(rep, f"assessment read by the safety representative ({locale})")

    leader.goto(f"/risk/assessments/{aid}")
    click_and_wait(leader, "button[name=status][value=approved]")
    assert leader.locator("#h-triggers").count() == 0
    leader.locator("#f-s-summary_risks").fill("Utagering på venterommet om kvelden.")
    leader.locator("#f-s-summary_routines").fill("Trykk på alarmknappen, ring 112 ved fare.")
    leader.locator("#f-s-summary_contact").fill("Lars Leder og verneombudet.")
    click_and_wait(leader, "form[action$='/publish'] button[type=submit]")
    assert_accessible(leader, f"approved assessment ({locale})")
    leader.goto(f"/risk/assessments/{aid}/print")
    assert_accessible(leader, f"print view ({locale})")
    # On paper (and in "Save as PDF"): no menus, the matrix and the plan in full colour.
    leader.emulate_media(media="print")
    assert leader.locator("header.app-header").is_hidden()
    assert leader.locator("table.ra-matrix").is_visible()
    assert "Alarmknapper i skranken" in leader.locator("main").inner_text()
    adjust = leader.locator("table.ra-matrix td").first.evaluate(
        "td => getComputedStyle(td).printColorAdjust"
    )
    assert adjust == "exact"
    leader.emulate_media(media="screen")

    employee = logged_in(Role.EMPLOYEE, locale=locale)
    employee.goto("/")
    panel = employee.locator("#h-risk-summaries")
    assert (
        "Risks at your workplace" if en else "Risiko på arbeidsplassen din"
    ) in panel.inner_text()
    click_and_wait(employee, f"a[href='/risk/summaries/{aid}']")
    body = employee.locator("main").inner_text()
    assert "Trykk på alarmknappen, ring 112 ved fare." in body
    assert ("Likelihood" if en else "Sannsynlighet") not in body
    assert_accessible(employee, f"published summary ({locale})")
