"""Time to close a case: which closed-case counts and medians may be published.

The figures are per year of the incident, and a year is a fixed block: the quarters of
that year in the statistics' window (risk.service.window: ended quarters only), whatever
months or quarters a viewer asks for. A request only chooses which years to list, so two
requests can never publish figures for two different ranges whose difference is small
(a viewer asking for January and then January–February would otherwise learn how many
cases of February closed, and the medians would narrow down the single cases between).

- **The count** of closed cases (those with a close time: closed or dropped) is the sum
  of the state breakdown's "closed" and "dropped" cells of the block's quarters, as
  risk.statistics protects them for the trends page: shown only when every one of those
  cells is shown (`combine`). A shown cell is 0 or at least k, so the sum is too, and it
  is worked out from shown cells: it tells nothing the state table does not. At
  organisation level the cells count anonymous reports too, and their protection covers
  the organisation minus its units (the organisation's own base) like any other base.
- **The median** is shown only where the count is shown, is at least k, and is the
  number of cases the median is taken over; and only when, for every published unit
  nested with the viewer's node (above or below it) whose median could be shown (at
  least k cases), the two sets of cases are equal or differ by at least k cases
  (`median_allowed`). Sets of cases of two nodes are nested or disjoint (the unit
  tree), so any two published medians are of disjoint sets, of the same set, or of
  nested sets differing by k or more cases: comparing them concerns a group of at least
  k cases, never one case. The organisation's figure (anonymous reports included)
  minus a unit's is such a difference too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from risk.statistics import ORG, SECONDARY, SHOWN, Cell, Tree


def combine(cells: Iterable[Cell]) -> Cell:
    """The sum of published cells, published as far as they are: the sum when all are
    shown; the one hidden cell's mark when every other is a shown 0; else secondary.
    The mark depends on the cells' marks and shown counts only."""
    found = list(cells)
    hidden = [c for c in found if not c.shown]
    if not hidden:
        return Cell(sum(c.count or 0 for c in found), SHOWN)
    if len(hidden) == 1 and all(c.count == 0 for c in found if c.shown):
        return hidden[0]
    return Cell(None, SECONDARY)


def year_blocks(quarters: Iterable[date]) -> dict[int, list[date]]:
    """The window's quarters (first days) by calendar year."""
    out: dict[int, list[date]] = defaultdict(list)
    for q in sorted(quarters):
        out[q.year].append(q)
    return dict(out)


def node_sizes(tree: Tree, per_unit: Mapping[int | None, int], whole: int) -> dict[int, int]:
    """Closed cases per published node: `per_unit` counts each unit's own (not anonymous)
    cases, `whole` the organisation's, anonymous reports included."""
    base: dict[int, int] = defaultdict(int)
    for unit_id, n in per_unit.items():
        home = tree.home.get(unit_id) if unit_id is not None else None
        if home is not None and home != ORG:
            base[home] += n
    out: dict[int, int] = defaultdict(int)
    for node, n in base.items():
        for up in tree.chain[node]:
            if up != ORG:
                out[up] += n
    out[ORG] = whole
    return dict(out)


def median_allowed(tree: Tree, node: int, sizes: Mapping[int, int], k: int) -> bool:
    """Whether node's median may be shown beside every other node's (module docstring)."""
    mine = sizes.get(node, 0)
    if mine < k:
        return False
    nested = set(tree.chain[node]) | tree.subtree(node)
    for other in nested - {node}:
        theirs = sizes.get(other, 0)
        if theirs >= k and 0 < abs(mine - theirs) < k:
            return False
    return True
