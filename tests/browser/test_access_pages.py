"""Separation of duties in a real browser: an admin creates a handler and gets a code,
the handler chooses their password with it, and handlers and the safety representative
see the change on the access-changes page. Every page axe-clean, in nb and en."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import Login, assert_accessible, assert_path, click_and_wait, log_in

pytestmark = pytest.mark.browser

CHOSEN = "a passphrase of my own choosing"


def create_user(page, email: str, name: str, role: str) -> str:
    """Fill the admin's new-user form; return the set-password code the page shows."""
    page.goto("/admin/users/new")
    page.locator("#f-email").fill(email)
    page.locator("#f-name").fill(name)
    page.locator(f"input[name=roles][value={role}]").check()
    click_and_wait(page, "main form button[type=submit]")
    code = page.locator("#password-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code), code
    return code


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_a_new_handler_chooses_their_own_password_with_the_admins_code(logged_in, new_page, locale):
    lang = locale.split("-")[0]
    admin = logged_in("admin", locale=locale)
    email = f"ny-{lang}@example.org"
    code = create_user(admin, email, f"Nina Ny {lang}", "handler")
    assert admin.locator("html").get_attribute("lang") == lang
    assert_accessible(admin, "the set-password code, shown to the admin")

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

    handler = Login("handler", email, CHOSEN, f"Nina Ny {lang}", ("handler",))
    assert log_in(page, handler) == "enrolled"  # a new handler sets up two-factor first


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
@pytest.mark.parametrize("role", ["handler", "safety_rep"])
def test_the_access_changes_page(logged_in, role, locale):
    admin = logged_in("admin")
    create_user(admin, f"access-{role}-{locale}@example.org", "Ola Oppfølger", "safety_rep")
    page = logged_in(role, locale=locale)
    page.goto("/")
    click_and_wait(page, "header nav a[href='/access-changes']")
    assert_path(page, "/access-changes")
    # Newest first: the new safety representative's code, given by the admin.
    newest = page.locator("main tbody tr").first.inner_text()
    assert "Ola Oppfølger" in newest
    assert "Ada Administrator" in newest
    assert_accessible(page, "access-changes page")


def test_the_admin_resets_a_password_from_the_user_form(logged_in):
    page = logged_in("admin")
    page.goto("/admin/users")
    page.get_by_role("row", name=re.compile("Lars Leder")).get_by_role("link").click()
    page.wait_for_load_state()
    click_and_wait(page, "main form[action$='/password-code'] button")
    assert page.locator("#password-code").is_visible()
    assert_accessible(page, "the set-password code after a reset")
