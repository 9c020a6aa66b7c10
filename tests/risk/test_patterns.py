"""Stored trend patterns (risk/patterns.py, `trend_pattern`): the first request in a new
process reuses what another protected, and publishes exactly what protecting afresh
publishes; changed counts are a new key; racing stores do not fail; unused patterns are
pruned; the daily job fills them and is idempotent."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, insert, select, update

import risk.statistics as statistics
from notifications.scheduler import TickContext
from risk import demo, patterns
from risk.models import TrendPattern
from risk.statistics import CACHE, add_months
from tests.concurrency import committed_app, two_writers_at_once
from tests.handling.conftest import Api
from tests.risk.conftest import ended_quarters
from trygg.extensions import db

QUERIES = [
    {"unit": 0, "period": "month", "by": "type"},
    {"unit": 0, "period": "quarter", "by": "place"},
    {"unit": 0, "period": "month"},
    {"period": "month", "by": "counterpart"},
]


class Protections:
    """Counts the quarters actually protected (the dear part), calling the real code."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        for name in ("protect_totals", "protect_dimension"):
            original = getattr(statistics, name)
            monkeypatch.setattr(statistics, name, self._counted(original))

    def _counted(self, original: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        return run


def _span() -> dict[str, str]:
    quarters = ended_quarters(2)
    return {"from": f"{quarters[0]:%Y-%m}", "to": f"{add_months(quarters[-1], 2):%Y-%m}"}


def published(client: Api) -> list[Any]:
    """Every answer of the views above, as the API gives them."""
    out = []
    for query in QUERIES:
        args = dict(query)
        if args["period"] == "month":
            args.update(_span())
        response = client.get("/api/v1/trends", query_string=args)
        assert response.status_code == 200, response.get_json()
        out.append(response.get_json())
    return out


def stored_keys(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(TrendPattern.key)))


def new_process() -> None:
    """What a freshly started worker has: nothing protected in memory."""
    CACHE.items.clear()
    patterns.STORE._touched.clear()


def forget_stored(app: Flask) -> None:
    with app.app_context():
        db.session.execute(delete(TrendPattern))
        db.session.commit()


def test_a_new_process_reuses_stored_patterns_and_publishes_the_same(
    app, trends_org, with_incidents, monkeypatch
):
    with_incidents(11)
    client = Api(app, trends_org.amu)
    new_process()
    protections = Protections(monkeypatch)
    first = published(client)
    assert protections.calls > 0
    keys = stored_keys(app)
    assert keys
    with app.app_context():
        for marks in db.session.scalars(select(TrendPattern.marks)):
            # Marks only: which cells have which mark, never a count.
            assert set(json.loads(marks)) <= {"status", "rows", "marks"}

    new_process()
    protections.calls = 0
    again = published(client)
    assert protections.calls == 0  # every quarter came from trend_pattern
    assert again == first
    assert stored_keys(app) == keys

    # Protecting afresh (nothing stored, nothing in memory) gives the very same answers.
    forget_stored(app)
    new_process()
    assert published(client) == first
    assert protections.calls > 0


def _late_report(app: Flask, unit_id: int, month: date) -> None:
    rng = random.Random(3)
    profile = demo.Profile(500.0, {"threat": 1}, {"patient": 1}, {"front_desk": 1})
    with app.app_context():
        found = list(demo.incidents([(unit_id, 40, profile)], month, month, rng))[:1]
        demo.write(found, datetime.now(UTC), rng)
        db.session.commit()


def test_a_late_report_in_an_old_quarter_is_a_new_key_and_published_as_fresh(
    app, trends_org, with_incidents, monkeypatch
):
    with_incidents(12)
    client = Api(app, trends_org.amu)
    new_process()
    before = published(client)
    old_keys = stored_keys(app)

    _late_report(app, trends_org.big.id, ended_quarters(2)[0])
    new_process()
    protections = Protections(monkeypatch)
    after = published(client)
    assert protections.calls > 0  # the changed quarter was protected again
    new_keys = stored_keys(app) - old_keys
    assert new_keys
    assert after != before  # one more report in the old quarter shows

    forget_stored(app)
    new_process()
    assert published(client) == after


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Iterator[Flask]:
    yield from committed_app(make_app, scratch_database)


def test_two_workers_storing_the_same_pattern_at_once_both_succeed(race_app: Flask) -> None:
    key = "ab" * 32
    marks = {"status": {"primary": [5, 6]}, "rows": [5, 6]}
    errors = two_writers_at_once(race_app, lambda: patterns.DatabasePatterns().store(key, marks))
    assert not errors, errors
    with race_app.app_context():
        rows = db.session.execute(select(TrendPattern.key, TrendPattern.marks)).all()
    assert [(k, json.loads(m)) for k, m in rows] == [(key, marks)]


def test_prune_removes_patterns_unused_for_30_days_and_keeps_used_ones(
    app, trends_org, with_incidents, monkeypatch
):
    with_incidents(13)
    client = Api(app, trends_org.amu)
    new_process()
    first = published(client)
    used = stored_keys(app)
    today = datetime.now(UTC).date()
    long_ago = today - timedelta(days=40)
    with app.app_context():
        db.session.execute(update(TrendPattern).values(used_on=long_ago))
        db.session.execute(
            insert(TrendPattern).values(
                [
                    {"key": "0" * 64, "marks": "{}", "used_on": today - timedelta(days=31)},
                    {"key": "1" * 64, "marks": "{}", "used_on": today - timedelta(days=30)},
                ]
            )
        )
        db.session.commit()
    # A new process uses the stored patterns: they are marked used today.
    new_process()
    assert published(client) == first
    with app.app_context():
        assert patterns.prune(today) == 1
        db.session.commit()
    assert stored_keys(app) == used | {"1" * 64}

    # A process that has them in memory marks them used once on a new day, and a
    # pattern pruned meanwhile is stored again.
    tomorrow = today + timedelta(days=1)
    monkeypatch.setattr(patterns, "_today", lambda: tomorrow)
    with app.app_context():
        db.session.execute(update(TrendPattern).values(used_on=long_ago))
        db.session.execute(delete(TrendPattern).where(TrendPattern.key == sorted(used)[0]))
        db.session.commit()
    assert published(client) == first
    with app.app_context():
        assert patterns.prune(tomorrow) == 1  # the fake one only
        db.session.commit()
        dates = set(db.session.scalars(select(TrendPattern.used_on)))
    assert stored_keys(app) == used
    assert dates == {tomorrow}


def _count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(TrendPattern)) or 0)


def _run_job(app: Flask, now: datetime) -> int:
    """Ticks of the job until it has nothing to do; how many views it warmed."""
    calls = 0
    with app.app_context():
        while patterns.job(TickContext(now, "test")):
            db.session.commit()
            calls += 1
            assert calls <= len(patterns.views())
        db.session.commit()
    return calls


def test_the_daily_job_fills_patterns_for_the_first_visitor_and_is_idempotent(
    app, trends_org, with_incidents, monkeypatch
):
    with_incidents(14)
    client = Api(app, trends_org.amu)
    now = datetime.now(UTC)
    with app.app_context():
        stale = {"key": "2" * 64, "marks": "{}", "used_on": now.date() - timedelta(days=45)}
        db.session.execute(insert(TrendPattern).values(stale))
        db.session.commit()
    new_process()
    assert _run_job(app, now) == len(patterns.views())  # one view per tick
    filled = stored_keys(app)
    assert filled  # warmed
    assert "2" * 64 not in filled  # and the stale one pruned

    # Again the same day: nothing to do. The next day: everything is found stored.
    protections = Protections(monkeypatch)
    new_process()
    assert _run_job(app, now) == 0
    assert _run_job(app, now + timedelta(days=1)) == len(patterns.views())
    assert protections.calls == 0
    assert stored_keys(app) == filled

    # The first visitor of the day, in a fresh worker, protects nothing.
    new_process()
    published(client)
    assert protections.calls == 0
    assert stored_keys(app) == filled
