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

The code, one module per part:

  marks       the marks (shown, primary, secondary, hidden), QuarterCounts, TotalsPattern
  table       one table of one quarter: its counts, what the viewer knows, a witness weighed
  candidates  the witnesses tried for a sensitive cell
  search      the search and its fallback; protect_totals, protect_dimension
"""

from __future__ import annotations

from risk.statistics.population import ORG
from risk.statistics.protect.marks import (
    HIDDEN,
    PRIMARY,
    QUARTER,
    SECONDARY,
    SHOWN,
    TOTAL,
    QuarterCounts,
    TotalsPattern,
)
from risk.statistics.protect.search import protect_dimension, protect_totals

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
