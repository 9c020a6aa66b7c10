"""Browser tests: a real server in a thread, Debian's Chromium driven by Playwright.

One live server (with its own committed database and the demo organisation) per test
module, one Chromium per session, a fresh browser context (cookies, language) per test.
Without Chromium or Playwright the tests skip, unless REQUIRE_BROWSER=1 (CI), where they
fail.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.browser.helpers import Login, served
from tests.conftest import ENGINE, _worker, drop_postgres_database, migrated_database
from trygg import demo
from trygg.app import create_app
from trygg.extensions import db
from trygg.roles import Role

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
PHONE = {"width": 390, "height": 844}

# demo.USERS local parts → the role each stands for in the tests.
DEMO_ROLES = {
    "ansatt": Role.EMPLOYEE,
    "saksbehandler": Role.HANDLER,
    "leder": Role.MANAGER,
    "verneombud": Role.SAFETY_REP,
    "amu": Role.AMU,  # vocabulary: login name
    Role.ADMIN: Role.ADMIN,
}


@functools.cache
def _browser_missing() -> str | None:
    for module in ("playwright", "axe_playwright_python"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found"
    return None


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a browser, skip the tests marked `browser` (unless REQUIRE_BROWSER=1)."""
    if _browser_missing() and not _browser_required():
        skip = pytest.mark.skip(reason=INSTALL_HINT)
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Give those skips one location, so `-ra` sums them up in one line, not one per test."""
    report = yield
    if report.skipped and item.get_closest_marker("browser") and _browser_missing():
        report.longrepr = (__file__, None, f"Skipped: {INSTALL_HINT}")
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, launched once per session."""
    missing = _browser_missing()
    if missing:
        if _browser_required():
            pytest.fail(f"REQUIRE_BROWSER=1, but {missing}; {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class _QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output; the last requests are kept for a
    navigation that times out to report (helpers.navigation)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        served(f"{self.command} {self.path.split('?')[0]} {code}")


@pytest.fixture(scope="module")
def live_database(
    base_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like scratch_database, but one per module: a migrated, really committed database."""
    label = "browser" + secrets.token_hex(3)
    url = migrated_database(base_settings, tmp_path_factory.mktemp(label), label)
    yield url
    if ENGINE == "postgres":
        drop_postgres_database(f"trygg_{label}_{_worker()}")


@pytest.fixture(scope="module")
def live_app(browser: Any, base_settings: dict[str, Any], live_database: str) -> Iterator[Flask]:
    """The app on the module's database. (Asks for `browser` so it skips without one.)"""
    app = create_app({**base_settings, "database_url": live_database})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def demo_logins(live_app: Flask) -> dict[str, Login]:
    """The demo organisation, seeded by the real service; logins by role."""
    with live_app.app_context():
        seeded = demo.seed()
        db.session.commit()
    names = {f"{local}@{demo.DEMO_DOMAIN}": name for local, name, *_ in demo.USERS}
    logins = {}
    for login in seeded:
        role = DEMO_ROLES[login.email.split("@")[0]]
        logins[role] = Login(
            role, login.email, login.password, names[login.email], tuple(login.roles)
        )
    return logins


@pytest.fixture(scope="module")
def live_server(live_app: Flask, demo_logins: dict[str, Login]) -> Iterator[str]:
    """The seeded app served on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def locale() -> str:
    """The browser's language; override with @pytest.mark.parametrize("locale", [...])."""
    return "nb-NO"


def _choose_language(context: Any, locale: str) -> None:
    """Pick the browser's language with the language switch, as its user would: pages
    follow a choice (kept on the account once logged in), never the browser's setting.
    Every new context chooses, so a demo account keeps no choice from an earlier test."""
    token = context.request.get("/api/v1/csrf").json()["csrf_token"]
    response = context.request.post(
        "/language", form={"lang": locale.split("-")[0], "csrf_token": token}, max_redirects=0
    )
    assert response.status == 302, response.status


@pytest.fixture
def new_page(browser: Any, live_server: str, locale: str) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context (own cookies): new_page(locale=..., storage_state=...)."""
    contexts: list[Any] = []

    def open_page(**options: Any) -> Any:
        context_locale = options.pop("locale", locale)
        context = browser.new_context(
            base_url=live_server,
            locale=context_locale,
            viewport=options.pop("viewport", DESKTOP),
            # Designsystemet animates a <details> opening (0.4 s). The app turns that off
            # for people who ask for less motion; so do the tests: a click meant for a
            # field or a button cannot land while the content is still sliding open.
            reduced_motion=options.pop("reduced_motion", "reduce"),
            **options,
        )
        # Generous: CI runs two test workers, PostgreSQL and Chromium on two cores.
        context.set_default_timeout(30_000)
        contexts.append(context)
        _choose_language(context, context_locale)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """A page in a fresh browser context, in the `locale` fixture's language."""
    return new_page()


@pytest.fixture
def logged_in(new_page: Callable[..., Any], demo_logins: dict[str, Login]) -> Callable[..., Any]:
    """A page logged in as a demo role: logged_in("admin").

    The first call per role logs in through the pages; later calls reuse its cookies, so
    tests do not spend the few TOTP codes a 30 s window allows.
    """
    from tests.browser.helpers import log_in

    def open_as(role: str, **options: Any) -> Any:
        login = demo_logins[role]
        if login.storage_state is None:
            first = new_page()
            log_in(first, login)
            login.storage_state = first.context.storage_state()
        return new_page(storage_state=login.storage_state, **options)

    return open_as
