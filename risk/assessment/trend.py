"""A risk item's incident trend: counts in its scope per ended quarter, published under
the trends module's rules, never a single incident.

The scope is a unit subtree and filters on class-S report columns; anonymous reports
are left out (statistics count them at organisation level only). A count is shown when
it is 0 or at least k; a count from 1 to k − 1 is hidden. Because the unit's totals are
public on the trends page, an item count is also hidden when the rest of the unit's
incidents that quarter (total − item) is from 1 to k − 1: otherwise the difference would
reveal a small number. The scope's unit must be one statistics publish on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from reporting.codes import Channel
from reporting.models import Report, ReportIncidentType
from risk import service as trends
from risk.assessment.models import Assessment, CaseLink, RiskItem
from risk.statistics import PRIMARY, SECONDARY, SHOWN, Bucket, Cell, add_months
from trygg import org
from trygg.extensions import db


def scope_unit(item: RiskItem, assessment: Assessment) -> int:
    return item.scope_unit_id or assessment.unit_id


def unit_conditions(unit_id: int) -> list[Any]:
    return [
        Report.unit_id.in_(sorted(org.subtree_ids(unit_id))),
        Report.channel_kind != Channel.ANONYMOUS,
    ]


def conditions(item: RiskItem, assessment: Assessment) -> list[Any]:
    """The item's incident scope as WHERE conditions on reports (the one definition)."""
    where = unit_conditions(scope_unit(item, assessment))
    if item.scope_types:
        where.append(
            Report.id.in_(
                select(ReportIncidentType.report_id).where(
                    ReportIncidentType.incident_type.in_(item.scope_types)
                )
            )
        )
    for column, values in (
        (Report.counterpart_category, item.scope_counterparts),
        (Report.place_type, item.scope_places),
        (Report.activity, item.scope_activities),
        (Report.time_band, item.scope_time_bands),
    ):
        if values:
            where.append(column.in_(values))
    if item.scope_lone_work is not None:
        where.append(Report.lone_work.is_(item.scope_lone_work))
    return where


def count_between(where: list[Any], first: date, last: date) -> int:
    """Reports matching `where` with the incident month from `first` to `last`."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Report)
            .where(*where, Report.occurred_month >= first, Report.occurred_month <= last)
        )
        or 0
    )


def _per_quarter(where: list[Any], first: date, last: date) -> dict[date, int]:
    rows = db.session.execute(
        select(Report.occurred_month, func.count())
        .where(*where, Report.occurred_month >= first, Report.occurred_month <= last)
        .group_by(Report.occurred_month)
    )
    out: dict[date, int] = {}
    for month, n in rows:
        quarter = date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)
        out[quarter] = out.get(quarter, 0) + n
    return out


@dataclass
class ItemTrend:
    rows: list[tuple[str, Cell]]
    k: int
    withheld: str | None = None


def protect(count: int, total: int, k: int) -> Cell:
    """The item's count as it may be published beside the unit's public total."""
    if 0 < count < k:
        return Cell(None, PRIMARY)
    if 0 < total - count < k:
        return Cell(None, SECONDARY)
    return Cell(count, SHOWN)


def item_trend(item: RiskItem, assessment: Assessment, quarters: int = 4) -> ItemTrend:
    k = trends.rules().k
    unit_id = scope_unit(item, assessment)
    tree = trends.current_tree()
    home = tree.home.get(unit_id)
    if home != unit_id:
        names = {u.id: u.name for u in org.all_units()}
        shown_in = None if home is None else names.get(home)
        return ItemTrend(
            [], k, trends.withheld_message(tree.reason.get(unit_id, "small"), shown_in)
        )
    window = trends.window()[-quarters:]
    first, last = window[0], add_months(window[-1], 2)
    mine = _per_quarter(conditions(item, assessment), first, last)
    totals = _per_quarter(unit_conditions(unit_id), first, last)
    rows = [
        (
            trends.bucket_label(Bucket("quarter", q)),
            protect(mine.get(q, 0), totals.get(q, 0), k),
        )
        for q in window
    ]
    return ItemTrend(rows, k)


def linked_cases(assessment: Assessment, ref: int) -> Cell:
    """How many cases handlers linked to the item: a count, hidden from 1 to k − 1."""
    n = int(
        db.session.scalar(
            select(func.count()).where(
                CaseLink.assessment_id == assessment.id, CaseLink.item_ref == ref
            )
        )
        or 0
    )
    k = trends.rules().k
    return Cell(None, PRIMARY) if 0 < n < k else Cell(n, SHOWN)
