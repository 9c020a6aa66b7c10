"""What case handling's browser tests need: a live server, Chromium, logins, axe-core.

Copied (trimmed) from the main branch's tests/browser/conftest.py and helpers.py, which
this branch does not have. A test module imports the fixtures it uses from here.
Nothing imports Playwright at module level, so the suite collects on a machine without
it; the browser tests then skip with one line (REQUIRE_BROWSER=1 makes that a failure).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path(os.environ.get("TRYGG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = (
    "browser tests need Chromium and Playwright: apt-get install chromium, "
    "pip install -e '.[dev]' (REQUIRE_BROWSER=1 turns this skip into a failure)"
)
DESKTOP = {"width": 1280, "height": 900}

# demo.USERS local parts → the role each stands for in the tests.
DEMO_ROLES = {
    "ansatt": "employee",
    "saksbehandler": "handler",
    "leder": "manager",
    "verneombud": "safety_rep",
    "admin": "admin",
}


@functools.cache
def browser_missing() -> str | None:
    for module in ("playwright", "axe_playwright_python"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found"
    return None


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER") == "1"


def skip_module_without_browser() -> None:
    """Call at the top of a browser test module: one skip line for the whole module."""
    if browser_missing() and not browser_required():
        pytest.skip(INSTALL_HINT, allow_module_level=True)


# -- logins ---------------------------------------------------------------------------

# The server accepts a code for the current 30 s step and one step either side, each
# step once per user; a code whose step would leave that window before the server reads
# it is not offered.
STEP_MARGIN_SECONDS = 3
TWO_FACTOR_ROLES = {"handler", "admin"}


@dataclass
class Login:
    """A user as the browser sees them: what they type, and their phone's app."""

    role: str
    email: str
    password: str
    name: str
    roles: tuple[str, ...]
    totp_secret: str | None = None
    last_step: int | None = None
    # A logged-in browser state (cookies), kept to spare a login and so a code.
    storage_state: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def needs_two_factor(self) -> bool:
        return bool(TWO_FACTOR_ROLES & set(self.roles))

    def otp(self) -> str:
        """The earliest code the server will still accept and has not seen."""
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


def assert_path(page: Page, path: str) -> None:
    """The page's path (without query) is `path`; says where it is instead if not."""
    actual = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
    assert actual == path, f"expected {path}, browser is at {page.url}"


def click_and_wait(page: Page, selector: str) -> None:
    """Click something that sends a form or follows a link, and wait for the new page."""
    with page.expect_navigation():
        page.locator(selector).click()


def log_in(page: Page, login: Login) -> None:
    """Log in like a person, through two-factor (and its enrolment) when the role needs it."""
    page.goto("/login")
    page.locator("#f-email").fill(login.email)
    page.locator("#f-password").fill(login.password)
    click_and_wait(page, "main button[type=submit]")
    if not login.needs_two_factor:
        assert_path(page, "/")
        return
    if login.totp_secret is None:
        # First login: enrolment. (A public start page may come first on this branch's
        # kernel; any page needing a login then leads to enrolment.)
        if "/account/two-factor" not in page.url:
            page.goto("/account")
        assert_path(page, "/account/two-factor")
        login.totp_secret = page.locator("code#totp-secret").inner_text().strip()
        page.locator("#f-otp").fill(login.otp())
        click_and_wait(page, "main form button[type=submit]")
        assert_path(page, "/account")
        return
    assert_path(page, "/login/code")
    page.locator("#f-otp").fill(login.otp())
    click_and_wait(page, "main button[type=submit]")
    assert_path(page, "/")


# -- accessibility --------------------------------------------------------------------

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
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            for reason in (node.get("failureSummary") or "").splitlines():
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


# -- fixtures (import the ones a module uses) -----------------------------------------
