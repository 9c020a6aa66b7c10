"""Fixtures for the anonymous link: an app with the link switched on, and builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import csrf_token


def report_payload(**changes: Any) -> dict[str, Any]:
    """A valid anonymous report for the JSON API."""
    occurred = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    body: dict[str, Any] = {
        "incident_types": ["bullying", "verbal_abuse"],
        "occurred_at": occurred.isoformat(),
        "place_type": "other",
        "counterpart_category": "leader",
        "severity": 2,
        "narrative": "My leader shouts at me in front of the others in every meeting.",
    }
    body.update(changes)
    return body


@pytest.fixture
def anon_app(app: Flask, make_app: Any) -> Flask:
    """The app with the anonymous link switched on (by configuration).

    Asks for `app` first so both share its rolled-back connection (and `make`'s data).
    """
    built: Flask = make_app(anonymous_enabled=True)
    return built


@pytest.fixture
def anon_client(anon_app: Flask) -> FlaskClient:
    return anon_app.test_client()


def submit(client: FlaskClient, *, remote: str = "192.0.2.10", **changes: Any) -> Any:
    """POST an anonymous report through the API from a client address."""
    return client.post(
        "/api/v1/anonymous/reports",
        json=report_payload(**changes),
        headers={"X-CSRFToken": csrf_token(client)},
        environ_base={"REMOTE_ADDR": remote},
    )


def follow(client: FlaskClient, receipt: str, *, remote: str = "192.0.2.10") -> Any:
    """Start an anonymous follow-up session with a receipt code."""
    return client.post(
        "/api/v1/anonymous/session",
        json={"receipt": receipt},
        headers={"X-CSRFToken": csrf_token(client)},
        environ_base={"REMOTE_ADDR": remote},
    )
