"""Notifications in a real browser: a handler sees the unread count rise when a report
arrives, opens the list and follows the link to the case; the new pages are axe-clean in
Norwegian and English.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.browser.helpers import (
    Login,
    assert_accessible,
    assert_path,
    click_and_wait,
    demo_report,
)
from trygg.roles import Role

pytestmark = pytest.mark.browser


def _report_arrives(app: Flask, employee: Login) -> int:
    return int(
        demo_report(
            app,
            employee.email,
            occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            place_type="front_desk",
            counterpart_category="customer",
            narrative="A customer threatened me at the front desk.",
        ).id
    )


def _badge(page: Any) -> int:
    badge = page.locator("header .app-badge")
    if badge.count() == 0:
        return 0
    return int(re.sub(r"\D", "", badge.locator("[aria-hidden=true]").inner_text()))


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_a_handler_sees_a_new_case_arrive_and_follows_the_link(
    live_app, demo_logins, logged_in, locale
):
    page = logged_in(Role.HANDLER, locale=locale)
    page.goto("/")
    before = _badge(page)
    case_id = _report_arrives(live_app, demo_logins[Role.EMPLOYEE])
    page.reload()
    assert _badge(page) == before + 1
    # Screen readers hear the count in words beside the link.
    words = page.locator("header .app-badge .ds-sr-only").inner_text()
    assert ("ulest" if locale.startswith("nb") else "unread") in words
    click_and_wait(page, "header nav a[href='/notifications']")
    assert_path(page, "/notifications")
    # "Mark all as read" stands apart from the sentence above it and the list below it.
    sentence = page.locator("main > p.ds-paragraph").first.bounding_box()
    button = page.locator("main form[action$='/notifications/read'] button").bounding_box()
    listed = page.locator("main ul.app-notifications").bounding_box()
    assert sentence is not None
    assert button is not None
    assert listed is not None
    assert button["y"] - (sentence["y"] + sentence["height"]) >= 8
    assert listed["y"] - (button["y"] + button["height"]) >= 8
    assert_accessible(page, "notifications list")
    click_and_wait(page, "main ul.app-notifications li:first-child button[type=submit]")
    assert_path(page, f"/cases/{case_id}")
    assert _badge(page) == before


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_a_reporters_message_leads_the_handler_to_the_messages(
    live_app, demo_logins, logged_in, locale
):
    """The notification of a reporter's message opens the case at its messages, not at
    its first section, where the message is nowhere to be seen."""
    from handling import service
    from trygg.extensions import db

    case_id = _report_arrives(live_app, demo_logins[Role.EMPLOYEE])
    text = f"Jeg har mer å fortelle ({locale})."
    with live_app.app_context():
        case = service.get_case(case_id)
        assert case
        service.post_reporter_message(case.report, text, actor="reporter")
        db.session.commit()
    page = logged_in(Role.HANDLER, locale=locale)
    page.goto("/notifications")
    click_and_wait(page, "main ul.app-notifications li:first-child button[type=submit]")
    assert_path(page, f"/cases/{case_id}")
    assert page.url.endswith("#h-messages")
    assert page.locator("#h-messages").is_visible()
    assert page.get_by_text(text).is_visible()
    assert not page.locator("#h-actions").is_visible()


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_the_settings_page_is_accessible_and_explains_a_refusal(logged_in, locale):
    page = logged_in(Role.HANDLER, locale=locale)
    page.goto("/notifications/settings")
    assert_accessible(page, "notification settings")
    page.locator("#f-digest_time").fill("25:99")
    click_and_wait(page, "main form button[type=submit]")
    assert page.locator("#error-summary").is_visible()
    assert_accessible(page, "notification settings with an error")


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_the_admin_pages_are_accessible(logged_in, locale):
    page = logged_in(Role.ADMIN, locale=locale)
    for path in ("/admin/outbox", "/admin/reminders"):
        page.goto(path)
        assert_path(page, path)
        assert_accessible(page, path)
