"""The witnesses tried for a sensitive cell: small changes to the reports, nearest first."""

from __future__ import annotations

from collections.abc import Iterator

from risk.statistics.protect.marks import QUARTER, TOTAL, Op
from risk.statistics.protect.table import Table


class Candidates(Table):
    """A table that can list the candidate witnesses for each of its sensitive cells."""

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
