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
        base_eff = self._base_effect(ops)
        if base_eff is None or not self._changes_base_target(base_eff, target):
            return None
        if self.multi and not self._multi_ok(base_eff):
            return None
        node_eff, per_move = self._node_effect(ops, moves)
        kind, ident, t, col = target
        if kind == "node" and not node_eff.get((ident, t, col), 0):
            return None
        priced = self._cells_to_hide(node_eff)
        if priced is None:
            return None
        cost, hide = priced
        rows: list[tuple[int, int]] = []
        if moves is not None:
            rows, cost = self._rows_to_hide(per_move, hide, cost)
        return cost, hide, rows

    def _base_effect(self, ops: list[Op]) -> dict[tuple[int, int, str], int] | None:
        """The change to each base count; None if one would fall below zero."""
        base_eff: dict[tuple[int, int, str], int] = defaultdict(int)
        for b, m, col, d in ops:
            base_eff[b, m, col] += d
        for key, d in base_eff.items():
            if d and self.base.get(key, 0) + d < 0:
                return None
        return base_eff

    def _changes_base_target(
        self, base_eff: dict[tuple[int, int, str], int], target: tuple[str, int, int, str]
    ) -> bool:
        """A witness for a base cell changes that cell (a node target is checked later)."""
        kind, ident, t, col = target
        if kind != "base":
            return True
        if t == QUARTER:
            return bool(sum(base_eff.get((ident, m, col), 0) for m in range(self.data.months)))
        return bool(base_eff.get((ident, t, col), 0))

    def _node_effect(
        self, ops: list[Op], moves: list[int] | None
    ) -> tuple[dict[tuple[int, int, str], int], dict[tuple[int, int], dict[int, int]]]:
        """The change to each node count (each unit up the tree), and per node and
        bucket the net change of each report moved (only when `moves` is given)."""
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
        return node_eff, per_move

    def _cells_to_hide(
        self, node_eff: dict[tuple[int, int, str], int]
    ) -> tuple[float, list[tuple[int, int, str]]] | None:
        """The shown cells the change would have to hide, and their cost; None if a
        changed cell would contradict what the viewer knows of it."""
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
        return cost, hide

    def _rows_to_hide(
        self,
        per_move: dict[tuple[int, int], dict[int, int]],
        hide: list[tuple[int, int, str]],
        cost: float,
    ) -> tuple[list[tuple[int, int]], float]:
        """Rows whose total stays shown while one report comes and another goes: their
        breakdown must be hidden; each adds to the cost."""
        rows: list[tuple[int, int]] = []
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
        return rows, cost

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
