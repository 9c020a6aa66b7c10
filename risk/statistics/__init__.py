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

Anonymous reports count only at organisation level (node ORG). The result for each
quarter is cached by the quarter's counts, so a change to the data recomputes it: in the
process (CACHE), and, given a `Stored` (risk/patterns.py), in the database by a SHA-256
of the counts (stored.py), so a new process reuses what another one protected.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
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
from risk.statistics.stored import (
    Marks,
    Stored,
    decode_dimension,
    decode_totals,
    dimension_key,
    encode_dimension,
    encode_totals,
    totals_key,
)
from risk.statistics.stored import shape as stored_shape

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


def _digest(*parts: object) -> int:
    """A cache key for what a quarter's protection depends on (its counts and shape)."""
    return hash(tuple(frozenset(p.items()) if isinstance(p, dict) else p for p in parts))


def _check(*parts: object) -> int:
    """A second, independent 64-bit digest: with the key, 128 bits must match for a hit."""
    return hash(
        tuple(
            frozenset((v, k) for k, v in p.items()) if isinstance(p, dict) else (p, len(str(p)))
            for p in parts
        )
    )


class _Cache:
    """Per-process cache of protected quarters, keyed by everything they depend on.

    A hit needs a second, independent digest of the counts to match as well, so another
    quarter's pattern is never returned by chance (two 64-bit hashes; storing the counts
    themselves would cost a worker tens of megabytes).
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.items: OrderedDict[int, tuple[object, object]] = OrderedDict()
        self.lock = Lock()

    def get(self, key: int, basis: object) -> object | None:
        with self.lock:
            found = self.items.get(key)
            if found is None or found[0] != basis:
                return None
            self.items.move_to_end(key)
            return found[1]

    def put(self, key: int, basis: object, value: object) -> None:
        with self.lock:
            self.items[key] = (basis, value)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


CACHE = _Cache()


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
    columns = dimension[1] if dimension else []
    pub = Publication(tree, sorted(wanted), columns)
    shape = _digest(rules, tuple(sorted(tree.parent.items())))
    basis = stored_shape(tree.parent, rules.k, rules.secondary) if stored is not None else []
    plans = []
    for q in pub.quarters:
        t_counts = {(b, m): n for (b, m, _c), n in t_by_q.get(q, {}).items()}
        plan = _Plan(q, t_counts, _digest(shape, t_counts), _check(shape, t_counts))
        plan.t_found, plan.t_key = _cached(plan.t_hash, plan.t_check)
        if stored is not None and plan.t_key is None:
            plan.t_key = totals_key(basis, 3, t_counts)
        if dimension is not None and (broken_down is None or q in broken_down):
            code, cols, multi, _raw = dimension
            plan.cells = dict(d_by_q.get(q, {}))
            plan.d_hash = _digest(plan.t_hash, code, tuple(cols), multi, plan.cells)
            plan.d_check = _check(plan.t_check, code, tuple(cols), multi, plan.cells)
            plan.d_found, plan.d_key = _cached(plan.d_hash, plan.d_check)
            if stored is not None and plan.d_key is None and plan.t_key is not None:
                plan.d_key = dimension_key(plan.t_key, code, cols, multi, plan.cells)
        plans.append(plan)
    kept: Mapping[str, Marks] = {}
    if stored is not None:
        missing = [p.t_key for p in plans if p.t_found is None and p.t_key]
        missing += [p.d_key for p in plans if p.d_found is None and p.d_key]
        kept = stored.lookup(missing) if missing else {}
    for plan in plans:
        pattern = plan.t_found
        if not isinstance(pattern, TotalsPattern):
            if plan.t_key is not None and plan.t_key in kept:
                pattern = decode_totals(kept[plan.t_key])
            else:
                pattern = protect_totals(
                    tree, QuarterCounts(3, plan.t_counts), rules.k, secondary=rules.secondary
                )
                if stored is not None and plan.t_key is not None:
                    stored.store(plan.t_key, encode_totals(pattern))
            CACHE.put(plan.t_hash, plan.t_check, (pattern, plan.t_key))
        elif stored is not None and plan.t_key is not None:
            stored.touch(plan.t_key, partial(encode_totals, pattern))
        marks: Mapping[tuple[int, int, str], str] | None = {}
        d_hash, d_check = plan.d_hash, plan.d_check
        if dimension is not None and (d_hash is None or d_check is None):
            marks = None
        elif dimension is not None and d_hash is not None and d_check is not None:
            _code, cols, multi, _raw = dimension
            found = plan.d_found
            if not isinstance(found, dict):
                if plan.d_key is not None and plan.d_key in kept:
                    found = decode_dimension(kept[plan.d_key])
                else:
                    d_data = QuarterCounts(3, plan.t_counts, plan.cells)
                    found = protect_dimension(
                        tree, d_data, rules.k, cols, pattern, multi=multi, secondary=rules.secondary
                    )
                    if stored is not None and plan.d_key is not None:
                        stored.store(plan.d_key, encode_dimension(found))
                CACHE.put(d_hash, d_check, (found, plan.d_key))
            elif stored is not None and plan.d_key is not None:
                stored.touch(plan.d_key, partial(encode_dimension, found))
            marks = found
        pub.parts[plan.quarter] = _Quarter(plan.t_counts, plan.cells, pattern, marks)
    return pub


def _cached(key: int, check: int) -> tuple[object | None, str | None]:
    """A result this process has (with its stored key, if it had one), or (None, None)."""
    found = CACHE.get(key, check)
    if isinstance(found, tuple):
        return found[0], found[1]
    return None, None


@dataclass
class _Plan:
    """One quarter on its way through publish(): its counts, keys and what was found."""

    quarter: date
    t_counts: dict[tuple[int, int], int]
    t_hash: int
    t_check: int
    t_found: object | None = None
    t_key: str | None = None
    cells: dict[tuple[int, int, str], int] = field(default_factory=dict)
    d_hash: int | None = None
    d_check: int | None = None
    d_found: object | None = None
    d_key: str | None = None
