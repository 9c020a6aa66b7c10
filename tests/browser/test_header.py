"""The page header in a real browser: one line on a phone and on a laptop, whatever the
roles; the folded menu ("Menu") from the keyboard; axe-core at phone width.

Before the folded menu the header took 135-263 px on a 390 or 320 px phone (three to
five lines of links), and a user of many roles had a menu wider than a laptop's line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.helpers import Login, assert_accessible, demo_report, large_text, log_in
from tests.factories import Factory, UnitInfo
from trygg import org
from trygg.roles import Role

pytestmark = pytest.mark.browser

PHONES = [{"width": 390, "height": 844}, {"width": 320, "height": 640}]
LAPTOP = {"width": 1280, "height": 800}
# One line: the logo's line (2.5rem) and the header's padding, not two lines of links.
ONE_LINE = 64
# Each role's page to start from on a bad day, and what stays one tap away in the header.
START = {Role.EMPLOYEE: ("/report", "/report"), Role.HANDLER: ("/cases", "/cases")}

HEADER = """() => {
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
                     return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                             middle: (r.top + r.bottom) / 2, shown: r.height > 0}; };
  const header = document.querySelector('header.app-header');
  return {
    header: box(header),
    logo: box(document.querySelector('.app-logo')),
    primary: box(document.querySelector('.app-primary')),
    menu: box(document.querySelector('.app-menu > summary')),
    heading: box(document.querySelector('main h1')),
    links: [...document.querySelectorAll('.app-nav li')].map(box),
    widest: Math.max(...[...header.querySelectorAll('*')].map(
      e => e.getBoundingClientRect().right)),
    page: document.documentElement.scrollWidth,
  };
}"""


@pytest.fixture(scope="module")
def many_roles(live_app: Any) -> Login:
    """A case handler who is also a manager and a safety representative (and reports)."""
    with live_app.app_context():
        found = org.find_unit("Akuttmottaket")
        assert found is not None
        unit = UnitInfo(found.id, found.name, found.parent_id, found.headcount)
    info = Factory(live_app).user(
        Role.HANDLER,
        Role.MANAGER,
        Role.SAFETY_REP,
        Role.EMPLOYEE,
        name="Mona Mangesyssel",
        units=(unit,),
        manages=(unit,),
        represents=(unit,),
    )
    return Login(
        Role.HANDLER,
        info.email,
        info.password,
        "Mona Mangesyssel",
        info.roles,
        info.totp_secret,
        max(info.used_steps),
    )


def _as_many_roles(new_page: Any, login: Login, **options: Any) -> Any:
    """A page logged in as `many_roles`, through the pages the first time."""
    if login.storage_state is None:
        first = new_page(**options)
        log_in(first, login)
        login.storage_state = first.context.storage_state()
        return first
    return new_page(storage_state=login.storage_state, **options)


def _open_menu(page: Any) -> None:
    page.locator("header .app-menu > summary").click()
    page.locator("header .app-nav").wait_for(state="visible")


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v['width']}px")
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.HANDLER])
def test_the_header_is_one_line_on_a_phone(live_app, demo_logins, logged_in, role, viewport):
    """The logo, the role's primary action and "Menu" share one line, with the unread
    count on "Menu"; the page's heading follows at once, and nothing scrolls sideways."""
    demo_report(
        live_app,
        demo_logins[Role.EMPLOYEE].email,
        occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    )  # a new case: the handler has an unread notification
    path, primary = START[role]
    page = logged_in(role, viewport=viewport)
    page.goto(path)
    got = page.evaluate(HEADER)
    header, logo = got["header"], got["logo"]
    assert header["bottom"] - header["top"] <= ONE_LINE, (
        f"the header is {header['bottom'] - header['top']:.0f} px high at {viewport['width']} px"
    )
    assert got["heading"]["top"] <= header["bottom"] + 32, got["heading"]
    for part in ("primary", "menu"):
        assert got[part]["shown"], f"no {part} in the header"
        assert abs(got[part]["middle"] - logo["middle"]) <= 2, f"{part} is off the logo's line"
    assert page.locator("header .app-primary").get_attribute("href") == primary
    assert not any(link["shown"] for link in got["links"]), "the menu's links are not folded"
    assert got["page"] <= viewport["width"]
    assert got["widest"] <= viewport["width"], f"the header reaches {got['widest']:.0f} px"
    if role == Role.HANDLER:
        count = page.locator("header .app-menu .app-count [aria-hidden=true]")
        badge = page.locator("header .app-nav .app-badge [aria-hidden=true]")
        assert count.is_visible()
        assert count.inner_text() == badge.inner_text()


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.MANAGER])
def test_with_large_text_the_header_wraps_instead_of_leaving_the_screen(logged_in, role):
    """With the phone's text at 200 % the logo, the primary action and "Menu" no longer
    fit one line: they take more lines, and "Menu" stays on the screen (it was pushed
    past the right edge, the whole page scrolling sideways to 577-653 px)."""
    viewport = PHONES[0]
    page = logged_in(role, viewport=viewport, bypass_csp=True)
    page.goto("/")
    large_text(page)
    got = page.evaluate(HEADER)
    assert got["page"] <= viewport["width"], f"the page is {got['page']} px wide"
    assert got["menu"]["shown"]
    assert got["menu"]["right"] <= viewport["width"], got["menu"]
    _open_menu(page)
    got = page.evaluate(HEADER)
    assert got["page"] <= viewport["width"], f"the open menu is {got['page']} px wide"
    assert all(link["right"] <= viewport["width"] for link in got["links"]), got["links"]


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.HANDLER])
def test_the_folded_menu_works_from_the_keyboard(logged_in, role, locale):
    """Enter on "Menu" opens it; Tab reaches the language switch, the account menu and
    every link of the menu, each on the screen and showing focus; Escape closes it and
    returns to "Menu". axe-core finds nothing, closed or open."""
    viewport = PHONES[1]
    page = logged_in(role, viewport=viewport, locale=locale)
    page.goto("/")
    assert_accessible(page, f"the folded header at {viewport['width']} px, {locale}")
    summary = page.locator("header .app-menu > summary")
    hrefs = page.locator("header .app-nav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(hrefs) >= 3, hrefs
    summary.focus()
    page.keyboard.press("Enter")
    page.locator("header .app-nav").wait_for(state="visible")
    assert page.evaluate("document.querySelector('header details.app-menu').open")
    assert_accessible(page, f"the open menu at {viewport['width']} px, {locale}")
    reached = []
    for _ in range(len(hrefs) + 4):
        page.keyboard.press("Tab")
        focus = page.evaluate(
            """() => { const e = document.activeElement, r = e.getBoundingClientRect();
                       const s = getComputedStyle(e);
                       return {inside: !!e.closest('.app-header__bar'),
                               what: e.getAttribute('href') || e.getAttribute('name') || e.tagName,
                               left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                               outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
                                        || s.boxShadow !== 'none'}; }"""
        )
        if not focus["inside"]:
            break
        assert focus["left"] >= 0, focus
        assert focus["right"] <= viewport["width"], focus
        assert focus["bottom"] <= viewport["height"], focus
        assert focus["outline"], f"no visible focus on {focus['what']}"
        reached.append(focus["what"])
    assert reached[:2] == ["lang", "SUMMARY"], reached  # the language switch, the account
    assert reached[2:] == hrefs, reached
    # Leaving the menu by Tab closes it; Escape inside it closes it too, back on "Menu".
    page.wait_for_function("!document.querySelector('header details.app-menu').open")
    summary.focus()
    page.keyboard.press("Enter")
    page.locator("header .app-nav a").first.focus()
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('header details.app-menu').open")
    assert page.evaluate("document.activeElement.closest('details.app-menu') !== null")


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_a_user_of_many_roles_has_a_one_line_header_on_a_laptop(new_page, many_roles, locale):
    """A handler who is also a manager and a safety representative has more links than a
    laptop's line holds: the menu folds behind "Menu" instead of running off the side,
    and every link is on the screen when it opens."""
    page = _as_many_roles(new_page, many_roles, viewport=LAPTOP, locale=locale)
    for path in ("/", "/cases", "/report"):
        page.goto(path)
        got = page.evaluate(HEADER)
        header = got["header"]
        assert header["bottom"] - header["top"] <= ONE_LINE, f"{path}: the header wraps"
        assert got["page"] <= LAPTOP["width"]
        assert got["widest"] <= LAPTOP["width"], f"{path}: the header reaches {got['widest']}"
        assert got["menu"]["shown"], f"{path}: the menu is not folded"
    _open_menu(page)
    links = page.evaluate(HEADER)["links"]
    assert len(links) >= 8
    assert all(link["left"] >= 0 for link in links)
    assert all(link["right"] <= LAPTOP["width"] for link in links)
    assert all(link["bottom"] <= LAPTOP["height"] for link in links)
    assert_accessible(page, f"the open menu of many roles at {LAPTOP['width']} px, {locale}")


def test_without_script_the_menu_still_opens_and_nothing_overflows(new_page, logged_in, many_roles):
    """Without script a phone's menu still folds and opens (a <details>), and on a laptop a
    menu of many roles wraps under the logo instead of running off the side."""
    page = logged_in(Role.EMPLOYEE, viewport=PHONES[1], java_script_enabled=False)
    page.goto("/report")
    assert not page.locator("header .app-nav").is_visible()
    _open_menu(page)
    assert page.locator("header .app-nav a[href='/my-reports']").is_visible()
    _as_many_roles(new_page, many_roles, viewport=LAPTOP)  # logs in with script
    page = new_page(
        viewport=LAPTOP, storage_state=many_roles.storage_state, java_script_enabled=False
    )
    page.goto("/")
    got = page.evaluate(HEADER)
    assert got["page"] <= LAPTOP["width"]
    assert got["widest"] <= LAPTOP["width"], f"the header reaches {got['widest']:.0f} px"
    assert all(link["shown"] for link in got["links"])


# Layout shifts from the page's start, as the browser reports them to the page.
SHIFTS = """
window.__shifts = [];
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) window.__shifts.push(entry.value);
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.mark.parametrize("path", ["/", "/cases", "/report"])
def test_a_folded_header_on_a_laptop_does_not_move_the_page_as_it_loads(new_page, many_roles, path):
    """The header of many roles folds before the page is first drawn: the page does not
    first show two lines of links and then jump up (the folded sheet, linked for phones
    only, was fetched last and late, and the script that folds it ran after the first
    paint: the page's content shifted by 0.03-0.07 of the screen on every load)."""
    _as_many_roles(new_page, many_roles, viewport=LAPTOP)
    page = new_page(viewport=LAPTOP, storage_state=many_roles.storage_state)
    page.add_init_script(SHIFTS)
    page.goto(path)
    page.wait_for_function("document.readyState === 'complete'")
    page.wait_for_function("document.fonts.status === 'loaded'")
    assert page.locator("header .app-menu > summary").is_visible()
    shifted = page.evaluate("window.__shifts.reduce((a, b) => a + b, 0)")
    assert shifted < 0.005, f"{path}: the page moved by {shifted:.3f} as the header folded"
