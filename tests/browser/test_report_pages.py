"""The employee's report pages as someone on a phone, or without JavaScript, would use them.

test_report_story.py walks the pages once in Norwegian on a desktop screen; here the same
pages are checked at 320 CSS px (a phone, or 400 % zoom: WCAG 1.4.10) in both languages,
the form's title after a refused send, and the whole form with JavaScript switched off.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import PHONE
from tests.browser.helpers import assert_accessible, click_and_wait, yesterday
from trygg.roles import Role

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


def fill_required(page: Any, narrative: str) -> None:
    """Only the answers the form requires."""
    page.check("#f-incident_types-2")
    page.fill("#f-occurred_date", yesterday())
    page.fill("#f-occurred_time", "08:15")
    page.select_option("#f-place_type", "home_visit")
    page.select_option("#f-counterpart_category", "client")
    page.check("#f-severity-1")
    page.fill("#f-narrative", narrative)


def assert_fits(page: Any, what: str) -> None:
    """No sideways scrolling of the whole page, and nothing serious for axe-core."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{what} is {width} px wide at {NARROW['width']} px"
    assert_accessible(page, f"{what}, {NARROW['width']} px")


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_the_report_pages_fit_a_320_px_screen(logged_in, locale):
    page = logged_in(Role.EMPLOYEE, viewport=NARROW)
    page.goto("/report")
    assert page.locator("html").get_attribute("lang") == locale[:2]
    assert_fits(page, "the form")

    click_and_wait(page, "form.app-report button[type=submit]")
    assert page.locator("#error-summary").is_visible()
    assert_fits(page, "the form with errors")

    fill_required(page, "Brukeren kastet en kopp etter meg på hjemmebesøket.")
    click_and_wait(page, "form.app-report button[type=submit]")
    assert re.search(r"/report/\d+/receipt$", page.url)
    assert_fits(page, "the receipt")

    page.goto("/my-reports")
    assert page.locator("main table").is_visible()
    assert_fits(page, "my reports")
    # The reference on one line, not broken at its dashes into three; on a phone the
    # status beside it, without scrolling the table sideways.
    reference = page.locator("main tbody tr >> nth=0 >> th a").bounding_box()
    assert reference is not None
    assert reference["height"] < 40, reference
    page.set_viewport_size(PHONE)
    status = page.locator("main tbody tr >> nth=0 >> td >> nth=0").bounding_box()
    assert status is not None
    assert status["x"] + status["width"] <= PHONE["width"], status
    page.set_viewport_size(NARROW)

    click_and_wait(page, "main table a >> nth=0")  # newest first: the one just sent
    assert re.search(r"/my-reports/\d+$", page.url)
    assert_fits(page, "the report")


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_the_form_title_says_so_when_it_comes_back_with_errors(logged_in, locale):
    page = logged_in(Role.EMPLOYEE)
    page.goto("/report")
    title = page.title()
    click_and_wait(page, "form.app-report button[type=submit]")
    assert page.locator("#error-summary").is_visible()
    # The title is the first thing a screen reader reads on the new page.
    assert page.title() == ("Feil: " if locale == "nb-NO" else "Error: ") + title


def test_the_form_works_without_javascript_and_keeps_what_was_typed(logged_in):
    page = logged_in(Role.EMPLOYEE, java_script_enabled=False)
    page.goto("/report")
    page.check("#f-incident_types-1")
    page.check("#f-incident_types-6")
    page.select_option("#f-channel", "face_to_face")
    page.fill("#f-occurred_date", yesterday())
    page.fill("#f-occurred_time", "23:10")
    page.select_option("#f-place_type", "patient_room")
    page.select_option("#f-activity", "care")
    page.check("#f-lone_work-1")
    page.select_option("#f-counterpart_category", "patient")
    page.fill("#f-counterpart_identity", "Mann, rundt 40 <år>")
    page.select_option("#f-injury_level", "first_aid")
    page.fill("#f-injury_description", "Blåmerke på armen")
    page.check("#f-immediate_measures-3")
    page.fill(
        "#f-narrative", "Han tok tak i armen min.\n\nJeg fikk «hjelp» av en vekter & en kollega."
    )
    page.check("#f-causes-1")
    page.fill("#f-witnesses-2", "Per på nattevakt")
    page.check("#f-confidential-2")
    # The one required answer left out: how serious it was.
    fields = "form.app-report :is(input, select, textarea):not([type=hidden]):not([type=file])"
    read = f"""() => Array.from(document.querySelectorAll('{fields}')).map(
        e => [e.id, (e.type === 'checkbox' || e.type === 'radio') ? e.checked : e.value])"""
    typed = page.evaluate(read)

    click_and_wait(page, "form.app-report button[type=submit]")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    links = page.locator("#error-summary a")
    assert links.count() == 1
    assert links.get_attribute("href") == "#f-severity"
    assert page.evaluate(read) == typed
    # The link moves focus to the group (read with its legend and error); Tab goes on
    # to its first answer.
    links.first.click()
    assert page.evaluate("document.activeElement.id") == "f-severity"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-severity-1"

    page.check("#f-severity-2")
    click_and_wait(page, "form.app-report button[type=submit]")
    assert re.search(r"/report/\d+/receipt$", page.url)
    click_and_wait(page, "main a[href*='/my-reports/']")
    main = page.inner_text("main")
    assert "Jeg fikk «hjelp» av en vekter & en kollega." in main
    assert "Per på nattevakt" in main
