"""The trends' counts straight from reports and cases: what the rollup must equal.

The same figures as risk/data.py reads from `trend_count`, grouped from the base tables
by unit, anonymous or not, month of the incident and one category. The rollup's tests
compare the two; nothing else reads these (they scan every report in the window).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.sql import ColumnElement, Select

from handling.models import Case, Deadline
from reporting.codes import Channel
from reporting.models import Report, ReportIncidentType
from risk.dimensions import Dimension, normalise
from trygg.extensions import db

Key = tuple[int | None, bool, date, str]
TOTAL_KEY = ""


ANONYMOUS = (Report.channel_kind == Channel.ANONYMOUS).label("anonymous")


def _grouped(category: Any, start: date, end: date) -> Select[Any]:
    """count(*) per unit, anonymous, month (and `category`) of reports in the window."""
    keys: list[Any] = [Report.unit_id, ANONYMOUS, Report.occurred_month]
    if category is not None:
        keys.append(category)
    return (
        select(*keys, func.count())
        .where(Report.occurred_month >= start, Report.occurred_month <= end)
        .group_by(*keys)
    )


def totals(start: date, end: date) -> dict[Key, int]:
    """Reports per (unit, anonymous, month)."""
    stmt = _grouped(None, start, end)
    return {(u, bool(a), m, TOTAL_KEY): n for u, a, m, n in db.session.execute(stmt)}


def counts(dimension: Dimension, start: date, end: date) -> dict[Key, int]:
    """Reports per (unit, anonymous, month, category) of one dimension."""
    rows = db.session.execute(_statement(dimension, start, end)).all()
    if dimension.source == "type":  # codes as stored, one row per group: nothing to map
        return {(u, bool(a), m, raw): n for u, a, m, raw, n in rows}
    out: dict[Key, int] = defaultdict(int)
    for unit_id, anonymous, month, raw, n in rows:
        out[unit_id, bool(anonymous), month, normalise(dimension, raw)] += n
    return dict(out)


def _statement(dimension: Dimension, start: date, end: date) -> Select[Any]:
    if dimension.source == "type":
        return _grouped(ReportIncidentType.incident_type, start, end).join(
            ReportIncidentType, ReportIncidentType.report_id == Report.id
        )
    if dimension.source == "cause":
        return _causes(start, end)
    if dimension.source == "case":
        column: ColumnElement[Any] = getattr(Case, dimension.column)
        return _grouped(column, start, end).join(Case, Case.report_id == Report.id, isouter=True)
    if dimension.source == "deadline":
        return _deadline_outcomes(dimension.column, start, end)
    return _grouped(getattr(Report, dimension.column), start, end)


def _causes(start: date, end: date) -> Select[Any]:
    """One row per presumed cause (a JSON list on the report); "none" for an empty list."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        element = func.json_array_elements_text(Report.causes).table_valued("value")
    else:
        element = func.json_each(Report.causes).table_valued("value")
    listed = _grouped(element.c.value, start, end).select_from(Report).join(element, literal(True))
    empty = _grouped(literal("none"), start, end).where(func.json_array_length(Report.causes) == 0)
    return select(listed.union_all(empty).subquery())


def _deadline_outcomes(kind: str, start: date, end: date) -> Select[Any]:
    """Per case, how its first deadline of `kind` went: in time, late, not done, none."""
    first = (
        select(func.min(Deadline.id))
        .where(Deadline.case_id == Case.id, Deadline.kind == kind)
        .correlate(Case)
        .scalar_subquery()
    )
    outcome = case(
        (Deadline.id.is_(None), "none"),
        (and_(Deadline.met_at.is_not(None), Deadline.met_at <= Deadline.due_at), "in_time"),
        (Deadline.met_at.is_not(None), "late"),
        else_="not_done",
    )
    return (
        _grouped(outcome, start, end)
        .join(Case, Case.report_id == Report.id, isouter=True)
        .join(Deadline, Deadline.id == first, isouter=True)
    )


# -- time to close: the reference for the rollup's histogram and median ------------------


def _closed(unit_ids: set[int] | None, start: date, end: date) -> Select[Any]:
    where = [Case.closed_at.is_not(None), Report.occurred_month >= start]
    where.append(Report.occurred_month <= end)
    if unit_ids is not None:
        where += [Report.unit_id.in_(unit_ids), Report.channel_kind != Channel.ANONYMOUS]
    keys: list[Any] = [Report.unit_id, ANONYMOUS, Report.occurred_month, Case.opened_at]
    keys.append(Case.closed_at)
    return select(*keys).join(Case, Case.report_id == Report.id).where(*where)


TENTH = timedelta(days=1) / 10


def close_histogram(start: date, end: date) -> dict[Key, int]:
    """Closed cases per (unit, anonymous, month, tenths of a day to close, floored)."""
    out: dict[Key, int] = defaultdict(int)
    for unit_id, anonymous, month, opened, closed in db.session.execute(_closed(None, start, end)):
        out[unit_id, bool(anonymous), month, str((closed - opened) // TENTH)] += 1
    return dict(out)


def close_times(
    unit_ids: set[int] | None, start: date, end: date
) -> dict[int, tuple[int, float | None]]:
    """Per year of the incident: closed cases and the exact median days to close.

    `unit_ids` None: the whole organisation, anonymous reports included.
    """
    per_year: dict[int, list[float]] = defaultdict(list)
    for _u, _a, month, opened, closed in db.session.execute(_closed(unit_ids, start, end)):
        per_year[month.year].append((closed - opened).total_seconds() / 86400)
    out: dict[int, tuple[int, float | None]] = {}
    for y, values in per_year.items():
        values.sort()
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        out[y] = (len(values), median)
    return out
