"""The one statistics module: every page, chart, export and API call goes through here.

`publish()` turns counts into cells that identify no one (DOMAIN.md, "Statistics that
identify no one"):

- primary suppression: a count from 1 to k − 1 is marked "primary" and shown as "<k"
  (k is the setting `trends_k`, default 5, never below 3);
- secondary suppression: further cells are hidden so that no hidden count can be worked
  out from what is shown, with the margins (protect/ says how, and why it holds);
- units with fewer than k people appear only inside their parent, and a unit is merged
  into its parent when the rest of the parent would be fewer than k people
  (population.py: the differencing guard);
- time only in whole calendar quarters and their months, published once the quarter has
  ended (a quarter's months are protected together with the quarter, so a month's cells
  never change pattern as the quarter fills up), never free date ranges;
- nothing else: no free text, no single incidents, nothing finer than a month.

Anonymous reports count only at organisation level (node ORG). Time to close is
published in fixed yearly blocks from the state cells (closing.py). The result for each
quarter is cached by the quarter's counts, so a change to the data recomputes it: in the
process (CACHE), and, given a `Stored` (risk/patterns.py), in the database by a SHA-256
of the counts (stored.py), so a new process reuses what another one protected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from risk.statistics.caching import (
    CACHE as CACHE,  # the tests empty it
)
from risk.statistics.caching import (
    Plan,
    RawCounts,
    digest,
    lookup,
    plan_dimension,
    plan_totals,
    resolve,
)
from risk.statistics.population import ORG, Tree, UnitRow, build_tree
from risk.statistics.protect import (
    HIDDEN,
    PRIMARY,
    QUARTER,
    SECONDARY,
    SHOWN,
    TOTAL,
    QuarterCounts,
    TotalsPattern,
    protect_dimension,
    protect_totals,
)
from risk.statistics.stored import (
    Marks,
    Stored,
    decode_dimension,
    decode_totals,
    encode_dimension,
    encode_totals,
)
from risk.statistics.stored import shape as stored_shape

MARKS = (SHOWN, PRIMARY, SECONDARY, HIDDEN)


@dataclass(frozen=True)
class Rules:
    """The privacy rules' parameters. The switches exist for the attack tests only."""

    k: int = 5
    secondary: bool = True
    differencing: bool = True

    def __post_init__(self) -> None:
        if self.k < 3:
            raise ValueError("k must be at least 3")


@dataclass(frozen=True)
class Bucket:
    """A month or a calendar quarter, by its first day."""

    kind: str
    start: date

    @property
    def quarter_start(self) -> date:
        return quarter_of(self.start)


@dataclass(frozen=True)
class Cell:
    """A published count, or None with the rule that hid it."""

    count: int | None
    mark: str

    @property
    def shown(self) -> bool:
        return self.mark == SHOWN


def quarter_of(month: date) -> date:
    return date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def tree_for(units: Iterable[UnitRow], rules: Rules) -> Tree:
    """The published unit tree under these rules."""
    return build_tree(units, rules.k, differencing=rules.differencing)


@dataclass
class _Quarter:
    totals: dict[tuple[int, int], int]
    cells: dict[tuple[int, int, str], int]
    pattern: TotalsPattern
    # None: the breakdown was not asked for in this quarter (only its totals are shown)
    marks: Mapping[tuple[int, int, str], str] | None


@dataclass
class Publication:
    """Published totals (and one dimension's cells) per node and bucket.

    Values are summed for a node when first asked for (a request reads one node).
    """

    tree: Tree
    quarters: list[date]
    columns: list[str]
    parts: dict[date, _Quarter] = field(default_factory=dict)
    _sums: dict[tuple[date, int], dict[tuple[int, str], int]] = field(default_factory=dict)

    def _values(self, q: date, node: int) -> dict[tuple[int, str], int]:
        found = self._sums.get((q, node))
        if found is None:
            part = self.parts[q]
            inside = self.tree.subtree(node)
            found = defaultdict(int)
            for (b, m), n in part.totals.items():
                if b in inside:
                    found[m, TOTAL] += n
                    found[QUARTER, TOTAL] += n
            for (b, m, col), n in part.cells.items():
                if b in inside:
                    found[m, col] += n
                    found[QUARTER, col] += n
            self._sums[q, node] = found
        return found

    def total(self, node: int, bucket: Bucket) -> Cell:
        return self._cell(node, bucket, TOTAL)

    def cell(self, node: int, bucket: Bucket, category: str) -> Cell:
        return self._cell(node, bucket, category)

    def _cell(self, node: int, bucket: Bucket, col: str) -> Cell:
        q = bucket.quarter_start
        part = self.parts[q]
        t = QUARTER if bucket.kind == "quarter" else bucket.start.month - q.month
        if col == TOTAL:
            mark = part.pattern.status.get((node, t), SHOWN)
        elif part.marks is None:
            raise LookupError(f"no breakdown was protected for the quarter of {q}")
        else:
            mark = part.marks.get((node, t, col), SHOWN)
        value = self._values(q, node).get((t, col), 0)
        return Cell(value if mark == SHOWN else None, mark)

    def buckets(self, kind: str) -> list[Bucket]:
        if kind == "quarter":
            return [Bucket("quarter", q) for q in self.quarters]
        return [Bucket("month", add_months(q, i)) for q in self.quarters for i in range(3)]


def _by_quarter(
    raw: RawCounts, tree: Tree, quarters: set[date]
) -> dict[date, dict[tuple[int, int, str], int]]:
    out: dict[date, dict[tuple[int, int, str], int]] = defaultdict(lambda: defaultdict(int))
    places: dict[date, tuple[date, int] | None] = {}  # month -> (quarter, month in it)
    home = tree.home
    for (unit_id, anonymous, month, col), n in raw.items():
        if month not in places:
            q = quarter_of(month)
            places[month] = (q, month.month - q.month) if q in quarters else None
        place = places[month]
        if place is None or not n:
            continue
        base = ORG if anonymous or unit_id is None else home.get(unit_id, ORG)
        out[place[0]][base, place[1], col] += n
    return out


def publish(
    tree: Tree,
    rules: Rules,
    quarters: list[date],
    totals: RawCounts,
    dimension: tuple[str, list[str], bool, RawCounts] | None = None,
    broken_down: set[date] | None = None,
    stored: Stored | None = None,
) -> Publication:
    """Protect every quarter in `quarters` and return its cells at every published node.

    `dimension` is (code, categories, several-valued, counts); without it only totals.
    `broken_down`: the quarters whose breakdown is wanted (default all); the others
    publish only totals, and asking for one of their cells is an error.
    `stored`: where protection results outlive the process (risk/patterns.py). A
    quarter this process has not protected yet is looked up there by its key (stored.py)
    and protected only when missing, then stored; the marks are the same either way.
    """
    wanted = set(quarters)
    t_by_q = _by_quarter(totals, tree, wanted)
    d_by_q = _by_quarter(dimension[3], tree, wanted) if dimension else {}
    pub = Publication(tree, sorted(wanted), dimension[1] if dimension else [])
    shape = digest(rules, tuple(sorted(tree.parent.items())))
    basis = stored_shape(tree.parent, rules.k, rules.secondary) if stored is not None else []
    plans = []
    for q in pub.quarters:
        plan = plan_totals(q, t_by_q.get(q, {}), shape, basis, stored)
        if dimension is not None and (broken_down is None or q in broken_down):
            plan_dimension(plan, dimension, d_by_q.get(q, {}), stored)
        plans.append(plan)
    kept = lookup(plans, stored)
    for plan in plans:
        pub.parts[plan.quarter] = _protect(plan, tree, rules, dimension, kept, stored)
    return pub


def _protect(
    plan: Plan,
    tree: Tree,
    rules: Rules,
    dimension: tuple[str, list[str], bool, RawCounts] | None,
    kept: Mapping[str, Marks],
    stored: Stored | None,
) -> _Quarter:
    """One quarter's totals pattern and (when broken down) its breakdown's marks."""
    t_counts = plan.t_counts
    pattern: TotalsPattern = resolve(
        plan.t_found,
        TotalsPattern,
        plan.t_hash,
        plan.t_check,
        plan.t_key,
        kept,
        stored,
        partial(
            protect_totals,
            tree,
            QuarterCounts(3, t_counts),
            rules.k,
            secondary=rules.secondary,
        ),
        encode_totals,
        decode_totals,
    )
    marks: Mapping[tuple[int, int, str], str] | None = {}
    if dimension is not None and (plan.d_hash is None or plan.d_check is None):
        marks = None  # a quarter shown without its breakdown
    elif dimension is not None and plan.d_hash is not None and plan.d_check is not None:
        _code, cols, multi, _raw = dimension
        marks = resolve(
            plan.d_found,
            dict,
            plan.d_hash,
            plan.d_check,
            plan.d_key,
            kept,
            stored,
            partial(
                protect_dimension,
                tree,
                QuarterCounts(3, t_counts, plan.cells),
                rules.k,
                cols,
                pattern,
                multi=multi,
                secondary=rules.secondary,
            ),
            encode_dimension,
            decode_dimension,
        )
    return _Quarter(t_counts, plan.cells, pattern, marks)
