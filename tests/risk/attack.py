"""The attacker: everything a viewer saw, as a linear program; can a hidden count be pinned?

Per quarter (quarters share no cell), the unknowns are each base's count per month: the
total of reports and each dimension's categories. What the viewer knows constrains them:
a shown cell exactly, a primary mark to 1 … k−1, a secondary mark to at least k, a hidden
cell to at least 0; per base and month a single-valued dimension adds up to the total, a
several-valued one lies between the largest category and the sum. For each sensitive
cell (a true count in 1 … k−1, shown or not, of a node or a base) the attacker solves for
its smallest and largest value; it is pinned when no two whole numbers fit between them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from risk.statistics.population import Tree
from risk.statistics.protect import HIDDEN, PRIMARY, QUARTER, SECONDARY, SHOWN, TOTAL

Cell = tuple[int, int, str]  # (node, bucket, column); column TOTAL for the total


@dataclass
class Dim:
    name: str
    columns: list[str]
    multi: bool
    cells: dict[tuple[int, int, str], int]  # base counts (base, month, category)


@dataclass
class Seen:
    """What one viewer saw of a quarter: a mark (and a value when shown) per cell."""

    totals: dict[tuple[int, int], tuple[str, int | None]] = field(default_factory=dict)
    dims: dict[str, dict[Cell, tuple[str, int | None]]] = field(default_factory=dict)


@dataclass
class Pinned:
    table: str
    kind: str
    ident: int
    bucket: int
    column: str
    value: int
    low: float
    high: float


def attack(
    tree: Tree,
    months: int,
    totals: Mapping[tuple[int, int], int],
    dims: list[Dim],
    seen: Seen,
    k: int,
    *,
    small_groups: set[int] = frozenset(),  # type: ignore[assignment]
    first_only: bool = False,
) -> list[Pinned]:
    """Every sensitive cell the viewer can pin (empty when the table protects them all).

    `small_groups`: bases whose population is 1 … k−1 (only with the differencing guard
    off): every count of theirs is sensitive, 0 and large ones too.
    """
    bases = tree.nodes
    month_range = range(months)
    var: dict[tuple[str, int, int, str], int] = {}
    for b in bases:
        for m in month_range:
            var[TOTAL, b, m, TOTAL] = len(var)
            for dim in dims:
                for col in dim.columns:
                    var[dim.name, b, m, col] = len(var)
    rows: list[dict[int, float]] = []
    low: list[float] = []
    high: list[float] = []
    subtree = {n: tree.subtree(n) for n in bases}
    buckets = [*month_range, *((QUARTER,) if months == 3 else ())]

    def expr(table: str, kind: str, ident: int, t: int, col: str) -> dict[int, float]:
        who = subtree[ident] if kind == "node" else {ident}
        when = month_range if t == QUARTER else [t]
        return {var[table, b, m, col]: 1.0 for b in who for m in when}

    def bound(coef: dict[int, float], mark: str, value: int | None) -> None:
        if mark == SHOWN:
            rows.append(coef), low.append(value), high.append(value)  # type: ignore[func-returns-value]
        elif mark == PRIMARY:
            rows.append(coef), low.append(1), high.append(k - 1)  # type: ignore[func-returns-value]
        elif mark == SECONDARY:
            rows.append(coef), low.append(k), high.append(math.inf)  # type: ignore[func-returns-value]

    for (n, t), (mark, value) in seen.totals.items():
        bound(expr(TOTAL, "node", n, t, TOTAL), mark, value)
    for dim in dims:
        for (n, t, col), (mark, value) in seen.dims.get(dim.name, {}).items():
            bound(expr(dim.name, "node", n, t, col), mark, value)
        for b in bases:
            for m in month_range:
                total = var[TOTAL, b, m, TOTAL]
                parts = {var[dim.name, b, m, c]: 1.0 for c in dim.columns}
                if dim.multi:
                    rows.append({**parts, total: -1.0}), low.append(0), high.append(math.inf)  # type: ignore[func-returns-value]
                    for c in dim.columns:
                        rows.append({var[dim.name, b, m, c]: 1.0, total: -1.0})
                        low.append(-math.inf), high.append(0)  # type: ignore[func-returns-value]
                else:
                    rows.append({**parts, total: -1.0}), low.append(0), high.append(0)  # type: ignore[func-returns-value]
    matrix = lil_matrix((len(rows), len(var)))
    for i, coef in enumerate(rows):
        for j, a in coef.items():
            matrix[i, j] = a
    a_ub, b_ub = [], []
    matrix = matrix.tocsr()
    lo, hi = np.array(low, dtype=float), np.array(high, dtype=float)
    upper = np.isfinite(hi)
    lower = np.isfinite(lo)
    from scipy.sparse import vstack

    a_ub = vstack([matrix[upper], -matrix[lower]])
    b_ub = np.concatenate([hi[upper], -lo[lower]])

    truth: dict[int, int] = {}
    for (b, m), v in totals.items():
        if (TOTAL, b, m, TOTAL) in var:
            truth[var[TOTAL, b, m, TOTAL]] = v
    for dim in dims:
        for (b, m, c), v in dim.cells.items():
            truth[var[dim.name, b, m, c]] = v

    def solve(coef: dict[int, float], sign: float) -> float:
        c = np.zeros(len(var))
        for j, a in coef.items():
            c[j] = sign * a
        result = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        assert result.status in (0, 3), result.message  # 3: unbounded (no upper limit)
        return sign * result.fun if result.status == 0 else math.inf

    pinned: list[Pinned] = []
    tables = [(TOTAL, [TOTAL])] + [(d.name, d.columns) for d in dims]
    for table, columns in tables:
        for kind in ("node", "base"):
            for ident in bases:
                if kind == "base" and tree.is_leaf(ident):
                    continue
                for t in buckets:
                    for col in columns:
                        coef = expr(table, kind, ident, t, col)
                        value = sum(truth.get(j, 0) for j in coef)
                        small = kind == "base" and ident in small_groups
                        if not (0 < value < k) and not small:
                            continue
                        hi_v = solve(coef, -1.0)
                        if math.isinf(hi_v) or hi_v >= value + 1 - 1e-6:
                            continue  # it could be larger: not pinned
                        lo_v = solve(coef, 1.0)
                        if math.ceil(lo_v - 1e-6) >= math.floor(hi_v + 1e-6):
                            pinned.append(Pinned(table, kind, ident, t, col, value, lo_v, hi_v))
                            if first_only:
                                return pinned
    return pinned


def hidden_mark(mark: str) -> bool:
    return mark in (PRIMARY, SECONDARY, HIDDEN)
