"""Fixtures for the anonymous link: an app with the link switched on, and following up.

An anonymous report is built by tests/factories.py (`submit_anonymous`)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import csrf_token


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


def follow(client: FlaskClient, receipt: str, *, remote: str = "192.0.2.10") -> Any:
    """Start an anonymous follow-up session with a receipt code."""
    return client.post(
        "/api/v1/anonymous/session",
        json={"receipt": receipt},
        headers={"X-CSRFToken": csrf_token(client)},
        environ_base={"REMOTE_ADDR": remote},
    )
