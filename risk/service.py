"""Trends: what a viewer asked for, in their scope, published through risk.statistics.

Views, exports and the API call `trend_table()`; it checks the scope, loads counts
(risk.data) and lets risk.statistics decide what may be shown. Nothing here decrypts
anything or reads a single report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context
from flask_babel import format_date

from handling.states import CaseState
from risk import data, patterns
from risk.dimensions import DEADLINE_DIMENSIONS, DIMENSIONS, Dimension
from risk.scope import Scope, all_units, entry_units, node_name, own_units, scope_of
from risk.statistics import (
    ORG,
    Bucket,
    Cell,
    Publication,
    Rules,
    Tree,
    UnitRow,
    add_months,
    closing,
    publish,
    quarter_of,
    tree_for,
)
from trygg import org
from trygg.accounts.models import User
from trygg.i18n import lazy_gettext as _l

PERIODS = ("month", "quarter")
# The state groups of a case with a close time: the cases time to close counts.
CLOSED = (CaseState.CLOSED, CaseState.DROPPED)
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")


class TrendsError(Exception):
    """A trends request was refused; `field` names the parameter, the message says why."""

    def __init__(self, message: object, field: str = "_request", status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class OutOfScope(TrendsError):
    """The unit is not in the viewer's scope (answered as not found)."""

    def __init__(self) -> None:
        super().__init__(_l("Not found."), "unit", 404)


def rules() -> Rules:
    return Rules(k=int(current_app.config["TRYGG"]["trends_k"]))


def unit_rows() -> list[UnitRow]:
    return [UnitRow(u.id, u.parent_id, u.headcount) for u in all_units()]


def current_tree() -> Tree:
    """The published unit tree (once per request: the page and the API ask twice)."""
    found: Tree | None = g.get("risk_tree") if has_request_context() else None
    if found is None:
        found = tree_for(unit_rows(), rules())
        if has_request_context():
            g.risk_tree = found
    return found


def today() -> date:
    zone = ZoneInfo(str(current_app.config["TRYGG"]["timezone"]))
    return datetime.now(zone).date()


def window(on: date | None = None) -> list[date]:
    """The quarters statistics may show: ended ones, at most `trends_max_months` back."""
    last = add_months(quarter_of(on or today()), -3)
    count = max(1, int(current_app.config["TRYGG"]["trends_max_months"]) // 3)
    return [add_months(last, -3 * i) for i in range(count - 1, -1, -1)]


# -- the request ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendQuery:
    node: int
    period: str
    first: date
    last: date
    by: Dimension | None


def bucket_code(bucket: Bucket) -> str:
    if bucket.kind == "quarter":
        return f"{bucket.start.year}-Q{(bucket.start.month - 1) // 3 + 1}"
    return f"{bucket.start.year}-{bucket.start.month:02d}"


def parse_bucket(text: str, period: str, name: str, *, end: bool = False) -> date:
    """A bucket code as the first day of the month it stands for; TrendsError if not.

    Either kind is taken in either period (the form keeps its months when "Per" is
    switched to quarters): by quarter, a month (2026-09) stands for its quarter; by
    month, a quarter (2026-Q3) for its first month, or, as the end of a range (`end`),
    its last."""
    found = QUARTER_RE.match(text)
    if found:
        first = date(int(found[1]), 3 * int(found[2]) - 2, 1)
        return add_months(first, 2) if end and period != "quarter" else first
    found = MONTH_RE.match(text)
    if found and 1 <= int(found[2]) <= 12:
        month = date(int(found[1]), int(found[2]), 1)
        return quarter_of(month) if period == "quarter" else month
    if period == "quarter":
        raise TrendsError(_l("Give a quarter like 2026-Q1."), name)
    raise TrendsError(_l("Give a month like 2026-03."), name)


def resolve(
    user: User,
    *,
    unit: int | None,
    period: str,
    first: str | None,
    last: str | None,
    by: str | None,
) -> tuple[TrendQuery, Scope, Tree]:
    """Check a request against the viewer's scope and the time window."""
    tree = current_tree()
    scope = scope_of(user, tree)
    if scope.default is None and unit is None:
        raise OutOfScope()
    node = scope.default if unit is None else unit
    assert node is not None  # noqa: S101 - both None was refused above
    if node not in scope.nodes:
        _refuse_withheld(node, tree, scope)
    if period not in PERIODS:
        raise TrendsError(_l("Choose month or quarter."), "period")
    dimension = None
    if by:
        dimension = DIMENSIONS.get(by)
        if dimension is None:
            raise TrendsError(_l("Choose a breakdown from the list."), "by")
    quarters = window()
    start_q, end_q = quarters[0], quarters[-1]
    default_first = add_months(end_q, -21 if period == "quarter" else -9)
    start = parse_bucket(first, period, "from") if first else max(start_q, default_first)
    end = parse_bucket(last, period, "to", end=True) if last else end_q
    if period == "quarter" or not last:
        end = add_months(quarter_of(end) if period == "quarter" else end, 2)
    if start < start_q or end > add_months(end_q, 2):
        raise TrendsError(
            _l(
                "Statistics cover whole quarters that have ended, from %(first)s to %(last)s.",
                first=format_date(start_q, "MMMM y"),
                last=format_date(add_months(end_q, 2), "MMMM y"),
            ),
            "from" if start < start_q else "to",
        )
    if end < start:
        raise TrendsError(_l("The end of the period comes before its start."), "to")
    return TrendQuery(node, period, start, end, dimension), scope, tree


def _refuse_withheld(node: int, tree: Tree, scope: Scope) -> None:
    """A unit in the viewer's units that is shown only inside its parent is refused with
    the reason; any other unit answers as not found."""
    names = {u.id: u.name for u in all_units()}
    name = names.get(node)
    if name is not None and name in scope.withheld:
        reason, shown_in = scope.withheld[name]
        raise TrendsError(withheld_message(reason, shown_in), "unit")
    home = tree.home.get(node)
    if name is not None and home in scope.nodes:
        reason = tree.reason.get(node, "small")
        raise TrendsError(withheld_message(reason, node_name(home, names)), "unit")
    raise OutOfScope()


def withheld_message(reason: str, shown_in: str | None) -> str:
    if reason == "differencing":
        text = _l(
            "This unit is shown only as part of the unit above it: the rest of that unit "
            "has fewer people than statistics may show, so comparing the two would reveal "
            "a small group."
        )
    else:
        text = _l("This unit has too few people for its own statistics.")
    if shown_in:
        counted = _l("Its incidents are counted in %(unit)s.", unit=shown_in)
        return f"{text} {counted}"
    return str(text)


# -- the table --------------------------------------------------------------------------


@dataclass
class Row:
    bucket: Bucket
    code: str
    label: str
    total: Cell
    last_year: Cell | None
    rate: float | None
    average: float | None
    cells: list[Cell] = field(default_factory=list)
    share_in_time: float | None = None


@dataclass
class TrendTable:
    query: TrendQuery
    node_name: str
    population: int
    k: int
    categories: list[tuple[str, str]]
    rows: list[Row]
    close_times: list[tuple[int, Cell, float | None]]

    @property
    def dimension(self) -> Dimension | None:
        return self.query.by


def bucket_label(bucket: Bucket) -> str:
    if bucket.kind == "quarter":
        quarter = (bucket.start.month - 1) // 3 + 1
        return str(_l("Q%(q)s %(year)s", q=quarter, year=bucket.start.year))
    return format_date(bucket.start, "MMM y")


def _quarters_for(query: TrendQuery) -> list[date]:
    first = add_months(quarter_of(query.first), -12)
    quarters = []
    q = max(first, window()[0])
    while q <= quarter_of(query.last):
        quarters.append(q)
        q = add_months(q, 3)
    return quarters


def publication(query: TrendQuery, tree: Tree, quarters: list[date]) -> Publication:
    """Counts for these quarters through risk.statistics (cached per quarter, in the
    process and in `trend_pattern`: risk/patterns.py).

    The breakdown is read and protected only for the quarters the table shows; the
    year before them gives totals only (same period last year, the 3-month average).
    """
    start, end = quarters[0], add_months(quarters[-1], 2)
    totals = data.totals(start, end)
    dim = query.by
    dimension, shown = None, None
    if dim is not None:
        shown = {q for q in quarters if q >= quarter_of(query.first)}
        first_shown = min(shown, default=quarters[-1])
        counts = data.counts(dim, first_shown, end, totals)
        dimension = (dim.code, dim.columns, dim.multi, counts)
    return publish(tree, rules(), quarters, totals, dimension, shown, patterns.STORE)


def trend_table(query: TrendQuery, tree: Tree) -> TrendTable:
    """The published table for a checked query (see resolve)."""
    names = {u.id: u.name for u in all_units()}
    pub = publication(query, tree, _quarters_for(query))
    population = tree.population.get(query.node, 0)
    buckets = [b for b in pub.buckets(query.period) if query.first <= b.start <= query.last]
    dim = query.by
    rows = []
    for bucket in buckets:
        total = pub.total(query.node, bucket)
        earlier = Bucket(bucket.kind, add_months(bucket.start, -12))
        last_year = (
            pub.total(query.node, earlier) if earlier.quarter_start in pub.quarters else None
        )
        cells = [pub.cell(query.node, bucket, c) for c in dim.columns] if dim else []
        rows.append(
            Row(
                bucket,
                bucket_code(bucket),
                bucket_label(bucket),
                total,
                last_year,
                _rate(total, population),
                _average(pub, query.node, bucket) if bucket.kind == "month" else None,
                cells,
                _share(dim, cells),
            )
        )
    categories = [(c, dim.category_label(c)) for c in dim.columns] if dim else []
    return TrendTable(
        query,
        node_name(query.node, names),
        population,
        rules().k,
        categories,
        rows,
        # With the state of cases: how long cases take to close.
        _close_times(query, tree) if dim is not None and dim.code == "state" else [],
    )


def _rate(total: Cell, population: int) -> float | None:
    if total.count is None or not population:
        return None
    return round(total.count * 100 / population, 1)


def _average(pub: Publication, node: int, bucket: Bucket) -> float | None:
    """The mean of this month and the two before, when all three are shown."""
    values = []
    for back in range(3):
        earlier = Bucket("month", add_months(bucket.start, -back))
        if earlier.quarter_start not in pub.quarters:
            return None
        cell = pub.total(node, earlier)
        if cell.count is None:
            return None
        values.append(cell.count)
    return round(sum(values) / 3, 1)


def _share(dim: Dimension | None, cells: list[Cell]) -> float | None:
    """Share done in time, for a deadline dimension, when every count it needs is shown."""
    if dim is None or dim.code not in DEADLINE_DIMENSIONS:
        return None
    by_code = dict(zip(dim.columns, cells, strict=True))
    needed = [by_code[c] for c in ("in_time", "late", "not_done")]
    if any(c.count is None for c in needed):
        return None
    done = sum(c.count or 0 for c in needed)
    return round(100 * (by_code["in_time"].count or 0) / done) if done else None


def _close_times(query: TrendQuery, tree: Tree) -> list[tuple[int, Cell, float | None]]:
    """Closed cases and the median days to close per year of the incident, each year a
    fixed block of the window's quarters whatever the query's months (the rules are in
    risk/statistics/closing.py). Years without closed cases are left out."""
    k = rules().k
    blocks = closing.year_blocks(window())
    years = [
        y
        for y, qs in blocks.items()
        if qs[0] <= query.last and add_months(qs[-1], 2) >= query.first
    ]
    if not years:
        return []
    quarters = [q for y in years for q in blocks[y]]
    start, end = quarters[0], add_months(quarters[-1], 2)
    state = DIMENSIONS["state"]
    totals = data.totals(start, end)
    counts = data.counts(state, start, end, totals)
    dimension = (state.code, state.columns, state.multi, counts)
    pub = publish(tree, rules(), quarters, totals, dimension, None, patterns.STORE)
    units = None
    if query.node != ORG:
        units = {u for u, home in tree.home.items() if home in tree.subtree(query.node)}
    medians = data.close_times(units, start, end)
    sizes = data.close_sizes(start, end)
    out = []
    for year in years:
        closed = closing.combine(
            pub.cell(query.node, Bucket("quarter", q), c) for q in blocks[year] for c in CLOSED
        )
        if closed.count == 0:
            continue
        n, median = medians.get(year, (0, None))
        per_unit, whole = sizes.get(year, ({}, 0))
        shown = (
            closed.count is not None
            and closed.count == n
            and median is not None
            and closing.median_allowed(
                tree, query.node, closing.node_sizes(tree, per_unit, whole), k
            )
        )
        out.append((year, closed, round(median, 1) if shown and median is not None else None))
    return out


# -- the manager's front page -----------------------------------------------------------


@dataclass
class Glance:
    """One of a manager's or safety representative's units on their front page."""

    unit_id: int
    name: str
    rows: list[Row] | None
    withheld: str | None
    # Open follow-up deadlines past due: None for a unit too small to be shown on its
    # own (the count would point at someone as surely as a trend cell would).
    overdue: int | None
    k: int


def glance(user: User) -> list[Glance]:
    """Each unit the user leads or represents, when it is published on its own: its last
    four quarters by month and its open follow-up steps past their deadline (a count
    under k shown as "fewer than k", like a trend cell); else why it is not shown. For
    the working environment committee and the admins, who see the whole organisation's
    statistics, the whole organisation."""
    whole, units = entry_units(user)
    if whole:
        # A committee member who also leads or represents units sees those after it.
        units = [ORG, *own_units(user)]
    if not units:
        return []
    tree = current_tree()
    end_q = window()[-1]
    names = {u.id: u.name for u in all_units()}
    # Past their deadline before today: a deadline falls a fixed time after its report
    # was sent, so a count that grew the minute one passed would tell when (and so by
    # whom) a report of the unit was sent. Counted so, it changes by the day.
    zone = ZoneInfo(str(current_app.config["TRYGG"]["timezone"]))
    before = datetime.combine(today(), time(), tzinfo=zone)
    out = []
    for unit_id in units:
        rows, withheld, overdue = None, None, None
        if unit_id == ORG:
            overdue = data.overdue_everywhere(before)
        elif tree.home.get(unit_id) == unit_id:
            overdue = sum(data.overdue_by_unit(org.subtree_ids(unit_id), before).values())
        if overdue is not None:  # published on its own
            query = TrendQuery(unit_id, "month", add_months(end_q, -9), add_months(end_q, 2), None)
            rows = trend_table(query, tree).rows
        else:
            shown_in = tree.home.get(unit_id)
            withheld = withheld_message(
                tree.reason.get(unit_id, "small"),
                None if shown_in in (None, ORG) else names.get(shown_in),
            )
        out.append(Glance(unit_id, node_name(unit_id, names), rows, withheld, overdue, rules().k))
    return out
