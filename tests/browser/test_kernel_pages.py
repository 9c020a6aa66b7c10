"""The kernel's pages in a real browser: logins per role, admin, keyboard, axe-core."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE
from tests.browser.helpers import (
    Login,
    assert_accessible,
    assert_path,
    fill_password_step,
    log_in,
    log_out,
    navigation,
)
from tests.factories import Factory
from trygg.roles import Role

pytestmark = pytest.mark.browser

ROLES = [Role.EMPLOYEE, Role.HANDLER, Role.MANAGER, Role.SAFETY_REP, Role.ADMIN]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_each_role_logs_in_and_is_greeted_by_name(page, demo_logins, role, locale):
    login: Login = demo_logins[role]
    enrolling = login.needs_two_factor and login.totp_secret is None
    how = log_in(page, login)
    if login.needs_two_factor:
        # First login: enrolment (read the key under the QR code), then a normal login.
        assert how == ("enrolled" if enrolling else "code")
    lang = locale.split("-")[0]
    if how == "enrolled":
        assert page.locator("html").get_attribute("lang") == lang
        log_out(page)
        assert log_in(page, login) == "code"
    assert page.locator("html").get_attribute("lang") == lang
    if Role.HANDLER in login.roles:
        # A handler lands in the queue; the greeting is on the start page.
        assert_path(page, "/cases")
        page.goto("/")
    heading = page.get_by_role("heading", level=1)
    assert login.name in heading.inner_text()
    if lang == "en":  # (the nb catalogue is not translated yet: no Norwegian text asserted)
        assert heading.inner_text().startswith("Welcome")
    login.storage_state = page.context.storage_state()


def test_language_switch_in_the_header_turns_the_pages_english(page, demo_logins):
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "nb"
    with navigation(page):
        page.locator("header button[name=lang][value=en]").click()
    assert_path(page, "/login")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Log in to Trygg"
    log_in(page, demo_logins[Role.EMPLOYEE])
    # The choice survives the login (which starts a new session) ...
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    # ... and the same button in the header switches back.
    with navigation(page):
        page.locator("header button[name=lang][value=nb]").click()
    assert page.locator("html").get_attribute("lang") == "nb"


def test_admin_reaches_the_admin_pages_and_creates_a_unit(logged_in):
    page = logged_in(Role.ADMIN)
    page.goto("/")
    page.get_by_role("navigation").locator("a[href='/admin/']").click()
    assert_path(page, "/admin/")
    assert page.get_by_role("heading", level=1).is_visible()
    page.locator("main a[href='/admin/units']").click()
    assert_path(page, "/admin/units")
    assert page.get_by_role("row", name=re.compile("Akuttmottaket")).is_visible()
    page.locator("main a[href='/admin/units/new']").click()
    assert_path(page, "/admin/units/new")
    page.locator("#f-name").fill("Legevakten")
    page.locator("#f-parent_id").select_option(label="Trygg sykehus")
    page.locator("#f-headcount").fill("42")
    with navigation(page):
        page.locator("main form button[type=submit]").click()
    assert_path(page, "/admin/units")
    row = page.get_by_role("row", name=re.compile("Legevakten"))
    assert row.locator("td").nth(1).inner_text() == "42"  # after the unit it is part of
    page.goto("/admin/users")
    assert page.get_by_role("row", name=re.compile("Kari Nordmann")).is_visible()


def test_employee_gets_the_403_page_on_admin(logged_in):
    page = logged_in(Role.EMPLOYEE)
    response = page.goto("/admin/")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).is_visible()
    assert "403" in page.locator("main").inner_text()
    assert_accessible(page, "403 page")


@pytest.mark.parametrize(("role", "path"), [(None, "/login"), (Role.EMPLOYEE, "/")])
def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(new_page, logged_in, role, path):
    page = logged_in(role) if role else new_page()
    page.goto(path)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert "ds-skip-link" in focused
    box = page.locator(".ds-skip-link").bounding_box()
    assert box, "skip link is not shown on focus"
    assert box["width"] > 20, "skip link is not shown on focus"
    assert box["height"] > 10, "skip link is not shown on focus"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The next Tab continues inside main, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


# -- axe-core ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_axe_login_page(page):
    page.goto("/login")
    assert_accessible(page, "login page")


def test_axe_login_page_with_an_error(page):
    page.goto("/login")
    page.locator("#f-email").fill("nobody@example.org")
    page.locator("#f-password").fill("not the password")
    with navigation(page):
        page.locator("main button[type=submit]").click()
    assert page.locator("#login-error").is_visible()
    assert_accessible(page, "login page with an error")


def test_axe_two_factor_code_page(page, demo_logins, logged_in):
    logged_in(Role.HANDLER)  # makes sure the handler has an authenticator
    fill_password_step(page, demo_logins[Role.HANDLER])
    assert_path(page, "/login/code")
    assert_accessible(page, "two-factor code page")


def test_axe_enrolment_page(live_app, page):
    # A new handler, so the page shows why their role must set up two-factor.
    info = Factory(live_app).user(Role.HANDLER, name="Nina Ny", totp=False)
    fill_password_step(page, Login(Role.HANDLER, info.email, info.password, "Nina Ny", info.roles))
    assert_path(page, "/account/two-factor")
    assert page.locator("code#totp-secret").is_visible()
    assert page.locator("figure svg title").count() == 1, "the QR code has no text alternative"
    assert_accessible(page, "enrolment page")


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.EMPLOYEE, "/"),
        (Role.EMPLOYEE, "/account"),
        (Role.AMU, "/"),
        (Role.ADMIN, "/admin/"),
        (Role.ADMIN, "/admin/units"),
        (Role.ADMIN, "/admin/users"),
        (Role.ADMIN, "/admin/users/new"),
    ],
)
def test_axe_logged_in_pages(logged_in, role, path):
    page = logged_in(role)
    response = page.goto(path)
    assert response.status == 200
    assert_accessible(page, path)


def test_axe_user_form_of_an_existing_user(logged_in):
    page = logged_in(Role.ADMIN)
    page.goto("/admin/users")
    with navigation(page):
        page.get_by_role("row", name=re.compile("Sara Saksbehandler")).get_by_role("link").click()
    assert re.search(r"/admin/users/\d+$", page.url)
    assert_accessible(page, "user form (edit)")


def test_axe_unit_form_with_validation_errors(logged_in):
    page = logged_in(Role.ADMIN)
    page.goto("/admin/units/new")
    page.locator("#f-headcount").fill("-3")
    with navigation(page):
        page.locator("main form button[type=submit]").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    # Focus moves to the summary, so a screen reader starts with what went wrong ...
    assert page.evaluate("document.activeElement.id") == "error-summary"
    # ... and each error names its field and links to it.
    for name in ("name", "headcount"):
        label = page.evaluate(
            f"document.querySelector('label[for=f-{name}]').firstChild.textContent.trim()"
        )
        link = summary.locator(f"a[href='#f-{name}']")
        assert link.inner_text().startswith(label), link.inner_text()
        field = page.locator(f"#f-{name}")
        assert field.get_attribute("aria-invalid") == "true"
        assert f"e-{name}" in (field.get_attribute("aria-describedby") or "")
    assert_accessible(page, "unit form with errors")


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_axe_404_page(page):
    response = page.goto("/no/such/page")
    assert response.status == 404
    assert_accessible(page, "404 page")


def test_axe_start_page_on_a_phone(logged_in):
    page = logged_in(Role.ADMIN, viewport=PHONE)
    page.goto("/")
    assert_accessible(page, "start page, phone width")


# -- keyboard and narrow screens --------------------------------------------------------

FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const shown = (e) => {
    const s = getComputedStyle(e);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  };
  const field = el.closest('.ds-field');
  return {tag: el.tagName, text: (el.textContent || el.name || '').trim().slice(0, 40),
          shown: shown(el) || (field !== null && shown(field))};
}"""


def test_every_tab_stop_on_the_user_form_shows_focus(logged_in):
    page = logged_in(Role.ADMIN)
    page.goto("/admin/users/new")
    page.keyboard.press("Tab")  # the skip link, which shows itself instead
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STYLE)
        if state["tag"] == "BODY":
            break
        seen.append(state)
    assert len(seen) > 20, seen
    hidden = [s for s in seen if not s["shown"]]
    assert not hidden, f"focus not visible on: {hidden}"


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/login"),
        (Role.ADMIN, "/"),
        (Role.ADMIN, "/admin/users"),
        (Role.ADMIN, "/admin/users/new"),
        # Wide tables scroll in their own region; a card with one keeps to the screen.
        (Role.ADMIN, "/admin/handler-groups"),
        (Role.ADMIN, "/admin/routing-rules"),
        (Role.ADMIN, "/admin/deadline-policies"),
        (Role.ADMIN, "/admin/outbox"),
        (Role.ADMIN, "/admin/retention/holds"),
        (Role.MANAGER, "/"),
        (Role.SAFETY_REP, "/"),
    ],
)
def test_pages_fit_a_320_px_screen_without_sideways_scrolling(new_page, logged_in, role, path):
    narrow = {"width": 320, "height": 640}
    page = logged_in(role, viewport=narrow) if role else new_page(viewport=narrow)
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{path} is {width} px wide at 320 px"


# -- the header ---------------------------------------------------------------------------

LAPTOP = {"width": 1280, "height": 800}
# Where the header's parts are: the logo, the tools (language, account menu), the folded
# menu's button, and the top and bottom of each link of the main menu.
HEADER_BOXES = """() => {
  const box = e => { const r = e.getBoundingClientRect();
                     return {top: r.top, bottom: r.bottom, right: r.right, height: r.height}; };
  return {
    logo: box(document.querySelector('.app-logo')),
    tools: box(document.querySelector('.app-header__tools')),
    menu: box(document.querySelector('.app-menu > summary')),
    links: [...document.querySelectorAll('.app-nav li')].map(
      l => ({...box(l), text: l.innerText.split('\\n')[0]})),
  };
}"""


def _middle(box: dict[str, float]) -> float:
    return (box["top"] + box["bottom"]) / 2


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
@pytest.mark.parametrize("role", [*ROLES, Role.AMU])
def test_the_header_is_one_line_on_a_laptop(logged_in, role, locale):
    """At 1280 × 800 the header is one line, whatever the role and the language: the
    menu's links level with the logo, the language switch and the account menu, in view;
    or, a menu longer than that line holds (a manager's, a safety representative's),
    folded behind "Menu" on that line. An employee's and a case handler's menus fit, so
    the queue starts high on the screen with every link in sight."""
    page = logged_in(role, viewport=LAPTOP, locale=locale)
    page.goto("/")
    boxes = page.evaluate(HEADER_BOXES)
    logo, tools, menu, links = boxes["logo"], boxes["tools"], boxes["menu"], boxes["links"]
    if menu["height"]:
        assert role not in (Role.EMPLOYEE, Role.HANDLER), f"the {role}'s menu is folded"
        assert abs(_middle(menu) - _middle(logo)) <= 2, f"Menu {menu} is off the logo's line"
        assert not any(link["height"] for link in links), "links beside a folded menu"
    else:
        assert abs(_middle(tools) - _middle(logo)) <= 2, (
            f"the header's tools are not level with the logo: {tools} against {logo}"
        )
        off = [link for link in links if abs(_middle(link) - _middle(logo)) > 2]
        assert not off, "links off the logo's line: " + ", ".join(
            f"{link['text']} at {link['top']:.0f}" for link in off
        )
        assert all(link["right"] <= LAPTOP["width"] for link in links)
    assert_accessible(page, f"the header at {LAPTOP['width']} px, {locale}")


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_the_account_menu_works_from_the_keyboard_on_a_phone(logged_in, locale):
    """The account menu (name, account page, log out), in the folded menu on a phone,
    opens with Enter, its links are in the Tab order and on the screen, and Escape closes
    it and returns to its button (leaving the folded menu open)."""
    page = logged_in(Role.SAFETY_REP, viewport=PHONE, locale=locale)
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    summary = page.locator("header details.app-user > summary")
    assert not summary.is_visible()
    page.locator("header details.app-menu > summary").focus()
    page.keyboard.press("Enter")
    assert summary.is_visible()
    account = page.locator("header .app-user__menu a[href='/account']")
    assert not account.is_visible()
    summary.focus()
    page.keyboard.press("Enter")
    assert account.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/account"
    box = page.locator("header .app-user__menu").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    assert_accessible(page, f"the open account menu at {PHONE['width']} px, {locale}")
    page.keyboard.press("Escape")
    assert not account.is_visible()
    assert page.evaluate("document.activeElement.closest('details.app-user') !== null")
    assert page.evaluate("document.querySelector('header details.app-menu').open")
    # Tabbing on past its last item (log out) leaves the menu, and closes it.
    page.keyboard.press("Enter")
    assert account.is_visible()
    for _ in range(3):
        page.keyboard.press("Tab")
    assert not page.evaluate(
        "document.querySelector('header .app-user').contains(document.activeElement)"
    )
    page.wait_for_function("!document.querySelector('header details.app-user').open")


def test_axe_helper_catches_a_missing_label(page):
    from tests.browser.helpers import axe_violations

    page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
    assert "label" in {v["id"] for v in axe_violations(page)}
