"""Trends in a real browser: a manager opens them, switches unit and dimension, and reads
the table under a chart; the page passes axe-core in Norwegian and English."""

from __future__ import annotations

import pytest

from tests.browser.helpers import assert_accessible, navigation
from trygg.roles import Role

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_a_manager_reads_trends_by_unit_and_dimension(logged_in, locale):
    english = locale.startswith("en")
    page = logged_in(Role.MANAGER, locale=locale)
    page.goto("/")
    glance = page.locator("section.risk-glance")
    assert ("Your units at a glance" if english else "Enhetene dine i korte trekk") in (
        glance.inner_text()
    )
    assert_accessible(page, f"start page with trends ({locale})")

    page.goto("/trends")
    assert "Akuttmottaket" in page.get_by_role("heading", level=1).inner_text()
    # The line chart is drawn from the page's JSON (Chart.js, no inline script).
    page.wait_for_function("() => window.Chart && Chart.getChart('risk-line')")
    assert_accessible(page, f"trends ({locale})")

    page.locator("#f-unit").select_option(label="Hjemmetjenesten")
    page.locator("#f-by").select_option("place")
    with navigation(page):
        page.locator("form.risk-filters button[type=submit]").click()
    assert "unit=" in page.url
    assert "by=place" in page.url
    assert "Hjemmetjenesten" in page.get_by_role("heading", level=1).inner_text()
    caption = page.locator("#cap-by").inner_text()
    assert ("Incidents by place" if english else "Hendelser etter sted") in caption
    table = page.locator("table:has(#cap-by)")
    headers = table.locator("thead th").all_inner_texts()
    assert ("Home visit" if english else "Hjemmebesøk") in headers
    rows = table.locator("tbody tr")
    assert rows.count() == 12
    cells = rows.first.locator("td").all_inner_texts()
    assert len(cells) == len(headers) - 1
    # Every cell is a number, a mark explained in the legend, or a dash.
    for text in cells:
        assert text.strip().replace("\u00a0", "").isdigit() or text.strip()[:1] in "<:·–"
    page.wait_for_function("() => window.Chart && Chart.getChart('risk-bars')")
    assert_accessible(page, f"trends by place ({locale})")


def test_the_filters_work_without_javascript(browser, live_server, demo_logins, logged_in):
    page = logged_in(Role.MANAGER, java_script_enabled=False)
    page.goto("/trends?period=quarter&by=type")
    table = page.locator("table:has(#cap-by)")
    assert table.locator("tbody tr").count() == 8  # the last two years by quarter
    page.locator("#f-by").select_option("time_band")
    with navigation(page):
        page.locator("form.risk-filters button[type=submit]").click()
    assert "by=time_band" in page.url
