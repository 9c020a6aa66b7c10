"""Fixtures for the reporting tests.

The browser fixtures here (`live_app`, `browser`) are deliberately small: the shared
browser infrastructure (tests/browser) can replace them later.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tests.factories import UnitInfo, UserInfo, api_login
from trygg.app import create_app
from trygg.extensions import db
from trygg.roles import Role


@dataclass
class Reporter:
    user: UserInfo
    unit: UnitInfo


@pytest.fixture
def reporter(client: Any, make: Any) -> Reporter:
    """An employee in a unit, logged in to `client` through the API."""
    unit = make.unit("Akuttmottaket")
    user = make.user(Role.EMPLOYEE, name="Kari Nordmann", units=(unit,))
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
