"""Secondary suppression: every hidden small count keeps a witness that it could differ.

One calendar quarter is protected at a time (quarters share no published cell: there
are no year or period totals). Its cells are (node, bucket, column): the published
nodes of the unit tree (population.Tree), the quarter's months 0–2 and the quarter
itself (3, once all three months are over), and a column: the total of reports, or a
category of one dimension. Each node also has its own *base*: the reports counted at
the node itself (its own staff, merged small units; anonymous reports at ORG). A base
is never shown, but for a node with published sub-units it can be worked out as the
node minus its children, so its small counts are protected as well.

What a viewer can know, and so what the witnesses respect (the attacker of the tests):
a shown cell exactly; a cell marked primary lies in 1 … k−1 (zeros are shown); a cell
marked secondary is not in 1 … k−1 and never chosen at 0, so at least k; a hidden cell
(a whole breakdown row hidden, or a block hidden) is any count ≥ 0; a base is ≥ 0;
per place and month a single-valued dimension's categories add up to the total, and a
several-valued one has each category between 0 and the total and at least the total
between them.

A *witness* for a sensitive cell (a count in 1 … k−1, shown or not) is a small change
to the reports — move one report to another place or month, change one report's
category, add or drop a category on one report — that leaves every shown cell as it is,
keeps every hidden cell inside what the viewer knows of it, and changes the sensitive
cell. With a witness there are two consistent tables that differ in that cell, so no
one can pin it, however they combine what they see. The search tries witnesses whose
cells are hidden already; else the one that hides the fewest and smallest shown cells
(at least k + 1, so they can give one back); else it hides whole rows up the tree, which
always leaves a witness. Hiding more never breaks a witness found earlier.

Totals are protected first; a hidden total hides its row in every dimension. Then each
dimension is protected on its own with the totals fixed: its witnesses change
categories only, never a total, so dimensions never constrain each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from risk.statistics.population import ORG, Tree

SHOWN, PRIMARY, SECONDARY, HIDDEN = "shown", "primary", "secondary", "hidden"
QUARTER = 3
TOTAL = ""
# Witness candidates examined per sensitive cell before falling back to hiding rows.
SEARCH_LIMIT = 120

Op = tuple[int, int, str, int]  # (base, month, column, +1/-1)


@dataclass
class QuarterCounts:
    """One quarter's base counts: totals[(base, month)], cells[(base, month, category)]."""

    months: int
    totals: dict[tuple[int, int], int]
    cells: dict[tuple[int, int, str], int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.months == 3

    def buckets(self) -> list[int]:
        return [*range(self.months), *((QUARTER,) if self.complete else ())]


@dataclass
class TotalsPattern:
    """Totals' marks; rows whose breakdown is hidden in every dimension."""

    status: dict[tuple[int, int], str]
    hidden_rows: set[tuple[int, int]]


@dataclass
class Protector:
    """Protects one table of one quarter (the totals, or one dimension)."""

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

    # -- candidates ----------------------------------------------------------------------

    def _sites(self, n: int) -> list[int]:
        """Bases through which node n's counts can change: its own, then its children's."""
        return [n, *self.tree.children[n][:4]]

    def _partners(self, n: int) -> list[int | None]:
        parent = self.tree.parent[n]
        if parent is None:
            return [None]
        siblings = [s for s in self.tree.children[parent] if s != n]
        return [parent, *siblings]

    def _months(self, t: int) -> list[int]:
        return list(range(self.data.months)) if t == QUARTER else [t]

    def candidates(
        self, target: tuple[str, int, int, str]
    ) -> Iterator[tuple[list[Op], list[int] | None]]:
        kind, ident, t, col = target
        if kind == "node":
            sites, partners = self._sites(ident), self._partners(ident)
        else:  # a node's own base changes against its children or its parent's base
            sites, partners = [ident], [*self.tree.children[ident], *self._partners(ident)]
        others = [c for c in self.columns if c != col]
        for mi in self._months(t):
            later = [m for m in range(self.data.months) if m != mi] if t != QUARTER else []
            for site in sites:
                for partner in partners:
                    for sign in (1, -1):
                        yield from self._family(site, partner, mi, later, col, others, sign)

    def _family(
        self,
        site: int,
        partner: int | None,
        mi: int,
        later: list[int],
        col: str,
        others: list[str],
        s: int,
    ) -> Iterator[tuple[list[Op], list[int] | None]]:
        def pair(b: int, m: int, sign: int, alt: str | None) -> list[Op]:
            ops: list[Op] = [(b, m, col, sign)]
            if alt is not None:
                ops.append((b, m, alt, -sign))
            return ops

        if self.phase_totals:
            if partner is not None:
                yield [(site, mi, TOTAL, s), (partner, mi, TOTAL, -s)], [0, 0]
                for m2 in later:
                    ops = [(site, mi, TOTAL, s), (partner, mi, TOTAL, -s)]
                    ops += [(site, m2, TOTAL, -s), (partner, m2, TOTAL, s)]
                    yield ops, [0, 0, 1, 1]
            else:
                yield [(site, mi, TOTAL, s)], [0]
                for m2 in later:
                    yield [(site, mi, TOTAL, s), (site, m2, TOTAL, -s)], [0, 0]
            return
        alts: list[str | None] = [None] if self.multi else list(others)
        for alt in alts:
            here = pair(site, mi, s, alt)
            if partner is not None:
                yield here + pair(partner, mi, -s, alt), None
            else:
                yield here, None
            for m2 in later:
                back = pair(site, m2, -s, alt)
                if partner is not None:
                    yield here + back + pair(partner, mi, -s, alt) + pair(partner, m2, s, alt), None
                else:
                    yield here + back, None

    # -- the search ----------------------------------------------------------------------

    def protect_one(self, target: tuple[str, int, int, str]) -> None:
        best: tuple[float, list[tuple[int, int, str]], list[tuple[int, int]]] | None = None
        for tried, (ops, moves) in enumerate(self.candidates(target)):
            if tried >= SEARCH_LIMIT and best is not None:
                break
            found = self.evaluate(ops, target, moves)
            if found is None:
                continue
            if found[0] == 0:
                return
            if best is None or found[0] < best[0]:
                best = found
        if best is not None:
            self.apply(best[1], best[2])
            return
        if self.secondary:
            self._fallback(target)

    def protect(self) -> None:
        for target in list(self.targets()):
            self.protect_one(target)

    # -- when nothing else works: hide rows up the tree ----------------------------------

    def _content_site(self, n: int, m: int, col: str) -> list[int]:
        """A chain of nodes from one with a report here at its own base, up to n."""
        path = [n]
        while self.base[path[-1], m, col] < 1:
            kids = [c for c in self.tree.children[path[-1]] if self.node[c, m, col] > 0]
            if not kids:
                break
            path.append(kids[0])
        return path

    def _fallback(self, target: tuple[str, int, int, str]) -> None:
        kind, ident, t, col = target
        months = self._months(t)
        m = next((mi for mi in months if self._value_at(kind, ident, mi, col) > 0), months[0])
        path = [ident] if kind == "base" else self._content_site(ident, m, col)
        buckets = (m, *((QUARTER,) if self.data.complete else ()))
        if self.phase_totals:
            # Hide the totals on the way down to a report; it can then go to the parent.
            for node in path:
                for bucket in buckets:
                    self.status[node, bucket, TOTAL] = HIDDEN
            return
        for node in path:
            self._hide_rows(node, m)
        site = path[-1]
        cur = ident
        while True:
            self._hide_rows(cur, m)
            parent = self.tree.parent[cur]
            partners = (
                [None]
                if parent is None
                else [parent, *[s for s in self.tree.children[parent] if s != cur]]
            )
            for partner in partners:
                if self._try_partner(target, site, partner, m, sibling=partner != parent):
                    return
            if parent is None:
                return
            cur = parent

    def _try_partner(
        self,
        target: tuple[str, int, int, str],
        site: int,
        partner: int | None,
        m: int,
        *,
        sibling: bool,
    ) -> bool:
        """Hide the partner's rows if it is a sibling, and look for a witness; undo if none."""
        col = target[3]
        added = []
        if partner is not None and sibling:
            for key in ((partner, m), (partner, QUARTER)):
                if key not in self.hidden_rows:
                    added.append(key)
            self._hide_rows(partner, m)
        alts: list[str | None] = [None] if self.multi else [c for c in self.columns if c != col]
        for alt in alts:
            for s in (1, -1):
                ops: list[Op] = [(site, m, col, s)]
                if alt is not None:
                    ops.append((site, m, alt, -s))
                if partner is not None:
                    ops.append((partner, m, col, -s))
                    if alt is not None:
                        ops.append((partner, m, alt, s))
                found = self.evaluate(ops, target)
                if found is not None and found[0] == 0:
                    return True
        self.hidden_rows.difference_update(added)
        return False

    def _value_at(self, kind: str, ident: int, m: int, col: str) -> int:
        return self.base[ident, m, col] if kind == "base" else self.node[ident, m, col]

    def _hide_rows(self, node: int, m: int) -> None:
        self.hidden_rows.add((node, m))
        if self.data.complete:
            self.hidden_rows.add((node, QUARTER))


def protect_totals(
    tree: Tree, data: QuarterCounts, k: int, *, secondary: bool = True
) -> TotalsPattern:
    """Mark one quarter's totals: primary, secondary and hidden cells, hidden rows."""
    table = Protector(tree, data, k, [TOTAL], secondary=secondary)
    if secondary:
        table.protect()
    status = {(n, t): table.mark((n, t, TOTAL)) for n in tree.nodes for t in data.buckets()}
    hidden = {key for key, mark in status.items() if mark != SHOWN} | table.hidden_rows
    return TotalsPattern({k2: v for k2, v in status.items() if v != SHOWN}, hidden)


def protect_dimension(
    tree: Tree,
    data: QuarterCounts,
    k: int,
    columns: list[str],
    totals: TotalsPattern,
    *,
    multi: bool,
    secondary: bool = True,
) -> dict[tuple[int, int, str], str]:
    """Mark one quarter of one dimension, with the totals' pattern fixed."""
    table = Protector(tree, data, k, columns, multi=multi, totals=totals, secondary=secondary)
    if secondary:
        table.protect()
    out = {}
    for n in tree.nodes:
        for t in data.buckets():
            for col in columns:
                mark = table.mark((n, t, col))
                if mark != SHOWN:
                    out[n, t, col] = mark
    return out


__all__ = [
    "HIDDEN",
    "ORG",
    "PRIMARY",
    "QUARTER",
    "SECONDARY",
    "SHOWN",
    "TOTAL",
    "QuarterCounts",
    "TotalsPattern",
    "protect_dimension",
    "protect_totals",
]
