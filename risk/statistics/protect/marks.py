"""The marks a cell can get, the quarter's counts, and the totals' pattern."""

from __future__ import annotations

from dataclasses import dataclass, field

SHOWN, PRIMARY, SECONDARY, HIDDEN = "shown", "primary", "secondary", "hidden"
QUARTER = 3
TOTAL = ""

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
