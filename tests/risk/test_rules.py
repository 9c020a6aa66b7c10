"""The privacy rules as tables: each rule with the counts and units that trigger it."""

from __future__ import annotations

import pytest

from risk.statistics import Rules
from risk.statistics.population import ORG, UnitRow, build_tree, populations
from risk.statistics.protect import (
    HIDDEN,
    PRIMARY,
    QUARTER,
    SECONDARY,
    SHOWN,
    QuarterCounts,
    protect_dimension,
    protect_totals,
)
from tests.risk.attack import Dim, Seen, attack
from trygg.settings import ConfigError, load, validate

# -- primary suppression ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "count", "mark"),
    [
        (5, 0, SHOWN),
        (5, 1, PRIMARY),
        (5, 4, PRIMARY),
        (5, 5, SHOWN),
        (3, 2, PRIMARY),
        (3, 3, SHOWN),
        (7, 6, PRIMARY),
        (7, 7, SHOWN),
    ],
)
def test_primary_suppression_hides_1_to_k_minus_1(k, count, mark):
    tree = build_tree([UnitRow(1, None, 100)], k)
    # One unit with `count` reports in month 0 and plenty in the other months.
    data = QuarterCounts(3, {(1, 0): count, (1, 1): 20, (1, 2): 20})
    pattern = protect_totals(tree, data, k, secondary=False)
    assert pattern.status.get((1, 0), SHOWN) == mark


@pytest.mark.parametrize("k", [0, 1, 2])
def test_k_is_never_below_3(k, keyring_path, tmp_path):
    with pytest.raises(ValueError, match="at least 3"):
        Rules(k=k)
    values = load({}, {"trends_k": k, "secret_key": "x" * 40, "keyring_path": str(keyring_path)})
    with pytest.raises(ConfigError, match="TRENDS_K"):
        validate(values)


# -- units: population, small units, differencing ---------------------------------------


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        ([(1, None, 10), (2, 1, 4), (3, 1, 3)], {1: 10, 2: 4, 3: 3}),  # headcount includes
        ([(1, None, 0), (2, 1, 4), (3, 1, 3)], {1: 7, 2: 4, 3: 3}),  # own staff only
        ([(1, None, 5), (2, 1, 40)], {1: 40, 2: 40}),
    ],
)
def test_population_is_headcount_or_the_sum_below(units, expected):
    assert populations([UnitRow(*u) for u in units]) == expected


@pytest.mark.parametrize(
    ("units", "published", "reasons"),
    [
        # A unit of 4 is shown only inside its parent; one of 5 on its own.
        ([(1, None, 55), (2, 1, 4), (3, 1, 5), (4, 1, 41)], {1, 3, 4}, {2: "small"}),
        # Below a hidden unit nothing is shown on its own.
        ([(1, None, 50), (2, 1, 4), (3, 2, 4)], {1}, {2: "small", 3: "small"}),
        # The parent minus its shown children would be 4 people: the smallest child goes.
        (
            [(1, None, 50), (2, 1, 40), (3, 1, 6), (4, 1, 4)],
            {1, 2},
            {3: "differencing", 4: "small"},
        ),
        # ... but 0 people left over is fine: nothing to tell apart.
        ([(1, None, 46), (2, 1, 40), (3, 1, 6)], {1, 2, 3}, {}),
        # The organisation as a whole counts too: two roots, one of 3 people.
        (
            [(1, None, 40), (2, None, 6), (3, None, 3)],
            {2} - {2} | {1},
            {2: "differencing", 3: "small"},
        ),
    ],
)
def test_small_units_and_the_differencing_guard(units, published, reasons):
    tree = build_tree([UnitRow(*u) for u in units], 5)
    assert set(tree.nodes) - {ORG} == published
    assert {u: r for u, r in tree.reason.items()} == reasons
    for unit_id, _parent, _h in units:
        assert tree.home[unit_id] in tree.nodes


def test_without_the_guard_the_small_difference_stays():
    units = [UnitRow(1, None, 50), UnitRow(2, 1, 40), UnitRow(3, 1, 6), UnitRow(4, 1, 4)]
    tree = build_tree(units, 5, differencing=False)
    assert set(tree.nodes) == {ORG, 1, 2, 3}


# -- secondary suppression --------------------------------------------------------------

CATS = ["a", "b", "c"]


def _publish(units, totals, cells, k=5, secondary=True):
    tree = build_tree([UnitRow(*u) for u in units], k)
    data = QuarterCounts(3, totals)
    pattern = protect_totals(tree, data, k, secondary=secondary)
    marks = protect_dimension(
        tree, QuarterCounts(3, totals, cells), k, CATS, pattern, multi=False, secondary=secondary
    )
    seen = Seen()
    sums_t: dict = {}
    sums_d: dict = {}
    for (b, m), n in totals.items():
        for up in tree.chain[b]:
            for t in (m, QUARTER):
                sums_t[up, t] = sums_t.get((up, t), 0) + n
    for (b, m, c), n in cells.items():
        for up in tree.chain[b]:
            for t in (m, QUARTER):
                sums_d[up, t, c] = sums_d.get((up, t, c), 0) + n
    for n in tree.nodes:
        for t in (0, 1, 2, QUARTER):
            mark = pattern.status.get((n, t), SHOWN)
            seen.totals[n, t] = (mark, sums_t.get((n, t), 0) if mark == SHOWN else None)
            for c in CATS:
                mark = marks.get((n, t, c), SHOWN)
                value = sums_d.get((n, t, c), 0)
                seen.dims.setdefault("d", {})[n, t, c] = (mark, value if mark == SHOWN else None)
    pinned = attack(tree, 3, totals, [Dim("d", CATS, False, cells)], seen, k)
    return tree, pattern, marks, pinned


def _row(unit, month, **counts):
    return {(unit, month, c): n for c, n in counts.items()}


# (what, per-month category counts of unit 2 under a big unit 1) — each triggers a rule.
SECONDARY_CASES = [
    ("one small cell in a shown row", [dict(a=20, b=3, c=0)] * 3),
    ("two ones in a row: both pinned at 1 without more", [dict(a=20, b=1, c=1)] * 3),
    ("a small month total", [dict(a=2, b=1, c=0), dict(a=9, b=6), dict(a=7, b=5)]),
    ("the row's total is just above k", [dict(a=5, b=1), dict(a=12, b=3), dict(a=9, b=9)]),
    ("a small quarter cell", [dict(a=20, c=1), dict(a=20, c=1), dict(a=20, c=1)]),
]


@pytest.mark.parametrize(("what", "months"), SECONDARY_CASES, ids=[c[0] for c in SECONDARY_CASES])
def test_secondary_suppression_leaves_no_hidden_count_derivable(what, months):
    units = [(1, None, 200), (2, 1, 40), (3, 1, 40)]
    cells: dict = {}
    totals: dict = {}
    for m, counts in enumerate(months):
        cells.update(_row(2, m, **counts))
        cells.update(_row(3, m, a=10, b=6, c=5))
        cells.update(_row(1, m, a=2, b=1))
        totals[2, m] = sum(counts.values())
        totals[3, m] = 21
        totals[1, m] = 3
    _tree, pattern, marks, pinned = _publish(units, totals, cells)
    assert pinned == [], what
    _tree, _p, _m, loose = _publish(units, totals, cells, secondary=False)
    assert loose != [], f"{what}: the case should need secondary suppression"


def test_a_hidden_total_hides_its_breakdown_row():
    units = [(1, None, 200), (2, 1, 40), (3, 1, 40)]
    totals = {(2, 0): 3, (2, 1): 10, (2, 2): 10, (3, 0): 10, (3, 1): 10, (3, 2): 10}
    cells = {**_row(2, 0, a=3), **_row(2, 1, a=10), **_row(2, 2, a=10)}
    cells.update({(3, m, "a"): 10 for m in range(3)})
    _tree, pattern, marks, pinned = _publish(units, totals, cells)
    assert pattern.status[2, 0] == PRIMARY
    assert {marks[2, 0, c] for c in CATS} == {HIDDEN}
    assert pinned == []
    assert SECONDARY in set(pattern.status.values()) | set(marks.values()) or pattern.hidden_rows
