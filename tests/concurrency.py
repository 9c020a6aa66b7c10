"""Helpers for tests that race real threads against a really committed database."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from trygg.extensions import db

# Dearer than the suite's cheapest costs, so a check takes long enough for parallel
# attempts to overlap as they would in production.
HASHING = {"argon2_memory_kib": 1024, "argon2_time_cost": 2}


def committed_app(make_app: Any, database_url: str, **settings: Any) -> Iterator[Flask]:
    """For a fixture: an app on its own really committed database, with dearer hashing;
    its connections are closed afterwards."""
    app: Flask = make_app(database_url=database_url, **HASHING, **settings)
    yield app
    with app.app_context():
        db.engine.dispose()


def in_parallel(
    browsers: list[tuple[FlaskClient, str]], attempt: Callable[[FlaskClient, str], Any]
) -> Counter[int]:
    """Run `attempt(client, csrf_token)` once per browser, all released at the same
    moment; count the response statuses."""
    start = threading.Barrier(len(browsers))

    def run(browser: tuple[FlaskClient, str]) -> int:
        start.wait(timeout=30)
        return int(attempt(*browser).status_code)

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        return Counter(pool.map(run, browsers))


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll `condition` until it holds; fail the test if it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def someone_waits_on_a_lock(app: Flask) -> bool:
    """Whether a connection to the test database is waiting on a lock (on PostgreSQL);
    on SQLite always true: a second writer waits for the first's commit anyway."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return True
        waiting = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        db.session.rollback()
        return bool(waiting)


def two_writers_at_once(app: Flask, write: Callable[[], object]) -> list[BaseException]:
    """Run `write` in two threads, each in its own app context and transaction: the first
    writes and holds its transaction open until the second is waiting on its lock, then
    both commit. Returns what either raised (empty when both succeeded)."""
    first_holds, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer(hold: bool) -> None:
        try:
            with app.app_context():
                write()
                if hold:
                    first_holds.set()
                    release.wait(timeout=30)
                db.session.commit()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
            first_holds.set()

    first = threading.Thread(target=writer, args=(True,))
    first.start()
    assert first_holds.wait(timeout=30)
    second = threading.Thread(target=writer, args=(False,))
    second.start()
    wait_until(lambda: someone_waits_on_a_lock(app))
    release.set()
    first.join(timeout=60)
    second.join(timeout=60)
    return errors
