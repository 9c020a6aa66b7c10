"""The counts statistics start from, in SQL: the rollup `trend_count`, and the base
tables for what it does not keep.

Totals and every dimension's counts come from `trend_count` (risk/models.py), which the
triggers of migration 0020 keep exact in each writing transaction: one row per unit,
anonymous or not, month of the incident and category, so a request reads a few thousand
rows instead of grouping every report. The median time to close comes from its histogram
of closed cases in tenths of a day; overdue steps are read from cases and deadlines (not
a sum). Nothing sealed is read, and no row leaves the database: only counts. Anonymous
reports are counted at organisation level only (risk.statistics puts them there).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from handling.models import Case, Deadline
from reporting.codes import Channel
from reporting.models import Report
from risk.dimensions import Dimension, normalise
from risk.models import TrendCount
from trygg.extensions import db

Key = tuple[int | None, bool, date, str]
TOTAL_KEY = ""
# Sources the rollup keeps only for reports with a case (or a first deadline of the
# kind): the rest of the total is in the category a report without one falls in.
COMPLEMENTED = ("case", "deadline")


def _rows(dimension: str, start: date, end: date) -> Any:
    stmt = select(
        TrendCount.unit_id,
        TrendCount.anonymous,
        TrendCount.month,
        TrendCount.category,
        TrendCount.n,
    ).where(
        TrendCount.dimension == dimension,
        TrendCount.month >= start,
        TrendCount.month <= end,
        TrendCount.n != 0,
    )
    # Through the connection: plain rows, without the ORM's result machinery.
    return db.session.connection().execute(stmt).all()


def totals(start: date, end: date) -> dict[Key, int]:
    """Reports per (unit, anonymous, month)."""
    return {
        (u or None, bool(a), m, TOTAL_KEY): n for u, a, m, _c, n in _rows(TOTAL_KEY, start, end)
    }


def counts(
    dimension: Dimension, start: date, end: date, known: dict[Key, int] | None = None
) -> dict[Key, int]:
    """Reports per (unit, anonymous, month, category) of one dimension. `known`: the
    totals of a period covering this one, when the caller has read them already."""
    rows = _rows(dimension.code, start, end)
    if dimension.source == "type":  # codes as stored: nothing to map
        return {(u or None, bool(a), m, raw): n for u, a, m, raw, n in rows}
    out: dict[Key, int] = defaultdict(int)
    codes: dict[str, str] = {}
    for unit_id, anonymous, month, raw, n in rows:
        code = codes.get(raw)
        if code is None:
            code = codes[raw] = normalise(dimension, raw or None)
        out[unit_id or None, bool(anonymous), month, code] += n
    if dimension.source in COMPLEMENTED:
        _complement(out, dimension, start, end, known)
    return dict(out)


def _complement(
    out: dict[Key, int], dimension: Dimension, start: date, end: date, known: Any = None
) -> None:
    """Reports without a case (or without the deadline) into their category."""
    missing = "none" if dimension.source == "deadline" else normalise(dimension, None)
    kept: dict[tuple[int | None, bool, date], int] = defaultdict(int)
    for (unit_id, anonymous, month, _category), n in out.items():
        kept[unit_id, anonymous, month] += n
    every = totals(start, end) if known is None else known
    for (unit_id, anonymous, month, _t), total in every.items():
        if not start <= month <= end:
            continue
        rest = total - kept.get((unit_id, anonymous, month), 0)
        if rest:
            out[unit_id, anonymous, month, missing] += rest


def overdue_by_unit(unit_ids: set[int], now: Any) -> dict[int, int]:
    """Open follow-up deadlines past due, per unit of the report (not anonymous ones)."""
    stmt = (
        select(Report.unit_id, func.count())
        .join(Case, Case.report_id == Report.id)
        .join(Deadline, Deadline.case_id == Case.id)
        .where(
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at < now,
            Report.channel_kind != Channel.ANONYMOUS,
            Report.unit_id.in_(unit_ids),
        )
        .group_by(Report.unit_id)
    )
    return {int(unit_id): n for unit_id, n in db.session.execute(stmt) if unit_id is not None}


def overdue_everywhere(now: Any) -> int:
    """Open follow-up deadlines past due in the whole organisation, anonymous reports
    included (as in the organisation's trends): a count over the open deadlines' own
    index (ix_deadline_open), no report or case read."""
    stmt = (
        select(func.count())
        .select_from(Deadline)
        .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at < now)
    )
    return int(db.session.scalar(stmt) or 0)


# Migration 0020: closed cases per tenth of a day to close, per unit and organisation-wide.
CLOSE, CLOSE_ORG = "close_tenths", "close_org"


def close_counts(start: date, end: date, dimension: str = CLOSE) -> dict[Key, int]:
    """The rollup's closed cases per (unit, anonymous, month, tenths of a day to close);
    for CLOSE_ORG one unit, None, not anonymous."""
    return {(u or None, bool(a), m, c): n for u, a, m, c, n in _rows(dimension, start, end)}


def close_histograms(
    unit_ids: set[int] | None, start: date, end: date
) -> dict[int, dict[int, int]]:
    """Per year of the incident: closed cases per whole tenth of a day from opening to
    close (floored), from the rollup. `unit_ids` None: the whole organisation, anonymous
    reports included."""
    year = func.extract("year", TrendCount.month)
    where = [TrendCount.month >= start, TrendCount.month <= end]
    if unit_ids is None:  # the organisation's own rows: a few thousand, not one per case
        where.append(TrendCount.dimension == CLOSE_ORG)
    else:
        where += [TrendCount.dimension == CLOSE, TrendCount.unit_id.in_(unit_ids)]
        where.append(TrendCount.anonymous.is_(False))
    stmt = (
        select(year, TrendCount.category, func.sum(TrendCount.n))
        .where(*where)
        .group_by(year, TrendCount.category)
    )
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for y, tenths, n in db.session.connection().execute(stmt):
        if n:
            out[int(y)][int(tenths)] = int(n)
    return dict(out)


def close_sizes(start: date, end: date) -> dict[int, tuple[dict[int | None, int], int]]:
    """Per year of the incident: closed cases per unit (not anonymous ones), and in the
    whole organisation (anonymous reports included), from the rollup's histograms."""
    year = func.extract("year", TrendCount.month)
    where = [TrendCount.month >= start, TrendCount.month <= end, TrendCount.n != 0]
    per_unit = (
        select(year, TrendCount.unit_id, func.sum(TrendCount.n))
        .where(*where, TrendCount.dimension == CLOSE, TrendCount.anonymous.is_(False))
        .group_by(year, TrendCount.unit_id)
    )
    whole = (
        select(year, func.sum(TrendCount.n))
        .where(*where, TrendCount.dimension == CLOSE_ORG)
        .group_by(year)
    )
    units: dict[int, dict[int | None, int]] = defaultdict(dict)
    connection = db.session.connection()
    for y, unit_id, n in connection.execute(per_unit):
        units[int(y)][unit_id or None] = int(n or 0)
    out = {int(y): (units.get(int(y), {}), int(n or 0)) for y, n in connection.execute(whole)}
    for y, found in units.items():
        out.setdefault(y, (found, 0))
    return out


def close_times(
    unit_ids: set[int] | None, start: date, end: date
) -> dict[int, tuple[int, float | None]]:
    """Per year of the incident: closed cases and the median days from opening to close.

    From the rollup's histogram in tenths of a day: the median of the cases' buckets,
    each taken at its middle ((tenths + 0.5) / 10), so it is exact to a tenth of a day
    (within 0.05 of the median of the exact times; the page shows one decimal).
    `unit_ids` None: the whole organisation, anonymous reports included.
    """
    return {
        y: (sum(histogram.values()), median_of(histogram))
        for y, histogram in close_histograms(unit_ids, start, end).items()
    }


def median_of(histogram: dict[int, int]) -> float | None:
    """The median of the values (tenths + 0.5) / 10, each counted n times."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]  # the middle value's index (two when even)
    found: list[float] = []
    seen = 0
    for tenths in sorted(histogram):
        seen += histogram[tenths]
        while wanted and wanted[0] < seen:
            wanted.pop(0)
            found.append((tenths + 0.5) / 10)
    return sum(found) / 2
