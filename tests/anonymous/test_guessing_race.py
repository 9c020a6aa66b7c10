"""The receipt-guess limit holds when guesses arrive all at once (real threads, real database)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from reporting import anonymous
from tests.concurrency import committed_app, in_parallel, wait_until
from tests.conftest import ENGINE
from tests.factories import csrf_token
from tests.factories import submit_anonymous as submit
from trygg.extensions import db, utcnow

ATTEMPTS = 50
LIMIT = 5


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Iterator[Flask]:
    yield from committed_app(
        make_app, scratch_database, receipt_failures_per_hour=LIMIT, anonymous_enabled=True
    )


def test_fifty_parallel_receipt_guesses_from_one_network_get_at_most_five_checks(race_app):
    assert submit(race_app.test_client(), remote="198.51.100.7").status_code == 201
    clients = [race_app.test_client() for _ in range(ATTEMPTS)]
    browsers = [(client, csrf_token(client)) for client in clients]
    statuses = in_parallel(
        browsers,
        lambda client, token: client.post(
            "/api/v1/anonymous/session",
            json={"receipt": anonymous.format_receipt(anonymous.new_receipt())},
            headers={"X-CSRFToken": token},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        ),
    )
    assert statuses[401] <= LIMIT, statuses
    assert statuses[401] + statuses[429] == ATTEMPTS, statuses


def _waiting_for_a_lock(database_url: str) -> bool:
    """Whether some connection to the database is waiting for a lock (PostgreSQL)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
    finally:
        engine.dispose()
    return bool(waiting)


def test_two_guesses_either_side_of_a_minute_are_counted_against_each_other(
    make_app, scratch_database
):
    """Counters are kept per minute: two guesses a second apart, across the turn of a
    minute, land on two counter rows. The second must still wait for the first."""
    app = make_app(
        database_url=scratch_database, receipt_failures_per_hour=1, anonymous_enabled=True
    )
    turn = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)
    first_counted, second_started, second_done = (threading.Event() for _ in range(3))
    outcome: dict[str, object] = {}

    def first() -> None:
        with app.app_context():
            anonymous.begin_receipt_attempt("192.0.2.1", now=turn - timedelta(seconds=0.5))
            first_counted.set()
            # Hold the transaction open until the second guess has either finished or is
            # waiting for this one (SQLite: every writer waits for the open transaction).
            wait_until(
                lambda: (
                    second_done.is_set()
                    or (ENGINE == "sqlite" and second_started.is_set())
                    or (ENGINE == "postgres" and _waiting_for_a_lock(scratch_database))
                )
            )
            db.session.commit()

    def second() -> None:
        first_counted.wait(timeout=20)
        with app.app_context():
            second_started.set()
            try:
                anonymous.begin_receipt_attempt("192.0.2.2", now=turn + timedelta(seconds=0.5))
                outcome["second"] = "checked"
            except anonymous.Throttled:
                outcome["second"] = "throttled"
            second_done.set()
            db.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with app.app_context():
        db.engine.dispose()
    assert outcome == {"second": "throttled"}
