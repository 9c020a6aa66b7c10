"""What statistics keep: the index they need on reports (the report table is reporting's),
the rollup table the trends read (TrendCount), and the stored protection results
(TrendPattern).

Trends count reports per month, unit and anonymity, and join incident types to reports
by id: with these four columns in one index, PostgreSQL answers both from the index
alone (an index-only scan) instead of reading every report row with its sealed fields.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reporting.models import Report
from trygg.extensions import db

TRENDS_INDEX = Index(
    "ix_report_trends",
    Report.occurred_month,
    Report.unit_id,
    Report.channel_kind,
    Report.id,
)


class TrendCount(db.Model):  # type: ignore[name-defined]
    """Reports per (dimension, month, unit, anonymous, category): the trends' rollup.

    Written only by the triggers of migration 0020, in the transaction of every write to
    report, report_incident_type, case and deadline; read by risk/data.py. Dimension ''
    is the total; `category` is the raw class-S value ('' for none, yes/no for flags).
    Case and deadline dimensions count only reports with a case (resp. a first deadline
    of the kind); `unit_id` 0 is a report without a unit. `close_tenths` counts closed
    cases by whole tenths of a day to close, `close_org` the same organisation-wide (unit
    0, anonymous reports included): the median time to close.
    """

    __tablename__ = "trend_count"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class TrendPattern(db.Model):  # type: ignore[name-defined]
    """The suppression marks risk/statistics chose for one quarter's table (its totals,
    or one dimension): migration 0021, risk/patterns.py.

    `key` is the SHA-256 (hex) of the canonical JSON of what the protection depends on:
    the quarter's counts per base, the published tree, k and the algorithm's version. So
    a changed count is a new key, never a stale pattern. `marks` is JSON of the marks
    only (cells primary, secondary or hidden, hidden rows), no counts. `used_on`: the
    last day a process used it; unused for 30 days, it is pruned.
    """

    __tablename__ = "trend_pattern"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    marks: Mapped[str] = mapped_column(Text)
    used_on: Mapped[date] = mapped_column(Date, index=True)
