"""A risk item's incident trend: counts in its scope per ended quarter, never a single
incident, and nothing the trends page does not publish.

The scope is a unit subtree and filters on class-S report columns; anonymous reports
are left out (statistics count them at organisation level only, so a unit's trends
cells leave them out too). A manager writes scopes freely, and two items' counts can be
subtracted: places "front desk" and "front desk or patient room" differ by the patient
rooms' count, however large each is. Checking each count, or each pair of counts, is
not enough (scopes a + b, b + c and a + b + c give b by inclusion–exclusion while every
pairwise difference is large). So an item's count is published only when it is one of
the trends page's protected cells, or a sum of them:

- a scope with no filter is the unit's total for the quarter;
- a scope filtering on one field (type, who it came from, place, activity, time of day
  or working alone) is the sum of that breakdown's cells for its categories (one type
  only: a report can have several types, so several types are no sum of cells);
- the sum is shown when every cell in it is shown, and otherwise hidden
  (risk.statistics.closing.combine);
- any other scope (filters on two fields or more, several types) gets no counts and
  says why.

Every count an item shows is then a shown trends cell or a sum of shown trends cells
(risk.statistics protects those against every combination with each other and with
the totals), so items, however many and however scoped, let no one work out anything
the trends page hides. The scope's unit must be one statistics publish on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import g, has_request_context
from sqlalchemy import func, select

from reporting.codes import Channel
from reporting.models import Report, ReportIncidentType
from risk import data, patterns
from risk import service as trends
from risk.assessment.models import Assessment, CaseLink, RiskItem
from risk.dimensions import DIMENSIONS, NOT_GIVEN
from risk.statistics import PRIMARY, SHOWN, Bucket, Cell, Publication, add_months, publish
from risk.statistics.closing import combine
from trygg import org
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l


def scope_unit(item: RiskItem, assessment: Assessment) -> int:
    return item.scope_unit_id or assessment.unit_id


def published_alone(item: RiskItem, assessment: Assessment, tree: Any) -> bool:
    """Whether the item's scope unit is published on its own in the unit `tree`
    (`risk.service.current_tree`): a unit too small is shown only inside its parent, and
    its items show no trend and set off no trigger (they would point at its people)."""
    unit_id = scope_unit(item, assessment)
    return bool(tree.home.get(unit_id) == unit_id)


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


@dataclass
class ItemTrend:
    rows: list[tuple[str, Cell]]
    k: int
    withheld: str | None = None


# The item's scope fields and the trends breakdown of each (risk.dimensions).
SCOPE_FIELDS = (
    ("type", "scope_types"),
    ("counterpart", "scope_counterparts"),
    ("place", "scope_places"),
    ("activity", "scope_activities"),
    ("time_band", "scope_time_bands"),
)

NOT_A_TRENDS_CELL = _l(
    "Not shown for this scope: counts are shown for the whole unit, or for a scope on "
    "one field only (and one type of incident), as the trends page counts them. Other "
    "scopes could be compared with each other to reveal a small number, so no rise in "
    "them sets off a re-assessment either."
)


def trends_cells(item: RiskItem) -> tuple[str, list[str]] | None:
    """The trends cells the item's count is the sum of: the dimension's code ("" for the
    unit's total) and its categories; None when it is no such sum (module docstring)."""
    chosen = [
        (code, sorted(set(getattr(item, name))))
        for code, name in SCOPE_FIELDS
        if getattr(item, name)
    ]
    if item.scope_lone_work is not None:
        chosen.append(("lone_work", ["yes" if item.scope_lone_work else "no"]))
    if not chosen:
        return data.TOTAL_KEY, []
    if len(chosen) > 1:
        return None
    code, values = chosen[0]
    dimension = DIMENSIONS[code]
    if dimension.multi and len(values) > 1:
        return None
    if any(v == NOT_GIVEN or v not in dimension.categories for v in values):
        return None
    return code, values


def _publication(code: str, quarters: list[date]) -> Publication:
    """The trends publication of these quarters by `code` ("" for totals only), once per
    request for all the items that need it (the protection itself is cached as the
    trends page's: risk.statistics)."""
    memo: dict[tuple[str, tuple[date, ...]], Publication] = {}
    if has_request_context():
        memo = g.setdefault("risk_item_publications", {})
    key = (code, tuple(quarters))
    found = memo.get(key)
    if found is None:
        start, end = quarters[0], add_months(quarters[-1], 2)
        totals = data.totals(start, end)
        dimension = None
        if code:
            dim = DIMENSIONS[code]
            dimension = (dim.code, dim.columns, dim.multi, data.counts(dim, start, end, totals))
        tree = trends.current_tree()
        found = publish(tree, trends.rules(), quarters, totals, dimension, None, patterns.STORE)
        memo[key] = found
    return found


def item_trend(item: RiskItem, assessment: Assessment, quarters: int = 4) -> ItemTrend:
    k = trends.rules().k
    unit_id = scope_unit(item, assessment)
    tree = trends.current_tree()
    home = tree.home.get(unit_id)
    if not published_alone(item, assessment, tree):
        names = {u.id: u.name for u in org.all_units()}
        shown_in = None if home is None else names.get(home)
        return ItemTrend(
            [], k, trends.withheld_message(tree.reason.get(unit_id, "small"), shown_in)
        )
    cells = trends_cells(item)
    if cells is None:
        return ItemTrend([], k, str(NOT_A_TRENDS_CELL))
    code, categories = cells
    window = trends.window()[-quarters:]
    pub = _publication(code, window)
    rows = []
    for q in window:
        bucket = Bucket("quarter", q)
        if code:
            cell = combine(pub.cell(unit_id, bucket, c) for c in categories)
        else:
            cell = pub.total(unit_id, bucket)
        rows.append((trends.bucket_label(bucket), cell))
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
