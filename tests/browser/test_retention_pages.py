"""Retention's pages in a real browser, nb and en, with axe-core: the admin's policies,
legal holds and access requests, and a handler's retention page for a case (deletion
date, legal hold, export form), each also with a refused form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from handling import service
from reporting.schemas import ReportSchema
from reporting.service import submit_report
from tests.browser.helpers import Login, assert_accessible, assert_path, click_and_wait
from trygg import org
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.roles import Role

pytestmark = pytest.mark.browser
LOCALES = ["nb-NO", "en-GB"]


def _employee_reports(live_app: Flask, demo_logins: dict[str, Login], **fields: str) -> Any:
    """The demo employee's report at Akuttmottaket (a moderate one, sent now): the case
    it opened (committed)."""
    with live_app.app_context():
        employee = accounts.find_user(demo_logins[Role.EMPLOYEE].email)
        unit = org.find_unit("Akuttmottaket")
        assert employee is not None
        assert unit is not None
        data = ReportSchema().load(
            {
                "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                "unit_id": unit.id,
                "severity": 2,
                **fields,
            }
        )
        report = submit_report(data, reporter=employee)
        db.session.commit()
        case = service.case_for_report(report)
        assert case is not None
        return case


@pytest.fixture(scope="module")
def story(live_app: Flask, demo_logins: dict[str, Login]) -> tuple[int, str]:
    """The demo employee's report of a threat, routed to the demo handler's group."""
    case = _employee_reports(
        live_app,
        demo_logins,
        incident_types=["threat"],
        place_type="patient_room",
        counterpart_category="patient",
        narrative="Pasienten truet meg.",
    )
    return case.id, case.report.reference


def lang_of(locale: str) -> str:
    return locale.split("-")[0]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_admin_retention_pages_are_accessible(logged_in, story, locale):
    _, reference = story
    page = logged_in(Role.ADMIN)
    page.goto("/admin/retention")
    assert page.locator("html").get_attribute("lang") == lang_of(locale)
    assert_accessible(page, "retention policies")
    first = page.locator("main input[type=number]").first
    first.fill("0")
    click_and_wait(page, "main form button[type=submit]")
    assert page.locator("#error-summary").is_visible()
    assert first.get_attribute("aria-invalid") == "true"
    assert_accessible(page, "retention policies with an error")

    page.goto("/admin/retention/holds")
    assert_accessible(page, "legal holds")
    page.locator("#f-reference").fill(reference)
    click_and_wait(page, "main form.app-form button[type=submit]")
    assert page.locator("#error-summary").is_visible()  # no reason chosen
    assert_accessible(page, "legal holds with an error")
    page.locator("#f-reason-1").check()
    click_and_wait(page, "main form.app-form button[type=submit]")
    assert_path(page, "/admin/retention/holds")
    assert reference in page.locator("main table").inner_text()
    assert_accessible(page, "legal holds with a hold")
    click_and_wait(page, "main table button[type=submit]")
    assert page.locator("main table").count() == 0

    page.goto("/admin/retention/access-requests")
    assert_accessible(page, "access requests")
    page.locator("#f-email").fill("nobody@example.org")
    click_and_wait(page, "main form.app-form button[type=submit]")
    assert page.locator("#e-email").is_visible()
    assert_accessible(page, "access requests with an error")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_handlers_retention_page_is_accessible(logged_in, story, locale):
    case_id, _ = story
    page = logged_in(Role.HANDLER)
    page.goto(f"/cases/{case_id}")
    click_and_wait(page, f"main a[href='/cases/{case_id}/retention']")
    assert_path(page, f"/cases/{case_id}/retention")
    assert page.locator("html").get_attribute("lang") == lang_of(locale)
    assert_accessible(page, "the case's retention page")
    page.locator("#f-sections-1").uncheck()
    click_and_wait(page, "form[action$='/export'] button[type=submit]")
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#e-recipient").is_visible()
    assert_accessible(page, "the case's retention page with a refused export")


@pytest.fixture(scope="module")
def varsel(live_app: Flask, demo_logins: dict[str, Login]) -> tuple[int, int]:
    """The demo employee's varsel about a colleague's bullying: (case id, report id)."""
    case = _employee_reports(
        live_app,
        demo_logins,
        incident_types=["bullying"],
        place_type="other",
        counterpart_category="colleague",
        narrative="En kollega har frosset meg ut i månedsvis.",
    )
    return case.id, case.report_id


@pytest.mark.parametrize("locale", LOCALES)
def test_the_reporter_agrees_to_be_named_and_the_handler_sees_it(logged_in, varsel, locale):
    """Only the reporter of a varsel can agree to be named in an export; the handler's
    export form says to whom."""
    case_id, report_id = varsel
    page = logged_in(Role.EMPLOYEE)
    mine = f"/my-reports/{report_id}/case"
    page.goto(mine)
    assert page.locator("html").get_attribute("lang") == lang_of(locale)
    assert_accessible(page, "the reporter's case page with the consent form")
    boxes = page.locator("#f-consent-recipients input[type=checkbox]")
    assert boxes.count() == 4
    for index in range(boxes.count()):
        boxes.nth(index).set_checked(index == 0)  # the police only
    click_and_wait(page, "form[action$='/identity-consent'] button[type=submit]")
    assert_path(page, mine)
    saved = page.locator("section[aria-labelledby=h-consent] .ds-alert")
    assert saved.count() == 1  # "saved", or "nothing changed" in the second language
    assert page.locator("#f-consent-recipients-1").is_checked()
    assert_accessible(page, "the reporter's case page after saving the consent")

    handler = logged_in(Role.HANDLER)
    handler.goto(f"/cases/{case_id}/retention")
    police = {"nb": "Politiet", "en": "The police"}[lang_of(locale)]
    told = handler.locator("#h-reporter-consent").inner_text()
    assert police in told
    assert_accessible(handler, "the export form of a varsel with the reporter's consent")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_handler_asks_and_the_reporter_answers(live_app, demo_logins, logged_in, locale):
    """The handler asks from the export form; the reporter sees the question above their
    consent form and says no by saving without ticking it."""
    case = _employee_reports(
        live_app,
        demo_logins,
        incident_types=["bullying"],
        place_type="other",
        counterpart_category="colleague",
        narrative="En kollega har frosset meg ut.",
    )
    handler = logged_in(Role.HANDLER)
    retention = f"/cases/{case.id}/retention"
    handler.goto(retention)
    click_and_wait(handler, "form[action$='/consent-request'] button[type=submit]")
    assert handler.locator("#error-summary").is_visible()
    assert handler.locator("#e-ask-recipients").is_visible()
    assert_accessible(handler, "the export form with a question asked of no one")
    handler.locator("#f-ask-recipients-1").check()
    click_and_wait(handler, "form[action$='/consent-request'] button[type=submit]")
    assert_path(handler, retention)
    assert handler.locator("main .ds-alert").count() == 1
    assert handler.locator("#f-ask-recipients-1").count() == 1  # the next recipient now
    assert_accessible(handler, "the export form after asking the reporter")

    page = logged_in(Role.EMPLOYEE)
    mine = f"/my-reports/{case.report_id}/case"
    page.goto(mine)
    assert page.locator("#consent-asked").is_visible()
    assert_accessible(page, "the reporter's case page with the handler's question")
    click_and_wait(page, "form[action$='/identity-consent'] button[type=submit]")
    assert_path(page, mine)
    assert page.locator("#consent-asked").count() == 0
    assert_accessible(page, "the reporter's case page after saying no")
