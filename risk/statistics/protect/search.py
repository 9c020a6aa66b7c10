"""The search for a witness per sensitive cell, the fallback that hides rows up the tree,
and the two entry points: a quarter's totals, and one dimension with the totals fixed.
"""

from __future__ import annotations

from risk.statistics.population import Tree
from risk.statistics.protect.candidates import Candidates
from risk.statistics.protect.marks import (
    HIDDEN,
    QUARTER,
    SHOWN,
    TOTAL,
    Op,
    QuarterCounts,
    TotalsPattern,
)

# Witness candidates examined per sensitive cell before falling back to hiding rows.
SEARCH_LIMIT = 120


class Protector(Candidates):
    """Protects one table of one quarter (the totals, or one dimension)."""

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
