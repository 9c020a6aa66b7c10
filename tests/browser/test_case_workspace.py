"""The case page as a workspace, on a phone (390 px) and on paper.

A handler works a case on a 390 px screen: the page stacks (no sideways scrolling),
axe-core finds nothing serious, in Norwegian and in English; they search for the leader
in the task form (a plain GET form: the page comes back with the match chosen), add the
task, and write to the reporter from a form opened on demand. Printed (media emulated),
the page has no form and no navigation, but keeps its headings and the timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import PHONE
from tests.browser.helpers import (
    Login,
    assert_accessible,
    click_and_wait,
    demo_report,
    navigation,
    open_details,
    show_section,
)
from trygg.roles import Role

pytestmark = pytest.mark.browser

# The innermost elements reaching past the screen's right edge (to say what to fix).
WIDEST = """() => {
  const right = e => e.getBoundingClientRect().right;
  const past = e => right(e) > window.innerWidth + 0.5;
  return [...document.querySelectorAll('body *')]
    .filter(e => past(e) && ![...e.children].some(past))
    .slice(0, 5).map(e => `${e.tagName}.${e.className} ${Math.round(right(e))}`).join(', ');
}"""
VISIBLE = "els => els.filter(e => e.getClientRects().length > 0).length"
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def case_id(live_app: Flask, demo_logins: dict[str, Login]) -> int:
    """The demo employee's report of a threat from a patient, as a case in HMS."""
    return int(
        demo_report(
            live_app,
            demo_logins[Role.EMPLOYEE].email,
            occurred_at=(datetime.now(UTC) - timedelta(hours=3)).isoformat(),
            narrative="Pasienten truet meg med en stol på vaktrommet i natt.",
        ).id
    )


def assert_fits(page: Any, what: str) -> None:
    """No sideways scrolling of the whole page, and nothing serious for axe-core."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (
        f"{what} is {width} px wide at {PHONE['width']} px: " + page.evaluate(WIDEST)
    )
    assert_accessible(page, f"{what}, {PHONE['width']} px")


def visible(page: Any, selector: str) -> int:
    return int(page.locator(selector).evaluate_all(VISIBLE))


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("nb-NO", {"search": "Søk", "added": "Oppfølgingsoppgaven er lagt til."}),
        ("en-GB", {"search": "Search", "added": "The follow-up task is added."}),
    ],
)
def test_a_handler_works_a_case_on_a_phone_and_prints_it(logged_in, case_id, locale, words):
    page = logged_in(Role.HANDLER, viewport=PHONE, locale=locale)
    path = f"/cases/{case_id}"
    page.goto(path)
    assert page.locator("html").get_attribute("lang") == locale[:2]
    assert page.locator("#h-summary").is_visible()
    # The forms wait closed, except the next step's.
    assert not page.locator("#f-message-body").is_visible()
    assert_fits(page, "the case page")

    # One section at a time, like tabs: the first, until another is chosen.
    assert page.locator("#h-actions").is_visible()
    assert not page.locator("#h-timeline").is_visible()
    show_section(page, "h-timeline")
    assert not page.locator("#h-actions").is_visible()
    assert_fits(page, "the case page's timeline")
    show_section(page, "h-access")
    assert_fits(page, "the case page's access history")

    # The picker: a search, without JavaScript's help, for the unit's leader.
    show_section(page, "h-tasks")
    tasks = "details:has(form[action$='/tasks'])"
    if not page.locator(f"{tasks}[open]").count():
        open_details(page, f"{tasks} > summary")
    page.locator("#f-find-task-new-person").fill("Lars")
    click_and_wait(page, f"{tasks} form.case-picker button[type=submit]")
    picked = page.locator("#f-task-new-responsible_user_id option:checked")
    assert picked.inner_text().startswith("Lars Leder")
    assert page.locator("#f-task-new-responsible_user_id option").nth(1).inner_text() == (
        picked.inner_text()
    )
    assert_fits(page, "the case page with a search in the task form")
    page.locator("#f-task-new-template").select_option("bht_offer")
    click_and_wait(page, "form[action$='/tasks'] button[type=submit]")
    assert page.locator(".case-flash").first.inner_text() == words["added"]
    assert "Lars Leder" in page.locator("#h-tasks ~ article").first.inner_text()

    # A message, from a form opened from the keyboard.
    show_section(page, "h-messages")
    open_details(page, "details:has(form[action$='/messages']) > summary", keyboard=True)
    page.locator("#f-message-body").wait_for(state="visible")
    assert_fits(page, "the case page with the message form open")

    # On paper: headings and the timeline, no forms, no navigation.
    page.emulate_media(media="print")
    assert visible(page, "main form") == 0
    assert visible(page, "main details") == 0
    assert visible(page, "header, footer, nav") == 0
    assert visible(page, "main h2") >= 6
    assert page.locator("#h-timeline").is_visible()
    assert visible(page, ".case-timeline li") >= 2
    assert page.locator(".case-facts").is_visible()
    page.emulate_media(media="screen")
    assert visible(page, "main form") > 0


# The case reference in the page's heading, wherever its markup puts it: how many lines
# it takes (its line boxes, by their top) and where it ends on the right.
REFERENCE_LINES = """() => {
  const heading = document.querySelector('main h1');
  const walker = document.createTreeWalker(heading, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.search(/[A-Z]+-\\d{4}-\\d+/);
    if (at < 0) continue;
    range.setStart(node, at);
    range.setEnd(node, at + node.data.slice(at).match(/[A-Z]+-\\d{4}-\\d+/)[0].length);
    const rects = [...range.getClientRects()];
    return {
      lines: new Set(rects.map(r => Math.round(r.top))).size,
      right: Math.max(...rects.map(r => r.right)),
    };
  }
  return null;
}"""


@pytest.mark.parametrize(("locale", "case"), [("nb-NO", "Sak"), ("en-GB", "Case")])
def test_the_case_heading_keeps_its_reference_whole_on_a_phone(logged_in, case_id, locale, case):
    """At 390 px "Sak AVV-2026-00175" broke at the reference's dash ("AVV-2026-" over
    "00175"): the reference goes whole onto a line of its own. At 320 px it is wider than
    the screen, and breaks at its dashes rather than push the page sideways."""
    page = logged_in(Role.HANDLER, viewport=PHONE, locale=locale)
    page.goto(f"/cases/{case_id}")
    assert page.locator("main h1").inner_text().split()[0] == case
    reference = page.evaluate(REFERENCE_LINES)
    assert reference is not None, page.locator("main h1").inner_text()
    assert reference["lines"] == 1, f"the reference takes {reference['lines']} lines at 390 px"
    page.set_viewport_size({"width": 320, "height": 700})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the case page is {width} px wide at 320 px: " + page.evaluate(WIDEST)
    reference = page.evaluate(REFERENCE_LINES)
    assert reference["right"] <= 320 - 16, f"the reference ends at {reference['right']} px"


@pytest.mark.parametrize(
    ("locale", "switch", "heading"),
    [
        ("nb-NO", "English", "Messages with the reporter, and internal notes"),
        ("en-GB", "Norsk bokmål", "Dialog med melderen, og interne notater"),
    ],
)
def test_the_language_switch_returns_to_the_section_being_read(
    logged_in, case_id, locale, switch, heading
):
    """A handler reading the messages of a long case page switches language, and is back
    at the messages, in the other language; not at the top of the page."""
    from playwright.sync_api import expect

    page = logged_in(Role.HANDLER, viewport=LAPTOP, locale=locale)
    page.goto(f"/cases/{case_id}")
    show_section(page, "h-messages")
    assert page.url.endswith(f"/cases/{case_id}#h-messages")
    with navigation(page):
        page.get_by_role("button", name=switch).click()
    expect(page.locator("html")).not_to_have_attribute("lang", locale[:2])
    assert page.url.endswith(f"/cases/{case_id}#h-messages"), page.url
    messages = page.locator("#h-messages")
    expect(messages).to_have_text(heading)
    expect(messages).to_be_in_viewport()
    expect(page.locator("#h-actions")).to_be_hidden()  # the first section, shown by default


def test_the_language_switch_takes_no_text_from_the_address(logged_in, case_id):
    """What follows "#" in the address is only ever an element id on the way back: other
    text is left out (and runs nothing), and the page is the case page at its top."""
    from playwright.sync_api import expect

    page = logged_in(Role.HANDLER, viewport=LAPTOP)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"
    page.goto(f"/cases/{case_id}#{hostile}")
    with navigation(page):
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith(f"/cases/{case_id}"), page.url
    expect(page.locator("#h-actions")).to_be_visible()
    assert dialogs == []


def test_the_language_switch_works_without_javascript(logged_in, case_id):
    """Without JavaScript the switch still returns to the case page, in the other
    language (at its top: the section read is not known to the server)."""
    from playwright.sync_api import expect

    page = logged_in(Role.HANDLER, viewport=LAPTOP, java_script_enabled=False)
    page.goto(f"/cases/{case_id}#h-messages")
    with navigation(page):
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith(f"/cases/{case_id}"), page.url
