"""Fixtures for the reporting tests.

The browser fixtures here (`live_app`, `browser`) are deliberately small: the shared
browser infrastructure (tests/browser) can replace them later.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.factories import Factory, UnitInfo, UserInfo, api_login
from trygg.app import create_app
from trygg.extensions import db


@dataclass
class Reporter:
    user: UserInfo
    unit: UnitInfo


@pytest.fixture
def reporter(client: Any, make: Any) -> Reporter:
    """An employee in a unit, logged in to `client` through the API."""
    unit = make.unit("Akuttmottaket")
    user = make.user("employee", name="Kari Nordmann", units=(unit,))
    api_login(client, user)
    return Reporter(user, unit)


@pytest.fixture
def scratch_app(base_settings: dict[str, Any], scratch_database: str) -> Iterator[Flask]:
    """An app on its own, really committed database (seen by other connections)."""
    app = create_app({**base_settings, "database_url": scratch_database})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# -- browser ----------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
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


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is missing"
    return None


@dataclass
class LiveApp:
    url: str
    app: Flask
    make: Factory


@pytest.fixture
def live_app(scratch_app: Flask) -> Iterator[LiveApp]:
    """The app served by werkzeug on 127.0.0.1 (a free port), in a thread."""
    server = make_server("127.0.0.1", 0, scratch_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveApp(f"http://127.0.0.1:{server.server_port}", scratch_app, Factory(scratch_app))
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright; skipped when missing (unless REQUIRE_BROWSER)."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
