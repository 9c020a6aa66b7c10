"""The one statistics module: every page, chart, export and API call goes through here.

`publish()` turns counts into cells that identify no one (DOMAIN.md, "Statistics that
identify no one"):

- primary suppression: a count from 1 to k − 1 is marked "primary" and shown as "<k"
  (k is the setting `trends_k`, default 5, never below 3);
- secondary suppression: further cells are hidden so that no hidden count can be worked
  out from what is shown, with the margins (protect.py says how, and why it holds);
- units with fewer than k people appear only inside their parent, and a unit is merged
  into its parent when the rest of the parent would be fewer than k people
  (population.py: the differencing guard);
- time only in whole calendar quarters and their months, published once the quarter has
  ended (a quarter's months are protected together with the quarter, so a month's cells
  never change pattern as the quarter fills up), never free date ranges;
- nothing else: no free text, no single incidents, nothing finer than a month.

Anonymous reports count only at organisation level (node ORG). The result for each
quarter is cached by the quarter's counts, so a change to the data recomputes it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from threading import Lock

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

MARKS = (SHOWN, PRIMARY, SECONDARY, HIDDEN)

RawCounts = Mapping[tuple[int | None, bool, date, str], int]


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
class Publication:
    """Published totals (and one dimension's cells) per node and bucket."""

    tree: Tree
    quarters: list[date]
    columns: list[str]
    totals: dict[tuple[int, date, str], Cell] = field(default_factory=dict)
    cells: dict[tuple[int, date, str, str], Cell] = field(default_factory=dict)

    def total(self, node: int, bucket: Bucket) -> Cell:
        return self.totals[node, bucket.start, bucket.kind]

    def cell(self, node: int, bucket: Bucket, category: str) -> Cell:
        return self.cells[node, bucket.start, bucket.kind, category]

    def buckets(self, kind: str) -> list[Bucket]:
        if kind == "quarter":
            return [Bucket("quarter", q) for q in self.quarters]
        return [Bucket("month", add_months(q, i)) for q in self.quarters for i in range(3)]


def _by_quarter(
    raw: RawCounts, tree: Tree, quarters: set[date]
) -> dict[date, dict[tuple[int, int, str], int]]:
    out: dict[date, dict[tuple[int, int, str], int]] = defaultdict(lambda: defaultdict(int))
    for (unit_id, anonymous, month, col), n in raw.items():
        q = quarter_of(month)
        if q not in quarters or not n:
            continue
        base = ORG if anonymous or unit_id is None else tree.home.get(unit_id, ORG)
        out[q][base, month.month - q.month, col] += n
    return out


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


class _Cache:
    """Per-process cache of protected quarters, keyed by everything they depend on."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.items: OrderedDict[str, object] = OrderedDict()
        self.lock = Lock()

    def get(self, key: str) -> object | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: str, value: object) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


CACHE = _Cache()


def publish(
    tree: Tree,
    rules: Rules,
    quarters: list[date],
    totals: RawCounts,
    dimension: tuple[str, list[str], bool, RawCounts] | None = None,
) -> Publication:
    """Protect every quarter in `quarters` and return its cells at every published node.

    `dimension` is (code, categories, several-valued, counts); without it only totals.
    """
    wanted = set(quarters)
    t_by_q = _by_quarter(totals, tree, wanted)
    d_by_q = _by_quarter(dimension[3], tree, wanted) if dimension else {}
    columns = dimension[1] if dimension else []
    pub = Publication(tree, sorted(wanted), columns)
    shape = _digest(rules, sorted(tree.parent.items()))
    for q in pub.quarters:
        t_counts = {(b, m): n for (b, m, _c), n in t_by_q.get(q, {}).items()}
        data = QuarterCounts(3, t_counts)
        t_key = _digest(shape, sorted(t_counts.items()))
        pattern = CACHE.get(t_key)
        if not isinstance(pattern, TotalsPattern):
            pattern = protect_totals(tree, data, rules.k, secondary=rules.secondary)
            CACHE.put(t_key, pattern)
        _fill_totals(pub, tree, q, data, pattern)
        if dimension is None:
            continue
        code, cols, multi, _raw = dimension
        cells = dict(d_by_q.get(q, {}))
        d_key = _digest(t_key, code, cols, multi, sorted(cells.items()))
        marks = CACHE.get(d_key)
        if not isinstance(marks, dict):
            d_data = QuarterCounts(3, t_counts, cells)
            marks = protect_dimension(
                tree, d_data, rules.k, cols, pattern, multi=multi, secondary=rules.secondary
            )
            CACHE.put(d_key, marks)
        _fill_cells(pub, tree, q, cells, cols, marks)
    return pub


def _node_sums(
    tree: Tree, base: Mapping[tuple[int, int, str], int]
) -> dict[tuple[int, int, str], int]:
    sums: dict[tuple[int, int, str], int] = defaultdict(int)
    for (b, m, col), n in base.items():
        for up in tree.chain[b]:
            sums[up, m, col] += n
            sums[up, QUARTER, col] += n
    return sums


def _bucket_key(q: date, t: int) -> tuple[date, str]:
    return (q, "quarter") if t == QUARTER else (add_months(q, t), "month")


def _fill_totals(
    pub: Publication, tree: Tree, q: date, data: QuarterCounts, pattern: TotalsPattern
) -> None:
    sums = _node_sums(tree, {(b, m, TOTAL): n for (b, m), n in data.totals.items()})
    for node in tree.nodes:
        for t in data.buckets():
            mark = pattern.status.get((node, t), SHOWN)
            value = sums[node, t, TOTAL]
            start, kind = _bucket_key(q, t)
            pub.totals[node, start, kind] = Cell(value if mark == SHOWN else None, mark)


def _fill_cells(
    pub: Publication,
    tree: Tree,
    q: date,
    cells: Mapping[tuple[int, int, str], int],
    columns: list[str],
    marks: Mapping[tuple[int, int, str], str],
) -> None:
    sums = _node_sums(tree, cells)
    for node in tree.nodes:
        for t in (0, 1, 2, QUARTER):
            start, kind = _bucket_key(q, t)
            for col in columns:
                mark = marks.get((node, t, col), SHOWN)
                value = sums[node, t, col]
                pub.cells[node, start, kind, col] = Cell(value if mark == SHOWN else None, mark)


__all__ = [
    "HIDDEN",
    "MARKS",
    "ORG",
    "PRIMARY",
    "SECONDARY",
    "SHOWN",
    "Bucket",
    "Cell",
    "Publication",
    "Rules",
    "Tree",
    "UnitRow",
    "add_months",
    "publish",
    "quarter_of",
    "tree_for",
]
