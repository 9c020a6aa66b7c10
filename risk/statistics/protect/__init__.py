"""Secondary suppression (being split by sub-domain)."""

from __future__ import annotations

from risk.statistics.protect.table import (
    HIDDEN,
    ORG,
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
