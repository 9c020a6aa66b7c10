"""In a real browser: an employee reports in Norwegian, finds the report, opens it.

Pages are checked with axe-core on the way: the form, its error state, the receipt and
the list must have no serious or critical violations.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import assert_accessible, log_in, yesterday
from trygg.roles import Role

pytestmark = pytest.mark.browser


def test_an_employee_reports_in_norwegian_and_finds_the_report(demo_logins, new_page):
    page = new_page()
    log_in(page, demo_logins[Role.EMPLOYEE])
    assert page.locator("html").get_attribute("lang") == "nb"

    page.click("nav a[href='/report']")
    page.wait_for_url("**/report")
    assert_accessible(page, "the form")

    # Sent empty (the browser does not block: the server's messages are what count).
    page.click("form.app-report button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert_accessible(page, "the form with errors")
    page.click("#error-summary a[href='#f-narrative']")
    assert page.evaluate("location.hash") == "#f-narrative"
    assert page.locator("#f-narrative").get_attribute("aria-invalid") == "true"

    page.check("#f-incident_types-2")  # trussel
    page.check("#f-incident_types-3")
    # Yesterday: the form's date is today, and 09:45 today is in the future before 09:45.
    page.fill("#f-occurred_date", yesterday())
    page.fill("#f-occurred_time", "09:45")
    page.select_option("#f-place_type", "front_desk")
    page.select_option("#f-counterpart_category", "customer")
    page.check("#f-severity-2")
    page.fill(
        "#f-narrative",
        "En kunde ble sint i skranken, slo i disken og truet med å «ta meg» etter jobb.",
    )
    page.set_input_files(
        "#f-attachments",
        files=[{"name": "notat æøå.txt", "mimeType": "text/plain", "buffer": b"Notat fra vakt"}],
    )
    page.click("form.app-report button[type=submit]")
    page.wait_for_url(re.compile(r"/report/\d+/receipt$"))
    reference = page.inner_text("#reference")
    assert re.fullmatch(r"AVV-\d{4}-\d{5}", reference)
    assert_accessible(page, "the receipt")

    page.click("nav a[href='/my-reports']")
    page.wait_for_url("**/my-reports")
    assert_accessible(page, "my reports")
    page.click(f"text={reference}")
    page.wait_for_url(re.compile(r"/my-reports/\d+$"))
    report_url = page.url
    assert "slo i disken" in page.inner_text("main")
    assert page.locator("a", has_text="notat æøå.txt").count() == 1
    assert_accessible(page, "the report")

    other = new_page()
    log_in(other, demo_logins[Role.SAFETY_REP])
    response = other.goto(report_url)
    assert response.status == 404
    assert "slo i disken" not in other.inner_text("main")
