"""The admin's user and unit lists in a real browser: search without JavaScript, page
links, and axe-core in both languages."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import assert_accessible, assert_path, navigation
from trygg.roles import Role

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_the_admin_searches_and_pages_the_lists(logged_in, locale):
    page = logged_in(Role.ADMIN, locale=locale)
    page.goto("/admin/units")
    assert page.locator("html").get_attribute("lang") == locale.split("-")[0]
    assert_accessible(page, "units")
    page.locator("#f-q").fill("akutt")
    with navigation(page):
        page.locator("main form[role=search] button[type=submit]").click()
    assert_path(page, "/admin/units")
    assert page.get_by_role("row", name=re.compile("Akuttmottaket")).is_visible()
    assert page.get_by_role("row", name=re.compile("Psykiatrisk avdeling")).count() == 0
    assert_accessible(page, "units, searched")
    page.goto("/admin/units?limit=1")
    with navigation(page):
        page.locator("main nav.app-pager a[rel=next]").click()
    assert_accessible(page, "units, second page")
    page.goto("/admin/units?q=nowhere")
    assert page.get_by_role("status").is_visible()
    assert_accessible(page, "units, nothing found")

    page.goto("/admin/users")
    assert_accessible(page, "users")
    page.locator("#f-q").fill("kari")
    with navigation(page):
        page.locator("main form[role=search] button[type=submit]").click()
    assert page.get_by_role("row", name=re.compile("Kari Nordmann")).is_visible()
    assert page.locator("main tbody tr").count() == 1
    assert_accessible(page, "users, searched")
    page.goto("/admin/users?q=" + "x" * 101)
    assert_accessible(page, "users, search too long")
