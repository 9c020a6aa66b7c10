"""What browser tests share: demo logins with their authenticators, logging in, axe-core.

Nothing here imports Playwright at module level, so the suite still collects (and the
browser tests skip with one line) on a machine without it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyotp

if TYPE_CHECKING:
    from playwright.sync_api import Page

# The server accepts a code for the current 30 s step and one step either side, and each
# step once per user. A code whose step would fall out of that window before the server
# reads it is not offered.
STEP_MARGIN_SECONDS = 3
TWO_FACTOR_ROLES = {"handler", "admin"}


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
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def log_in(page: Page, login: Login) -> str:
    """Log in like a person, through two-factor when the role needs it.

    A two-factor user's first login leads to enrolment: the test "scans" the QR code by
    reading the key printed under it. Returns how the login went: "password",
    "enrolled" or "code".
    """
    fill_password_step(page, login)
    if not login.needs_two_factor:
        assert_path(page, "/")
        return "password"
    if login.totp_secret is None:
        assert_path(page, "/account/two-factor")
        login.totp_secret = page.locator("code#totp-secret").inner_text().strip()
        page.locator("#f-otp").fill(login.otp())
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert_path(page, "/account")
        return "enrolled"
    assert_path(page, "/login/code")
    page.locator("#f-otp").fill(login.otp())
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    assert_path(page, "/")
    return "code"


def click_and_wait(page: Page, selector: str) -> None:
    """Click something that sends a form or follows a link, and wait for the new page."""
    with page.expect_navigation():
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
    page.wait_for_function(
        "summary => summary.parentElement.open"
        " && document.getAnimations().every(a => a.playState !== 'running')",
        arg=summary.element_handle(),
    )


def log_out(page: Page) -> None:
    """Press the header's log-out button."""
    page.locator("header form[action$='/logout'] button").click()
    page.wait_for_load_state()
    assert_path(page, "/login")


def assert_path(page: Page, path: str) -> None:
    """The page's path (without query) is `path`; says where it is instead if not."""
    actual = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
    assert actual == path, f"expected {path}, browser is at {page.url}"


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
