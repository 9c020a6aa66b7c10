"""The login limit holds when the guesses arrive all at once (real threads, real database).

Each test fires 50 attempts at one account in parallel threads,
each with its own client, session and database connection, against a really committed
database. A limit of 5 must mean at most 5 checks: a refused attempt answers 429 without
checking anything, and every checked wrong guess answers 401 and leaves a failure row.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.concurrency import in_parallel
from tests.factories import Factory, csrf_token, form_token
from trygg.accounts.models import LoginFailure
from trygg.extensions import db

ATTEMPTS = 50
LIMIT = 5
WRONG = "not the right passphrase"
# Dearer than the suite's cheapest costs, so a check takes long enough for the attempts
# to overlap as they would in production.
HASHING = {"argon2_memory_kib": 1024, "argon2_time_cost": 2}


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Flask:
    app: Flask = make_app(
        database_url=scratch_database,
        login_max_failures=LIMIT,
        **HASHING,
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def failures(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


def test_fifty_parallel_wrong_passwords_get_at_most_five_checks(race_app):
    user = Factory(race_app).user("employee")
    clients = [race_app.test_client() for _ in range(ATTEMPTS)]
    tokens = {id(client): csrf_token(client) for client in clients}

    statuses = in_parallel(
        clients,
        lambda client: client.post(
            "/api/v1/session",
            json={"email": user.email, "password": WRONG},
            headers={"X-CSRFToken": tokens[id(client)]},
        ),
    )
    assert statuses[401] <= LIMIT, statuses
    assert statuses[401] + statuses[429] == ATTEMPTS, statuses
    assert failures(race_app) == statuses[401]


def test_fifty_parallel_wrong_codes_after_the_password_get_at_most_five_checks(race_app):
    user = Factory(race_app).user("handler")
    clients = [race_app.test_client() for _ in range(ATTEMPTS)]
    tokens = {}
    for client in clients:  # the password step, one browser after the other
        response = client.post(
            "/login",
            data={
                "csrf_token": form_token(client, "/login"),
                "email": user.email,
                "password": user.password,
            },
        )
        assert response.status_code == 302
        tokens[id(client)] = form_token(client, "/login/code")

    statuses = in_parallel(
        clients,
        lambda client: client.post(
            "/login/code", data={"csrf_token": tokens[id(client)], "otp": "000000"}
        ),
    )
    assert statuses[401] <= LIMIT, statuses
    assert statuses[401] + statuses[429] == ATTEMPTS, statuses
    assert failures(race_app) == statuses[401]


def test_fifty_parallel_wrong_codes_through_the_api_get_at_most_five_checks(race_app):
    user = Factory(race_app).user("handler")
    clients = [race_app.test_client() for _ in range(ATTEMPTS)]
    tokens = {id(client): csrf_token(client) for client in clients}

    statuses = in_parallel(
        clients,
        lambda client: client.post(
            "/api/v1/session",
            json={"email": user.email, "password": user.password, "otp": "000000"},
            headers={"X-CSRFToken": tokens[id(client)]},
        ),
    )
    assert statuses[401] <= LIMIT, statuses
    assert statuses[401] + statuses[429] == ATTEMPTS, statuses
    assert failures(race_app) == statuses[401]


def test_one_code_sent_from_ten_browsers_at_once_logs_in_only_one(race_app):
    user = Factory(race_app).user("handler")
    clients = [race_app.test_client() for _ in range(10)]
    tokens = {}
    for client in clients:
        client.post(
            "/login",
            data={
                "csrf_token": form_token(client, "/login"),
                "email": user.email,
                "password": user.password,
            },
        )
        tokens[id(client)] = form_token(client, "/login/code")
    code = user.otp()

    statuses = in_parallel(
        clients,
        lambda client: client.post(
            "/login/code", data={"csrf_token": tokens[id(client)], "otp": code}
        ),
    )
    # One gets in; the others are wrong codes (each code works once), then throttled.
    assert statuses[302] == 1, statuses
    assert statuses[401] + statuses[429] == 9, statuses
