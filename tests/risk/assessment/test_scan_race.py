"""Two schedulers on their first tick both find no risk_scan row: the second waits for
the first's and carries on, instead of failing on the unique name (real threads, a
really committed database)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from notifications.scheduler import TickContext
from risk.assessment import triggers
from risk.assessment.models import RiskScan
from tests.concurrency import committed_app, wait_until
from trygg.extensions import db


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Iterator[Flask]:
    yield from committed_app(make_app, scratch_database)


def _someone_waits_on_a_lock(app: Flask) -> bool:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return True  # SQLite: the second writer waits for the first's commit anyway
        waiting = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        db.session.rollback()
        return bool(waiting)


def test_two_first_ticks_at_once_both_finish(race_app: Flask) -> None:
    first_holds, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def tick(hold: bool) -> None:
        try:
            with race_app.app_context():
                triggers.scan_job(TickContext(datetime.now(UTC), "test"))
                if hold:
                    first_holds.set()
                    release.wait(timeout=30)
                db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
            first_holds.set()

    first = threading.Thread(target=tick, args=(True,))
    first.start()
    assert first_holds.wait(timeout=30)
    second = threading.Thread(target=tick, args=(False,))
    second.start()
    wait_until(lambda: _someone_waits_on_a_lock(race_app))
    release.set()
    first.join(timeout=60)
    second.join(timeout=60)
    assert not errors, errors
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskScan)) == 1
