"""Separation of duties in a real browser: an admin creates a handler, whose set-password
code goes by e-mail to the handler (a real SMTP server) and is never shown to the admin;
the handler chooses their password with it, and handlers and the safety representative
see the change on the access-changes page. Every page axe-clean, in nb and en."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import (
    Login,
    assert_accessible,
    assert_path,
    click_and_wait,
    log_in,
    navigation,
    open_menu_link,
)
from tests.kernel.conftest import Inbox
from tests.notifications.conftest import mailbox, use_smtp  # noqa: F401 - a fixture
from trygg.roles import Role

pytestmark = pytest.mark.browser

CHOSEN = "a passphrase of my own choosing"


def create_user(page, email: str, name: str, role: str) -> None:
    """Fill the admin's new-user form and send it."""
    page.goto("/admin/users/new")
    page.locator("#f-email").fill(email)
    page.locator("#f-name").fill(name)
    page.locator(f"input[name=roles][value={role}]").check()
    click_and_wait(page, "main form button[type=submit]")


@pytest.fixture
def inbox(live_app, mailbox, monkeypatch) -> Inbox:  # noqa: F811 - the fixture imported above
    """What the live server e-mails, through a real SMTP server."""
    use_smtp(live_app, monkeypatch, mailbox.port)
    return Inbox(live_app, mailbox)


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_a_new_handler_chooses_their_own_password_with_the_mailed_code(
    logged_in, new_page, inbox, locale
):
    lang = locale.split("-")[0]
    admin = logged_in(Role.ADMIN, locale=locale)
    email = f"ny-{lang}@example.org"
    create_user(admin, email, f"Nina Ny {lang}", Role.HANDLER)
    assert admin.locator("html").get_attribute("lang") == lang
    # The admin learns where the code went, never the code.
    assert email in admin.locator("#code-mailed").inner_text()
    assert admin.locator("#password-code").count() == 0
    assert_accessible(admin, "where the set-password code went, shown to the admin")
    code = inbox.code(email)
    assert code not in admin.content()

    page = new_page(locale=locale)
    page.goto("/login")
    click_and_wait(page, "main a[href='/account/set-password']")
    assert_path(page, "/account/set-password")
    assert_accessible(page, "set-password page")

    page.locator("#f-email").fill(email)
    page.locator("#f-code").fill("AAAA-BBBB-CCCC-DDDD")
    page.locator("#f-new_password").fill(CHOSEN)
    click_and_wait(page, "main form button[type=submit]")
    assert page.locator("#error-summary").is_visible()
    assert_accessible(page, "set-password page with an error")

    page.locator("#f-code").fill(code.lower().replace("-", " "))  # as typed from paper
    page.locator("#f-new_password").fill(CHOSEN)
    click_and_wait(page, "main form button[type=submit]")
    assert_path(page, "/login")
    assert page.locator("main [role=status]").is_visible()

    handler = Login(Role.HANDLER, email, CHOSEN, f"Nina Ny {lang}", (Role.HANDLER,))
    assert log_in(page, handler) == "enrolled"  # a new handler sets up two-factor first


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
@pytest.mark.parametrize("role", [Role.HANDLER, Role.SAFETY_REP])
def test_the_access_changes_page(logged_in, role, locale):
    admin = logged_in(Role.ADMIN)
    create_user(admin, f"access-{role}-{locale}@example.org", "Ola Oppfølger", Role.SAFETY_REP)
    page = logged_in(role, locale=locale)
    page.goto("/")
    open_menu_link(page, "/access-changes")  # a safety representative's menu is folded
    assert_path(page, "/access-changes")
    # Newest first: the new safety representative, given by the admin.
    newest = page.locator("main tbody tr").first.inner_text()
    assert "Ola Oppfølger" in newest
    assert "Ada Administrator" in newest
    assert_accessible(page, "access-changes page")


def test_the_admin_resets_a_password_from_the_user_form(logged_in):
    page = logged_in(Role.ADMIN)
    page.goto("/admin/users")
    with navigation(page):
        page.get_by_role("row", name=re.compile("Lars Leder")).get_by_role("link").click()
    click_and_wait(page, "main form[action$='/password-code'] button")
    assert page.locator("#password-code").is_visible()
    assert_accessible(page, "the set-password code after a reset")
