"""The scheduler's daily run: once a day whatever the processes; the 30-day warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handling.service import add_duration
from notifications.models import Notification
from notifications.scheduler import tick
from retention.models import RetentionDay, Tombstone
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case
from trygg.extensions import db, utcnow

OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def world(app):
    return build_world(app)


def warnings(user_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user_id, Notification.kind == "retention_warning"
            )
        )
    )


def test_handlers_are_warned_once_in_their_digest_within_the_last_30_days(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "WARN", handler=handler, reporter=reporter)
    due = add_duration(utcnow(), 120, "months")
    with app.app_context():
        tick(owner="a", now=due - timedelta(days=40))
        assert warnings(world.handler.id) == []
        tick(owner="a", now=due - timedelta(days=20))
        tick(owner="b", now=due - timedelta(days=19))
        rows = warnings(world.handler.id)
        # One row, sent in the handler's daily digest e-mail (not an e-mail of its own).
        assert [r.link for r in rows] == [f"/cases/{case_id}"]
        assert rows[0].mail_key.startswith(f"digest:u{world.handler.id}:")
        assert warnings(world.employee.id) == []
    r = handler.get(f"/api/v1/cases/{case_id}/retention")
    assert r.status_code == 200
    assert r.get_json()["delete_on"].startswith(due.date().isoformat())


def test_the_run_deletes_once_a_day_whichever_process_ticks(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    first, _, ref1 = marked_case(app, world, "ONE", handler=handler, reporter=reporter)
    later = add_duration(utcnow(), 121, "months")
    with app.app_context():
        result = tick(owner="host-a:1", now=later)
        assert result.jobs["retention"] == 1
        day = db.session.scalars(select(RetentionDay)).one()
        assert (day.owner, day.deleted) == ("host-a:1", 1)
    # A case due later the same day waits for tomorrow's run, whoever ticks.
    second, _, ref2 = marked_case(app, world, "TWO", handler=handler, reporter=reporter)
    with app.app_context():
        db.session.execute(
            db.text('UPDATE "case" SET closed_at = :t WHERE id = :id'),
            {"t": utcnow() - timedelta(days=20 * 366), "id": second},
        )
        db.session.commit()
        assert tick(owner="host-b:2", now=later + timedelta(minutes=1)).jobs["retention"] == 0
        assert tick(owner="host-a:1", now=later + timedelta(days=1)).jobs["retention"] == 1
        references = set(db.session.scalars(select(Tombstone.reference)))
        assert references == {ref1, ref2}
        assert db.session.scalar(select(func.count()).select_from(RetentionDay)) == 2
    assert handler.get(f"/api/v1/cases/{first}").status_code == 404


def test_a_long_run_stops_when_the_tick_is_over_and_goes_on_in_the_next(app, world):
    """A backlog of due cases (the first run on an old database) is deleted a tick's
    time at a time: the tick ends and sends its e-mails; the day is marked only when
    nothing due is left."""
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    refs = {marked_case(app, world, name, handler=handler, reporter=reporter)[2] for name in "AB"}
    later = add_duration(utcnow(), 121, "months")
    with app.app_context():
        # No time at all: one case (a job always does some work), no mark for the day.
        assert tick(owner="a", now=later, budget=0).jobs["retention"] == 1
        assert db.session.scalar(select(func.count()).select_from(RetentionDay)) == 0
        assert db.session.scalar(select(func.count()).select_from(Tombstone)) == 1
        # The next tick, with its time, finishes the day.
        assert tick(owner="a", now=later + timedelta(seconds=30)).jobs["retention"] == 1
        # The day's mark counts both ticks' deletions, not only the last one's.
        assert db.session.scalars(select(RetentionDay.deleted)).one() == 2
        assert set(db.session.scalars(select(Tombstone.reference))) == refs


def test_the_second_day_of_a_month_counts_its_own_deletion(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    marked_case(app, world, "ONE", handler=handler, reporter=reporter)
    later = add_duration(utcnow(), 122, "months").astimezone(OSLO)
    # The run starts at the first tick after Oslo midnight (UTC is still yesterday).
    first = datetime(later.year, later.month, 1, 0, 10, tzinfo=OSLO).astimezone(UTC)
    with app.app_context():
        assert tick(owner="a", now=first).jobs["retention"] == 1
    second, _, _ = marked_case(app, world, "TWO", handler=handler, reporter=reporter)
    with app.app_context():
        db.session.execute(
            db.text('UPDATE "case" SET closed_at = :t WHERE id = :id'),
            {"t": utcnow() - timedelta(days=20 * 366), "id": second},
        )
        db.session.commit()
        assert tick(owner="a", now=first + timedelta(days=1)).jobs["retention"] == 1
        marks = dict(db.session.execute(select(RetentionDay.day, RetentionDay.deleted)).all())
    # One case was deleted on each day (the first day's run counted in Oslo's month, not
    # UTC's, which was still the last one).
    assert sorted(marks.values()) == [1, 1], marks
