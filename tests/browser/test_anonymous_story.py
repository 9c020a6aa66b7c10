"""The anonymous whistleblower link's whole story in a real browser, in Norwegian.

An admin switches the link on. Someone without an account reports harassment by their
leader at /varsle, is warned that their small unit may point to them and names the
department instead, and writes down the receipt code from the page. The demo handler
finds the case flagged as anonymous and asks a question on the case page. The reporter
comes back in a fresh browser at /varsle/folg-opp with the code, reads the question and
answers; the handler sees the answer. axe-core checks every anonymous page on the way:
the form, the form with errors, the small-unit warning, the receipt, the follow-up entry
(also with a wrong code) and the follow-up with messages.

The nb catalogue does not cover these pages yet, so the test finds things by their
ids, names and the words people typed, not by the pages' texts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from tests.browser.helpers import (
    Login,
    assert_accessible,
    assert_path,
    click_and_wait,
    log_in,
    navigation,
    open_details,
    show_section,
)
from trygg import org
from trygg.roles import Role

pytestmark = pytest.mark.browser

OSLO = ZoneInfo("Europe/Oslo")
SMALL_UNIT = "Hjemmetjenesten sone nord"  # 4 people in the demo organisation
NARRATIVE = "Lederen min kjefter på meg foran de andre på hvert personalmøte."
QUESTION = "Takk for at du sier fra. Når begynte dette, og har noen andre sett det?"
ANSWER = "Det begynte i mars. To kolleger har sett det."


def fill_report(page: Any, small_unit_id: int) -> None:
    """The anonymous form, filled in by a person (only the required answers and a unit)."""
    page.locator("input[name=incident_types][value=bullying]").check()
    yesterday = (datetime.now(OSLO) - timedelta(days=1)).date().isoformat()
    page.locator("#f-occurred_on").fill(yesterday)
    page.locator("#f-unit_id").select_option(str(small_unit_id))
    page.locator("#f-place_type").select_option("other")
    page.locator("#f-counterpart_category").select_option("leader")
    page.locator("input[name=severity][value='2']").check()
    page.locator("#f-narrative").fill(NARRATIVE)


@pytest.fixture(scope="module")
def small_unit_id(live_app: Flask, demo_logins: dict[str, Login]) -> int:
    with live_app.app_context():
        unit = org.find_unit(SMALL_UNIT)
        assert unit is not None
        assert unit.parent is not None
        return unit.id


def test_an_anonymous_report_and_its_conversation_in_the_browser(
    new_page, demo_logins, small_unit_id
):
    # The admin switches the link on.
    admin = new_page()
    log_in(admin, demo_logins[Role.ADMIN])
    missing = admin.goto("/varsle")
    assert missing is not None
    assert missing.status == 404
    admin.goto("/admin/anonymous")
    admin.locator("#f-enabled-on").check()
    click_and_wait(admin, "main form button[type=submit]")
    assert "saved=1" in admin.url

    # Someone reports without an account, in a browser of their own.
    visitor = new_page()
    visitor.goto("/varsle")
    assert visitor.locator("html").get_attribute("lang") == "nb"
    assert visitor.locator(".app-anon-about").is_visible()
    assert_accessible(visitor, "the anonymous form")

    click_and_wait(visitor, "main form > button[type=submit]")
    summary = visitor.locator("#error-summary")
    assert summary.is_visible()
    assert visitor.evaluate("document.activeElement && document.activeElement.id") == (
        "error-summary"
    )
    assert_accessible(visitor, "the anonymous form with errors")

    fill_report(visitor, small_unit_id)
    click_and_wait(visitor, "main form > button[type=submit]")
    warning = visitor.locator("#small-unit-warning")
    assert warning.is_visible()
    assert SMALL_UNIT in warning.inner_text()
    assert visitor.locator("#f-narrative").input_value() == NARRATIVE  # kept
    assert_accessible(visitor, "the small-unit warning")
    click_and_wait(visitor, "#small-unit-warning button[name=small_unit][value=parent]")

    # The receipt, written down from the page (in groups of four), and the case number.
    groups = visitor.locator(".app-receipt__group").all_inner_texts()
    assert len(groups) == 5
    assert all(re.fullmatch(r"[0-9A-Z]{4}", g) for g in groups)
    written_down = " ".join(groups).lower()  # as someone may type it back
    reference = visitor.locator(".app-receipt-page strong").first.inner_text().strip()
    assert reference.startswith("VAR-")
    assert "".join(groups) not in visitor.title()
    assert "".join(groups) not in visitor.url
    assert_accessible(visitor, "the receipt page")
    visitor.context.close()  # the reporter closes the browser

    # The handler finds the case, flagged as anonymous, and asks a question.
    handler = new_page()
    log_in(handler, demo_logins[Role.HANDLER])
    handler.goto("/cases")
    row = handler.get_by_role("row", name=reference)
    assert row.locator(".ds-tag").count() >= 1  # the anonymous flag
    with navigation(handler):
        row.get_by_role("link", name=reference).click()
    case_path = re.sub(r"^https?://[^/]+", "", handler.url)
    assert re.fullmatch(r"/cases/\d+", case_path)
    assert handler.locator("#anonymous-note").is_visible()
    show_section(handler, "h-report")
    assert NARRATIVE in handler.locator("main").inner_text()
    show_section(handler, "h-messages")
    open_details(handler, "details:has(form[action$='/messages']) > summary")
    handler.locator("#f-message-body").fill(QUESTION)
    click_and_wait(handler, "form[action$='/messages'] button[type=submit]")
    assert QUESTION in handler.locator(".case-messages").inner_text()

    # The reporter comes back in a fresh browser with the receipt code.
    reporter = new_page()
    reporter.goto("/varsle/folg-opp")
    assert reporter.locator("html").get_attribute("lang") == "nb"
    assert_accessible(reporter, "the follow-up entry")
    reporter.locator("#f-receipt").fill("0000 0000 0000 0000 0000")
    click_and_wait(reporter, "main form button[type=submit]")
    assert reporter.locator("#receipt-error").is_visible()
    assert_accessible(reporter, "the follow-up entry with a wrong code")
    reporter.locator("#f-receipt").fill(written_down)
    click_and_wait(reporter, "main form button[type=submit]")
    assert_path(reporter, "/varsle/folg-opp")
    assert reference in reporter.locator(".app-facts").inner_text()
    messages = reporter.locator(".case-messages")
    assert QUESTION in messages.inner_text()
    day = reporter.locator("#h-messages ~ h3 time").first.get_attribute("datetime")
    assert day == datetime.now(OSLO).date().isoformat()
    assert_accessible(reporter, "the follow-up with messages")

    reporter.locator("#f-answer-body").fill(ANSWER)
    click_and_wait(reporter, "form:has(input[name=action][value=answer]) button[type=submit]")
    assert_path(reporter, "/varsle/folg-opp")
    assert reporter.locator(".case-flash").is_visible()
    conversation = reporter.locator(".case-messages").inner_text()
    assert conversation.index(QUESTION) < conversation.index(ANSWER)
    assert_accessible(reporter, "the follow-up after answering")

    # A refused form on the follow-up page is accessible too (identity without the tick).
    open_details(reporter, "details:has(input[name=action][value=identity]) > summary")
    reporter.locator("#f-identity-body").fill("Ikke ennå")
    click_and_wait(reporter, "form:has(input[name=action][value=identity]) button[type=submit]")
    assert reporter.locator("#error-summary").is_visible()
    assert reporter.locator("#f-identity-confirm").get_attribute("aria-invalid") == "true"
    assert_accessible(reporter, "the follow-up with a refused form")

    # The handler sees the answer on the case page.
    handler.goto(case_path)
    assert ANSWER in handler.locator(".case-messages").inner_text()
    assert "Ikke ennå" not in handler.locator("main").inner_text()

    # Leaving ends the session: the page asks for the code again.
    click_and_wait(reporter, "form:has(input[name=action][value=end]) button[type=submit]")
    assert reporter.locator("#f-receipt").is_visible()
    assert QUESTION not in reporter.locator("main").inner_text()
