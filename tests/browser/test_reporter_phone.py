"""The reporter on a phone, on a bad day: a mistyped receipt code, the receipt page read
in a hurry, and text made large in the phone's settings.

test_report_pages.py checks the employee's pages at 320 px; here what was found walking
the whole path at 390 px, the anonymous link included (switched on by configuration).
The nb catalogue may not have the newest texts: the tests find things by their ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from tests.browser.conftest import PHONE
from tests.browser.helpers import assert_accessible, click_and_wait, large_text
from trygg.app import create_app
from trygg.extensions import db
from trygg.roles import Role

pytestmark = pytest.mark.browser

FOLLOW_UP = "/varsle/folg-opp"


@pytest.fixture(scope="module")
def live_app(browser: Any, base_settings: dict[str, Any], live_database: str) -> Iterator[Flask]:
    """The app with the anonymous link on (the conftest's, plus the switch)."""
    app = create_app({**base_settings, "database_url": live_database, "anonymous_enabled": True})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def send_anonymous_report(page: Any) -> None:
    """The anonymous form with only its required answers, sent; the receipt is shown."""
    page.goto("/varsle")
    page.locator("input[name=incident_types][value=bullying]").check()
    yesterday = (datetime.now(ZoneInfo("Europe/Oslo")) - timedelta(days=1)).date()
    page.locator("#f-occurred_on").fill(yesterday.isoformat())
    page.locator("#f-place_type").select_option("other")
    page.locator("#f-counterpart_category").select_option("leader")
    page.locator("input[name=severity][value='2']").check()
    page.locator("#f-narrative").fill("Lederen min kjefter på meg foran de andre.")
    click_and_wait(page, "main form button[type=submit]")
    assert page.locator(".app-receipt").is_visible()


def test_a_wrong_receipt_code_takes_the_focus(new_page):
    """Sent back with a wrong code, a keyboard or screen reader user starts at the
    message (as at a form's error summary), and Tab leads to the code to correct."""
    page = new_page(viewport=PHONE)
    page.goto(FOLLOW_UP)
    page.locator("#f-receipt").fill("ABCD-EFGH-JKMN-PQRS-TVWX")
    click_and_wait(page, "main form button[type=submit]")
    assert page.locator("#receipt-error").is_visible()
    assert page.evaluate("document.activeElement.id") == "receipt-error"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-receipt"
    assert page.locator("#f-receipt").get_attribute("aria-describedby") == "receipt-error"
    assert_accessible(page, "the follow-up entry with a wrong code")


def gaps(page: Any, selector: str) -> list[tuple[str, float]]:
    """The vertical space between each child of `selector` and the next (px)."""
    return page.evaluate(
        """sel => {
            const kids = Array.from(document.querySelector(sel).children);
            return kids.slice(1).map((kid, i) => [
                kid.tagName + ' ' + (kid.textContent || '').trim().slice(0, 30),
                kid.getBoundingClientRect().top - kids[i].getBoundingClientRect().bottom,
            ]);
        }""",
        selector,
    )


def test_the_receipt_page_keeps_its_parts_apart(new_page):
    """The code, its explanation, the case number and "What happens now" ran together
    with no space between them: a heading read as part of the line above it."""
    page = new_page(viewport=PHONE)
    send_anonymous_report(page)
    tight = [(what, gap) for what, gap in gaps(page, ".app-receipt-page") if gap < 8]
    assert not tight, tight
    headings = page.locator(".app-receipt-page > h2")
    assert headings.count() == 2
    for between in gaps(page, ".app-receipt-page"):
        if between[0].startswith("H2"):
            assert between[1] >= 16, between
    assert_accessible(page, "the anonymous receipt")


def overflowing(page: Any, selector: str) -> list[Any]:
    """Elements inside `selector` that reach past its right edge (none may)."""
    return page.evaluate(
        """sel => {
            const box = document.querySelector(sel);
            const right = box.getBoundingClientRect().right;
            return Array.from(box.querySelectorAll('*'))
                .filter(e => e.getBoundingClientRect().right > right + 1)
                .map(e => [e.tagName, e.className, (e.textContent || '').trim().slice(0, 40)]);
        }""",
        selector,
    )


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_the_forms_fit_a_phone_with_text_at_200_percent(logged_in, new_page):
    """With large text the severity and named/confidential choices' explanations were
    cut off at the right, a long word in the anonymous form's choices
    ("diskrimineringsgrunnlag") and the start page's cards ran past the screen.
    (The page header is checked elsewhere; this checks the main content.)"""
    page = logged_in(Role.EMPLOYEE, viewport=PHONE, bypass_csp=True)
    for path, part in (("/report", "form.app-report"), ("/", "main")):
        page.goto(path)
        large_text(page)
        assert not overflowing(page, part), (path, overflowing(page, part))
    anonymous = new_page(viewport=PHONE, bypass_csp=True)
    anonymous.goto("/varsle")
    large_text(anonymous)
    assert not overflowing(anonymous, "main form"), overflowing(anonymous, "main form")
