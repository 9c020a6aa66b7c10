"""A handler's working day in the queue, in a real browser (issue 15): find a case by
part of its reference, take it, find it again under "Mine", sort by a column; and the
queue on a 390 px phone in both languages, axe-clean and without sideways scrolling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import Login, assert_accessible, assert_path, click_and_wait, navigation
from tests.factories import Factory
from trygg import org
from trygg.accounts import service as accounts
from trygg.roles import Role

pytestmark = pytest.mark.browser

EN = "en-GB"


@dataclass
class Cases:
    references: list[str]
    handler_name: str


@pytest.fixture(scope="module")
def cases(live_app: Flask, demo_logins: dict[str, Login]) -> Cases:
    """Three reports from the demo employee, routed to the demo handler's group."""
    with live_app.app_context():
        employee = accounts.find_user(demo_logins[Role.EMPLOYEE].email)
        handler = accounts.find_user(demo_logins[Role.HANDLER].email)
        unit = org.find_unit("Akuttmottaket")
        assert employee is not None
        assert handler is not None
        assert unit is not None
        employee_id, unit_id, handler_name = employee.id, unit.id, handler.name
    references = [
        Factory(live_app)
        .report(
            employee_id,
            unit_id=unit_id,
            occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            severity=severity,
            narrative="Pasienten truet meg i korridoren.",
        )
        .reference
        for severity in (1, 4, 2)
    ]
    return Cases(references, handler_name)


# What the story reads, in each language; each language takes its own case.
WORDS = {
    "nb-NO": {
        "search": "Søk",
        "unassigned": "Ikke tildelt",
        "take": "Ta saken",
        "taken": "Du er nå saksbehandler for {}.",
        "severity": "Hvor alvorlig",
        "case": 1,
    },
    "en-GB": {
        "search": "Search",
        "unassigned": "Unassigned",
        "take": "Take this case",
        "taken": "You are now the case handler of {}.",
        "severity": "How serious",
        "case": 2,
    },
}


@pytest.mark.parametrize("locale", list(WORDS))
def test_a_handler_finds_a_case_by_its_number_and_takes_it(logged_in, cases, locale):
    words = WORDS[locale]
    page = logged_in(Role.HANDLER, locale=locale)
    page.goto("/cases")
    assert page.locator("html").get_attribute("lang") == locale[:2]
    reference = cases.references[words["case"]]
    serial = reference.rsplit("-", 1)[-1]

    page.get_by_label(words["search"], exact=True).fill(serial)
    click_and_wait(page, "form.case-filters button[type=submit]")
    assert_path(page, "/cases")
    assert f"q={serial}" in page.url  # the search is in the address: it can be bookmarked
    row = page.get_by_role("row", name=reference)
    assert words["unassigned"] in row.inner_text()
    assert_accessible(page, f"the queue with a search, {locale}")

    with navigation(page):
        row.get_by_role("button", name=words["take"]).click()
    assert f"q={serial}" in page.url  # back to the same search
    assert words["taken"].format(reference) in page.locator(".case-flash").inner_text()
    row = page.get_by_role("row", name=reference)
    assert cases.handler_name in row.inner_text()
    assert words["take"] not in row.inner_text()

    click_and_wait(page, ".case-counts a[href='/cases?assigned=me']")
    assert page.get_by_role("row", name=reference).is_visible()
    assert page.get_by_role("row", name=cases.references[0]).count() == 0

    # Sort by how serious, then the other way; the filter stays.
    sort = f"thead a:has-text('{words['severity']}')"
    click_and_wait(page, sort)
    assert "assigned=me" in page.url
    assert "sort=severity" in page.url
    header = page.locator("thead th[aria-sort]")
    assert header.get_attribute("aria-sort") == "ascending"
    click_and_wait(page, sort)
    assert page.locator("thead th[aria-sort]").get_attribute("aria-sort") == "descending"
    assert_accessible(page, f"the sorted queue, {locale}")


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_the_queue_on_a_laptop_scrolls_the_table_not_the_page(logged_in, cases, locale):
    """Ten columns of Norwegian compounds ("Saksbehandler", "Hjemmetjenesten") are wider
    than a 1280 px screen's page: the table scrolls in its own region, which a keyboard
    can reach, and the header, counts and filters stay put."""
    page = logged_in(Role.HANDLER, viewport=DESKTOP, locale=locale)
    page.goto("/cases?state=all")
    assert page.get_by_role("row", name=cases.references[2]).is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"], f"the queue page is {width} px wide at {DESKTOP['width']} px"
    region = page.get_by_role("region", name=page.locator("table.case-queue caption").inner_text())
    assert region.get_attribute("tabindex") == "0"
    assert region.locator("table.case-queue").count() == 1
    assert_accessible(page, f"the queue at {DESKTOP['width']} px, {locale}")


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_the_queue_fits_a_390_px_phone(logged_in, cases, locale):
    page = logged_in(Role.HANDLER, viewport=PHONE, locale=locale)
    page.goto("/cases?state=all")
    assert page.locator("html").get_attribute("lang") == locale[:2]
    assert page.get_by_role("row", name=cases.references[2]).is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the queue is {width} px wide at {PHONE['width']} px"
    assert_accessible(page, f"the queue at {PHONE['width']} px, {locale}")
    # A bad sort is reported on the page, which still lists the cases.
    page.goto("/cases?sort=nonsense")
    assert page.locator("#error-summary").is_visible()
    assert page.get_by_role("row", name=cases.references[2]).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page, f"the queue with an error at {PHONE['width']} px, {locale}")


def test_the_queue_prints_without_forms_or_navigation(logged_in, cases):
    page = logged_in(Role.HANDLER, locale=EN)
    page.goto("/cases?assigned=none")
    assert page.locator("form.case-filters").is_visible()
    page.emulate_media(media="print")
    for hidden in ("header.app-header", "form.case-filters", ".case-take-row", "footer"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.get_by_role("row", name=cases.references[0]).is_visible()
    assert page.locator("table.case-queue thead").is_visible()
