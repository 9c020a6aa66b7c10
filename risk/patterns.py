"""Stored trend patterns: protection results kept in `trend_pattern` (migration 0021).

Protecting a quarter (risk/statistics/protect) is the dear part of a trends request the
first time a process sees that quarter: seconds for five years on a large organisation.
The result depends on the quarter's counts and nothing that changes by itself, so it is
kept by the SHA-256 of those counts (risk/statistics/stored.py) and any process reuses
it: `STORE` is what risk/service.py hands to publish(). A late report or a deletion
changes the counts, so the key; an old pattern is then simply no longer asked for, and
`prune` deletes patterns unused for `KEEP_DAYS`.

Only marks are stored (which cells are primary, secondary or hidden), never a count;
the published cells are rebuilt from the current counts, which have the same key.

`job` is the scheduler's daily `risk_trend_patterns`: it publishes every quarter of the
window by totals and by each dimension (protection covers the whole unit tree at once,
so this is every view anyone can open) so that the first visitor of the day finds them
stored, and prunes. One view per tick (a tick must not stall e-mail for minutes: from an
empty table, a million reports take about four minutes for all views). Guarded like the
trigger scan: a `risk_scan` row per view, claimed, once a day; running it again finds
everything stored and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from threading import Lock

from sqlalchemy import delete, select, update

from notifications.scheduler import TickContext, claim_rows
from risk.assessment.triggers import claim_scan, local_today
from risk.models import TrendPattern
from risk.statistics.stored import Marks
from trygg.database import insert_or_ignore
from trygg.extensions import db, utcnow

KEEP_DAYS = 30
JOB = "risk_trend_patterns"
SCAN = "trend_patterns"
# Keys this process has marked as used today; cleared when it grows past this.
_TOUCHED_MAX = 100_000


def _today() -> date:
    return utcnow().date()


class DatabasePatterns:
    """The `Stored` of risk.statistics on the `trend_pattern` table, in the current
    session's transaction (a request's, committed with it; a job's, by the tick)."""

    def __init__(self) -> None:
        self._touched: dict[str, date] = {}
        self._lock = Lock()

    def _mark_used(self, keys: list[str], today: date) -> None:
        with self._lock:
            if len(self._touched) > _TOUCHED_MAX:
                self._touched.clear()
            for key in keys:
                self._touched[key] = today

    def _used_today(self, key: str, today: date) -> bool:
        with self._lock:
            return self._touched.get(key) == today

    def lookup(self, keys: list[str]) -> Mapping[str, Marks]:
        """The stored marks of those keys there are; marks them used today."""
        found: dict[str, Marks] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = db.session.execute(
                select(TrendPattern.key, TrendPattern.marks).where(TrendPattern.key.in_(chunk))
            )
            for key, marks in rows:
                found[key] = json.loads(marks)
        if found:
            today = _today()
            _used_on(sorted(found), today)
            self._mark_used(list(found), today)
        return found

    def store(self, key: str, marks: Marks) -> None:
        """Keep a result; another process storing the same key at once is no error (the
        same counts give the same marks: the second insert finds the first's row)."""
        today = _today()
        row = {"key": key, "marks": json.dumps(marks, separators=(",", ":")), "used_on": today}
        with db.session.begin_nested():
            db.session.execute(insert_or_ignore(TrendPattern.__table__, key=["key"]).values(row))
        self._mark_used([key], today)

    def touch(self, key: str, marks: Callable[[], Marks]) -> None:
        """A result this process had in memory was used: mark it used today, at most
        once a day per key and process; store it again if it was pruned meanwhile."""
        today = _today()
        if self._used_today(key, today):
            return
        if not _used_on([key], today):
            there = db.session.scalar(select(TrendPattern.key).where(TrendPattern.key == key))
            if there is None:
                self.store(key, marks())
        self._mark_used([key], today)


def _used_on(keys: list[str], today: date) -> int:
    """Set `used_on` to today where it is earlier; how many rows changed.

    A row another transaction holds (it is marking it today as well) is skipped, not
    waited for: a request never waits on another's `used_on`, so marking cannot take
    part in a deadlock with the inserts of stored patterns.
    """
    due = select(TrendPattern.key).where(TrendPattern.key.in_(keys), TrendPattern.used_on < today)
    done = db.session.execute(
        update(TrendPattern)
        .where(TrendPattern.key.in_(claim_rows(due)))
        .values(used_on=today)
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


STORE = DatabasePatterns()


def prune(today: date | None = None) -> int:
    """Delete patterns unused for more than KEEP_DAYS; how many went."""
    limit = (today or _today()) - timedelta(days=KEEP_DAYS)
    done = db.session.execute(
        delete(TrendPattern)
        .where(TrendPattern.used_on < limit)
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def views() -> list[str]:
    """What the job warms, one per call: the totals ("") and each dimension."""
    from risk.dimensions import DIMENSIONS

    return ["", *DIMENSIONS]


def warm(view: str | None = None) -> int:
    """Publish every quarter of the window through STORE by totals (view "") or by one
    dimension, or (None) by both and every dimension: what is missing is protected and
    stored. How many views were published."""
    from risk import data, service
    from risk.dimensions import DIMENSIONS
    from risk.statistics import add_months, publish

    tree = service.current_tree()
    rules = service.rules()
    quarters = service.window()
    start, end = quarters[0], add_months(quarters[-1], 2)
    totals = data.totals(start, end)
    done = 0
    for code in views() if view is None else [view]:
        if not code:
            publish(tree, rules, quarters, totals, stored=STORE)
        else:
            dim = DIMENSIONS[code]
            counts = data.counts(dim, start, end, totals)
            dimension = (dim.code, dim.columns, dim.multi, counts)
            publish(tree, rules, quarters, totals, dimension, stored=STORE)
        done += 1
    return done


def job(ctx: TickContext) -> int:
    """The scheduler's daily job: warm one view that has not been warmed today (the
    totals first, which also prune), so a tick never protects more than one view.
    Returns 1 when it warmed one (the next tick does the next), 0 when all are done.

    Each view has its `risk_scan` row ("trend_patterns", "trend_patterns:<dimension>"),
    held locked while it is warmed: two tick processes never warm the same view at once
    (the second skips to the next), and a view done today is not done again.
    """
    today = local_today(ctx.now)
    for view in views():
        row, _made = claim_scan(f"{SCAN}:{view}" if view else SCAN, ctx.now - timedelta(days=1))
        if row is None or local_today(row.last_at) >= today:
            continue
        warm(view)
        if not view:
            prune(_today())
        row.last_at = ctx.now
        db.session.flush()
        return 1
    return 0
