"""Protection results that outlive a process: their keys and their stored form.

A quarter's protection (protect/) depends on nothing but its counts per base, the
published unit tree, k, whether secondary suppression is on, and the algorithm. The key
of a result is the SHA-256 of the canonical JSON of exactly these (a dimension's key
adds its code, categories, several-valuedness, its counts, and the key of the totals it
was protected under), so equal inputs give the same key in every process and any change
to a count gives another: a stored result is never stale. The stored form holds marks
only, never a count: per mark, the cells that have it (node and bucket as node * 4 +
bucket). risk/patterns.py keeps them in the database; publish() asks it through the
`Stored` protocol, so this package does not touch the database itself.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from risk.statistics.protect import QUARTER, TotalsPattern

# Bump when protect/ can choose other marks for the same counts: every stored result
# then misses and is protected afresh (the old ones are pruned when unused).
ALGORITHM = 1
BUCKETS = QUARTER + 1

Marks = dict[str, Any]


class Stored(Protocol):
    """Where publish() finds and keeps protection results (risk/patterns.py)."""

    def lookup(self, keys: list[str]) -> Mapping[str, Marks]: ...

    def store(self, key: str, marks: Marks) -> None: ...

    def touch(self, key: str, marks: Callable[[], Marks]) -> None:
        """A result this process had in memory was used again (`marks`: to store it
        again if it is gone)."""


def _digest(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def shape(parent: Mapping[int, int | None], k: int, secondary: bool) -> list[object]:
    """What every key of one tree and one set of rules shares."""
    return [ALGORITHM, k, secondary, sorted([n, p] for n, p in parent.items())]


def totals_key(basis: list[object], months: int, counts: Mapping[tuple[int, int], int]) -> str:
    rows = sorted([b, m, n] for (b, m), n in counts.items() if n)
    return _digest(["totals", basis, months, rows])


def dimension_key(
    totals: str,
    code: str,
    columns: list[str],
    multi: bool,
    counts: Mapping[tuple[int, int, str], int],
) -> str:
    rows = sorted([b, m, c, n] for (b, m, c), n in counts.items() if n)
    return _digest(["dimension", totals, code, list(columns), multi, rows])


def _cell(node: int, bucket: int) -> int:
    return node * BUCKETS + bucket


def _uncell(value: int) -> tuple[int, int]:
    return value // BUCKETS, value % BUCKETS


def encode_totals(pattern: TotalsPattern) -> Marks:
    status: dict[str, list[int]] = defaultdict(list)
    for (n, t), mark in pattern.status.items():
        status[mark].append(_cell(n, t))
    return {
        "status": {mark: sorted(cells) for mark, cells in status.items()},
        "rows": sorted(_cell(n, t) for n, t in pattern.hidden_rows),
    }


def decode_totals(marks: Marks) -> TotalsPattern:
    status = {_uncell(c): mark for mark, cells in marks["status"].items() for c in cells}
    return TotalsPattern(status, {_uncell(c) for c in marks["rows"]})


def encode_dimension(found: Mapping[tuple[int, int, str], str]) -> Marks:
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for (n, t, col), mark in found.items():
        out[mark][col].append(_cell(n, t))
    return {"marks": {m: {c: sorted(v) for c, v in cols.items()} for m, cols in out.items()}}


def decode_dimension(marks: Marks) -> dict[tuple[int, int, str], str]:
    out: dict[tuple[int, int, str], str] = {}
    for mark, cols in marks["marks"].items():
        for col, cells in cols.items():
            for c in cells:
                n, t = _uncell(c)
                out[n, t, col] = mark
    return out
