"""Two schedulers on their first tick both find no risk_scan row: the second waits for
the first's and carries on, instead of failing on the unique name (real threads, a
really committed database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from notifications.scheduler import TickContext
from risk.assessment import triggers
from risk.assessment.models import RiskScan
from tests.concurrency import committed_app, two_writers_at_once
from trygg.extensions import db


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Iterator[Flask]:
    yield from committed_app(make_app, scratch_database)


def test_two_first_ticks_at_once_both_finish(race_app: Flask) -> None:
    errors = two_writers_at_once(
        race_app, lambda: triggers.scan_job(TickContext(datetime.now(UTC), "test"))
    )
    assert not errors, errors
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskScan)) == 1
