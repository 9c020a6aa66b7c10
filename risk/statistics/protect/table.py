"""One table of one quarter: its counts, what a viewer knows, and witnesses weighed.

The package's docstring (risk/statistics/protect/__init__.py) says what a viewer knows
and what a witness is; `Table.evaluate` is that rule as code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from risk.statistics.population import Tree
from risk.statistics.protect.marks import (
    HIDDEN,
    PRIMARY,
    QUARTER,
    SECONDARY,
    SHOWN,
    TOTAL,
    Op,
    QuarterCounts,
    TotalsPattern,
)


@dataclass
class Table:
    """One table of one quarter (the totals, or one dimension): its counts, what the
    viewer knows of each cell, and whether a change to the reports is a witness."""

    tree: Tree
    data: QuarterCounts
    k: int
    columns: list[str]
    multi: bool = False
    totals: TotalsPattern | None = None
    secondary: bool = True
    status: dict[tuple[int, int, str], str] = field(default_factory=dict)
    hidden_rows: set[tuple[int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.phase_totals = self.totals is None
        self.complete = self.data.complete
        base: dict[tuple[int, int, str], int] = defaultdict(int)
        if self.phase_totals:
            for (b, m), n in self.data.totals.items():
                base[b, m, TOTAL] += n
        else:
            for key, n in self.data.cells.items():
                base[key] += n
        self.base = base
        self.base_total: dict[tuple[int, int], int] = defaultdict(int, self.data.totals)
        node: dict[tuple[int, int, str], int] = defaultdict(int)
        for (b, m, col), n in base.items():
            for up in self.tree.chain[b]:
                node[up, m, col] += n
                if self.data.complete:
                    node[up, QUARTER, col] += n
        self.node = node
        self.base_sum: dict[tuple[int, int], int] = defaultdict(int)
        if self.multi:
            for (b, m, _col), n in base.items():
                self.base_sum[b, m] += n

    # -- what the viewer knows -----------------------------------------------------------

    def row_hidden(self, n: int, t: int) -> bool:
        if self.totals is None:
            return False
        return (n, t) in self.totals.hidden_rows or (n, t) in self.hidden_rows

    def mark(self, key: tuple[int, int, str]) -> str:
        if self.row_hidden(key[0], key[1]):
            return HIDDEN
        found = self.status.get(key)
        if found is not None:
            return found
        value = self.node[key]
        return PRIMARY if 0 < value < self.k else SHOWN

    def _fits(self, mark: str, value: int) -> bool:
        if mark == PRIMARY:
            return 1 <= value <= self.k - 1
        if mark == SECONDARY:
            return value >= self.k
        return value >= 0

    # -- the sensitive cells -------------------------------------------------------------

    def targets(self) -> Iterator[tuple[str, int, int, str]]:
        """("node"|"base", id, bucket, column) of every count in 1 … k−1, top down."""
        buckets = self.data.buckets()
        for n in sorted(self.tree.nodes, key=lambda x: (self.tree.depth(x), x)):
            for t in buckets:
                for col in self.columns:
                    if 0 < self.node[n, t, col] < self.k:
                        yield "node", n, t, col
            if self.tree.is_leaf(n):
                continue
            for t in buckets:
                for col in self.columns:
                    if 0 < self._base_value(n, t, col) < self.k:
                        yield "base", n, t, col

    def _base_value(self, b: int, t: int, col: str) -> int:
        if t == QUARTER:
            return sum(self.base[b, m, col] for m in range(self.data.months))
        return self.base[b, t, col]

    # -- evaluating a witness ------------------------------------------------------------

    def evaluate(
        self, ops: list[Op], target: tuple[str, int, int, str], moves: list[int] | None = None
    ) -> tuple[float, list[tuple[int, int, str]], list[tuple[int, int]]] | None:
        """The cost of a witness (None if it is not one) and the cells it would hide.

        `moves` numbers the report each op belongs to (totals phase): a node that gains
        one report and loses another in the same bucket keeps its total but not its
        breakdown, so that row's breakdown must be hidden.
        """
        base_eff: dict[tuple[int, int, str], int] = defaultdict(int)
        for b, m, col, d in ops:
            base_eff[b, m, col] += d
        base = self.base
        for key, d in base_eff.items():
            if d and base.get(key, 0) + d < 0:
                return None
        kind, ident, t, col = target
        if kind == "base":
            if t == QUARTER:
                changed = sum(base_eff.get((ident, m, col), 0) for m in range(self.data.months))
            else:
                changed = base_eff.get((ident, t, col), 0)
            if not changed:
                return None
        if self.multi and not self._multi_ok(base_eff):
            return None
        complete = self.complete
        chain = self.tree.chain
        node_eff: dict[tuple[int, int, str], int] = defaultdict(int)
        per_move: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for i, (b, m, c, d) in enumerate(ops):
            for up in chain[b]:
                node_eff[up, m, c] += d
                if complete:
                    node_eff[up, QUARTER, c] += d
                if moves is not None:
                    per_move[up, m][moves[i]] += d
                    if complete:
                        per_move[up, QUARTER][moves[i]] += d
        if kind == "node" and not node_eff.get((ident, t, col), 0):
            return None
        cost = 0.0
        hide: list[tuple[int, int, str]] = []
        for key, d in node_eff.items():
            if not d:
                continue
            mark = self.mark(key)
            value = self.node[key]
            if mark == SHOWN:
                if not self.secondary or value < self.k or value + d < self.k:
                    return None
                hide.append(key)
                cost += (3.0 if self.phase_totals else 1.0) + value / 1e5
            elif not self._fits(mark, value + d):
                return None
        rows: list[tuple[int, int]] = []
        if moves is not None:
            hidden_totals = {(k[0], k[1]) for k in hide}
            for (n, t2), nets in per_move.items():
                signs = {1 if v > 0 else -1 for v in nets.values() if v}
                if (
                    len(signs) == 2
                    and self.mark((n, t2, TOTAL)) == SHOWN
                    and (n, t2) not in hidden_totals
                    and (n, t2) not in self.hidden_rows
                ):
                    rows.append((n, t2))
                    cost += 2.0
        return cost, hide, rows

    def _multi_ok(self, base_eff: dict[tuple[int, int, str], int]) -> bool:
        sums: dict[tuple[int, int], int] = defaultdict(int)
        for (b, m, c), d in base_eff.items():
            if self.base[b, m, c] + d > self.base_total[b, m]:
                return False
            sums[b, m] += d
        for (b, m), d in sums.items():
            total = self.base_total[b, m]
            if total and self.base_sum[b, m] + d < total:
                return False
        return True

    def apply(self, hide: Iterable[tuple[int, int, str]], rows: Iterable[tuple[int, int]]) -> None:
        for key in hide:
            self.status[key] = SECONDARY
        self.hidden_rows.update(rows)
