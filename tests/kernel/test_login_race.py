"""The login limit holds when the guesses arrive all at once (real threads, real database).

Each test fires 50 attempts at one account in parallel threads, each with its own
client, session and database connection, against a really committed database. A limit
of 5 must mean at most 5 checks: a refused attempt answers 429 without checking
anything, and every checked wrong guess answers 401 and leaves a failure row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.concurrency import committed_app, in_parallel
from tests.factories import Factory, UserInfo, csrf_token, form_token
from trygg.accounts.models import LoginFailure
from trygg.extensions import db
from trygg.roles import Role

ATTEMPTS = 50
LIMIT = 5
WRONG = "not the right passphrase"


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Iterator[Flask]:
    yield from committed_app(make_app, scratch_database, login_max_failures=LIMIT)


def at_most_the_limit_checked(app: Flask, statuses: Counter[int]) -> None:
    """At most LIMIT attempts were checked (401, each leaving a failure row); the rest
    were refused unchecked (429)."""
    assert statuses[401] <= LIMIT, statuses
    assert statuses[401] + statuses[429] == ATTEMPTS, statuses
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(LoginFailure))
    assert rows == statuses[401]


def api_clients(app: Flask, count: int) -> list[tuple[FlaskClient, str]]:
    """Browsers of the JSON API, each with its CSRF token."""
    clients = [app.test_client() for _ in range(count)]
    return [(client, csrf_token(client)) for client in clients]


def past_the_password(app: Flask, user: UserInfo, count: int) -> list[tuple[FlaskClient, str]]:
    """Browsers at the code step of a page login (one after the other), each with the
    code form's CSRF token."""
    at_code_step = []
    for _ in range(count):
        client = app.test_client()
        response = client.post(
            "/login",
            data={
                "csrf_token": form_token(client, "/login"),
                "email": user.email,
                "password": user.password,
            },
        )
        assert response.status_code == 302
        at_code_step.append((client, form_token(client, "/login/code")))
    return at_code_step


def test_fifty_parallel_wrong_passwords_get_at_most_five_checks(race_app):
    user = Factory(race_app).user(Role.EMPLOYEE)
    statuses = in_parallel(
        api_clients(race_app, ATTEMPTS),
        lambda client, token: client.post(
            "/api/v1/session",
            json={"email": user.email, "password": WRONG},
            headers={"X-CSRFToken": token},
        ),
    )
    at_most_the_limit_checked(race_app, statuses)


def test_fifty_parallel_wrong_codes_after_the_password_get_at_most_five_checks(race_app):
    user = Factory(race_app).user(Role.HANDLER)
    statuses = in_parallel(
        past_the_password(race_app, user, ATTEMPTS),
        lambda client, token: client.post(
            "/login/code", data={"csrf_token": token, "otp": "000000"}
        ),
    )
    at_most_the_limit_checked(race_app, statuses)


def test_fifty_parallel_wrong_codes_through_the_api_get_at_most_five_checks(race_app):
    user = Factory(race_app).user(Role.HANDLER)
    statuses = in_parallel(
        api_clients(race_app, ATTEMPTS),
        lambda client, token: client.post(
            "/api/v1/session",
            json={"email": user.email, "password": user.password, "otp": "000000"},
            headers={"X-CSRFToken": token},
        ),
    )
    at_most_the_limit_checked(race_app, statuses)


def test_one_code_sent_from_ten_browsers_at_once_logs_in_only_one(race_app):
    user = Factory(race_app).user(Role.HANDLER)
    browsers = past_the_password(race_app, user, 10)
    code = user.otp()
    statuses = in_parallel(
        browsers,
        lambda client, token: client.post("/login/code", data={"csrf_token": token, "otp": code}),
    )
    # One gets in; the others are wrong codes (each code works once), then throttled.
    assert statuses[302] == 1, statuses
    assert statuses[401] + statuses[429] == 9, statuses
