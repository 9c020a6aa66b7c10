"""Writing a batch of notification rows: a tick's large batch (COPY on PostgreSQL) and a
request's few rows skip an event already told, and a key repeated within the batch,
exactly as ON CONFLICT DO NOTHING does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from notifications.kinds import Kind
from notifications.rows import COPY_FROM
from notifications.service import Event, notify_many
from tests.concurrency import committed_app, two_writers_at_once
from tests.notifications.support import rows
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.roles import Role

# Characters that COPY's text format would escape, and its NULL marker: the stored
# value must come back as it was given, whatever the format.
AWKWARD = "\\ \t \n \r \\N"


def _subject(n: int) -> str:
    return AWKWARD if n == 2 else f"deadline:{n}"


def _events(count: int, recipients: list[int]) -> list[Event]:
    return [
        Event(
            Kind.DEADLINE_REMINDER,
            recipients,
            f"batch:{n}",
            f"/cases/{n}",
            _subject(n),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("size", [3, COPY_FROM + 50], ids=["a request's rows", "a tick's batch"])
def test_a_batch_skips_events_already_told_and_repeats_within_it(app, org, size):
    people = [org.handler.id, org.colleague.id]
    with app.app_context():
        assert notify_many(_events(2, people)) == 4
        db.session.commit()
        # The first two events again, and one event twice within the batch.
        again = _events(size, people)
        written = notify_many([*again, again[-1]])
        db.session.commit()
    assert written == 2 * (size - 2)
    stored = rows(app)
    assert len(stored) == 2 * size
    assert Counter(r.dedupe_key for r in stored).most_common(1)[0][1] == 1
    assert {r.user_id for r in stored} == set(people)
    by_key = {r.dedupe_key: r for r in stored}
    last = by_key[f"batch:{size - 1}:u{org.handler.id}"]
    assert (last.kind, last.link, last.subject) == (
        Kind.DEADLINE_REMINDER,
        f"/cases/{size - 1}",
        _subject(size - 1),
    )
    assert last.mail_state in ("pending", "digest", "skipped")
    assert last.created_at is not None
    assert by_key[f"batch:2:u{org.handler.id}"].subject == AWKWARD
    # The events after the first two went in in this batch (with COPY for a tick's).
    assert by_key[f"batch:2:u{org.colleague.id}"].created_at is not None
    assert last.attempts == 0


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Iterator[Flask]:
    yield from committed_app(make_app, scratch_database)


def test_two_ticks_writing_the_same_batch_at_once_store_each_row_once(race_app: Flask) -> None:
    """The second writer reads no stored keys (the first has not committed), so its COPY
    meets the first's rows in the unique index: it falls back to the insert that skips
    them, instead of failing the batch (real threads, a really committed database)."""
    with race_app.app_context():
        people = [
            accounts.create_user(
                email=f"p{n}@example.org",
                name=f"P {n}",
                roles=[Role.HANDLER],
                units=[],
                password="a-long-test-password-1",
                actor="test",
            ).id
            for n in range(2)
        ]
        db.session.commit()
    events = _events(COPY_FROM, people)
    errors = two_writers_at_once(race_app, lambda: notify_many(events))
    assert not errors, errors
    stored = rows(race_app)
    assert len(stored) == 2 * COPY_FROM
    assert len({r.dedupe_key for r in stored}) == 2 * COPY_FROM
