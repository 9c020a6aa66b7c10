"""What browser tests share: demo logins with their authenticators, logging in, axe-core.

Nothing here imports Playwright at module level, so the suite still collects (and the
browser tests skip with one line) on a machine without it.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pyotp

from trygg.roles import Role

if TYPE_CHECKING:
    from playwright.sync_api import Page

# The server accepts a code for the current 30 s step and one step either side, and each
# step once per user. A code whose step would fall out of that window before the server
# reads it is not offered.
STEP_MARGIN_SECONDS = 3
TWO_FACTOR_ROLES = {Role.HANDLER, Role.ADMIN}

# The live server's last requests (method, path, status), newest last: a navigation that
# never came says whether the browser sent anything at all.
SERVED: deque[str] = deque(maxlen=12)
SERVED_LOCK = threading.Lock()


def served(line: str) -> None:
    """Note a request the live server answered (its request handler calls this)."""
    with SERVED_LOCK:
        SERVED.append(line)


@contextlib.contextmanager
def navigation(page: Page) -> Iterator[None]:
    """`page.expect_navigation()`, but a timeout says what the server last answered.

    A lost click (nothing sent) and a slow answer (sent, not yet answered) need different
    fixes; Playwright's own message tells neither.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with SERVED_LOCK:
        before = len(SERVED), list(SERVED)[-1:] if SERVED else []
    try:
        with page.expect_navigation():
            yield
    except PlaywrightTimeout as exc:
        with SERVED_LOCK:
            recent = list(SERVED)
        raise AssertionError(
            f"no new page after the action on {page.url}; the server's last requests "
            f"(before the action: {before[1]}): {recent}"
        ) from exc


def yesterday() -> str:
    """A day surely in the past in Oslo, so no time of day typed with it lies in the
    future (a form filled with today's date and 09:45 is refused before 09:45)."""
    return (datetime.now(ZoneInfo("Europe/Oslo")) - timedelta(days=1)).date().isoformat()


def demo_report(app: Any, email: str, *, unit: str = "Akuttmottaket", **fields: Any) -> Any:
    """A demo user's report of an incident in a demo unit, through the real intake, and
    the case it opened (a tests.factories.CaseRef); the fields as report_data's."""
    from tests.factories import Factory
    from trygg import org
    from trygg.accounts import service as accounts
    from trygg.extensions import db

    with app.app_context():
        reporter, place = accounts.find_user(email), org.find_unit(unit)
        assert reporter is not None, email
        assert place is not None, unit
        reporter_id, unit_id = reporter.id, place.id
        db.session.remove()
    return Factory(app).report(reporter_id, unit_id=unit_id, **fields)


@dataclass
class Login:
    """A demo user as the browser sees them: what they type, and their phone's app."""

    role: str
    email: str
    password: str
    name: str
    roles: tuple[str, ...]
    totp_secret: str | None = None
    last_step: int | None = None
    # A logged-in browser state (cookies) kept to spare a login, and so a code.
    storage_state: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def needs_two_factor(self) -> bool:
        return bool(TWO_FACTOR_ROLES & set(self.roles))

    def otp(self) -> str:
        """The code for the earliest step the server will still accept and has not seen.

        Waits for the next step only when all steps in the window are used up.
        """
        assert self.totp_secret, f"{self.email} has no authenticator yet"
        totp = pyotp.TOTP(self.totp_secret)
        while True:
            now = time.time()
            lowest = int(now + STEP_MARGIN_SECONDS) // 30 - 1
            highest = int(now) // 30 + 1
            for step in range(lowest, highest + 1):
                if self.last_step is None or step > self.last_step:
                    self.last_step = step
                    return totp.generate_otp(step)
            time.sleep(30 - now % 30 + 0.1)


def fill_password_step(page: Page, login: Login) -> None:
    """Open the login page and send e-mail and password."""
    page.goto("/login")
    page.locator("#f-email").fill(login.email)
    page.locator("#f-password").fill(login.password)
    with navigation(page):
        page.locator("main button[type=submit]").click()


def log_in(page: Page, login: Login) -> str:
    """Log in like a person, through two-factor when the role needs it.

    A two-factor user's first login leads to enrolment: the test "scans" the QR code by
    reading the key printed under it. Returns how the login went: "password",
    "enrolled" or "code".
    """
    fill_password_step(page, login)
    if not login.needs_two_factor:
        assert_path(page, landing(login))
        return "password"
    if login.totp_secret is None:
        assert_path(page, "/account/two-factor")
        login.totp_secret = page.locator("code#totp-secret").inner_text().strip()
        page.locator("#f-otp").fill(login.otp())
        with navigation(page):
            page.locator("main form button[type=submit]").click()
        assert_path(page, "/account")
        return "enrolled"
    assert_path(page, "/login/code")
    page.locator("#f-otp").fill(login.otp())
    with navigation(page):
        page.locator("main button[type=submit]").click()
    assert_path(page, landing(login))
    return "code"


def landing(login: Login) -> str:
    """Where a role lands after login: a handler in the queue, everyone else at the start."""
    return "/cases" if Role.HANDLER in login.roles else "/"


def click_and_wait(page: Page, selector: str) -> None:
    """Click something that sends a form or follows a link, and wait for the new page."""
    with navigation(page):
        page.locator(selector).click()


def open_details(page: Page, summary_selector: str, *, keyboard: bool = False) -> None:
    """Open a <details> by its summary (a click, or Enter from the keyboard) and wait
    until it has finished opening.

    Designsystemet animates the opening (height, 0.4 s). Until the animation ends the
    content is partly clipped, and a click meant for a field in it can land on whatever
    lies beneath: on a busy machine a checkbox "did not change its state".
    """
    summary = page.locator(summary_selector)
    if keyboard:
        summary.focus()
        page.keyboard.press("Enter")
    else:
        summary.click()
    # Open, its content laid out at full height, and no animation running or about to
    # start: right after the toggle the opening animation may not have begun, and a
    # check of running animations alone passed while the content was still 0 px high.
    page.wait_for_function(
        """summary => {
            if (!summary.parentElement.open) return false;
            const content = summary.nextElementSibling;
            if (content && (content.getBoundingClientRect().height === 0
                            || content.clientHeight < content.scrollHeight - 1)) return false;
            return document.getAnimations().every(a => a.playState !== 'running' && !a.pending);
        }""",
        arg=summary.element_handle(),
    )


def show_section(page: Page, heading_id: str) -> None:
    """Show one section of the case page by its link in the page's list of sections
    (the sections show one at a time, like tabs), and wait until its heading shows."""
    page.locator(f".case-toc a[href='#{heading_id}']").click()
    page.locator(f"#{heading_id}").wait_for(state="visible")


def large_text(page: Page) -> None:
    """The phone's text size at 200 % (Android's font scale): the root font doubled."""
    page.add_style_tag(content="html { font-size: 200% !important; }")


def open_menu_link(page: Page, href: str) -> None:
    """Follow the header's main menu link to `href`, opening the folded menu first where
    the header has folded it ("Menu": on a phone, or a menu too long for the line)."""
    folded = page.locator("header details.app-menu > summary")
    if folded.is_visible() and not page.locator("header details.app-menu[open]").count():
        folded.click()
    click_and_wait(page, f"header nav a[href='{href}']")


def log_out(page: Page) -> None:
    """Open the header's account menu (in its folded menu on a narrow screen) and press
    its log-out button."""
    folded = page.locator("header details.app-menu > summary")
    if folded.is_visible():
        folded.click()
    page.locator("header details.app-user > summary").click()
    with navigation(page):
        page.locator("header form[action$='/logout'] button").click()
    assert_path(page, "/login")


def assert_path(page: Page, path: str) -> None:
    """The page's path (without query or fragment) is `path`, and that page has loaded;
    says where the browser is instead if not.

    Waits: after a click on a link the address changes when the navigation commits, before
    the new document is parsed, so reading the page straight after could find it empty.
    """

    def path_of(url: str) -> str:
        return re.sub(r"^https?://[^/]+", "", url).split("#")[0].split("?")[0]

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # the assert says where the browser is
        page.wait_for_url(lambda url: path_of(url) == path, wait_until="load")
    assert path_of(page.url) == path, f"expected {path}, browser is at {page.url}"


# -- accessibility ----------------------------------------------------------------------

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A and AA rules) on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    return list(results.response["violations"])


def format_violations(violations: list[dict[str, Any]]) -> str:
    """One block per rule: impact, rule, help, link, then each element and why."""
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            summary = node.get("failureSummary") or ""
            for reason in summary.splitlines():
                if reason.strip():
                    lines.append(f"       {reason.strip()}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str = "") -> None:
    """axe-core finds nothing serious or critical; minor and moderate findings are printed."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    others = [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
    where = f"{what or 'page'} ({page.url})"
    if others:
        print(f"axe-core, minor findings on {where}:\n{format_violations(others)}")
    assert not blocking, (
        f"axe-core found serious or critical problems on {where}:\n{format_violations(blocking)}"
    )
