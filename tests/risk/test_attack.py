"""The attack: every query the API allows a viewer, every published cell collected, and each
hidden small count solved for by linear programming. None may be pinned; with secondary
suppression or the differencing guard switched off, some are.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from risk import data as risk_data
from risk import service
from risk.dimensions import DIMENSIONS
from risk.statistics import CACHE, ORG, Rules, add_months, quarter_of, tree_for
from risk.statistics.protect import QUARTER, TOTAL
from tests.handling.conftest import Api
from tests.risk.attack import Dim, Seen, attack
from tests.risk.conftest import ended_quarters

K = 5
ALL_BY = [None, *DIMENSIONS]


def _bucket(code: str) -> tuple[date, int]:
    """An API bucket code as (quarter start, month index or QUARTER)."""
    if "Q" in code:
        year, q = code.split("-Q")
        return date(int(year), 3 * int(q) - 2, 1), QUARTER
    year, month = code.split("-")
    start = date(int(year), int(month), 1)
    q = quarter_of(start)
    return q, start.month - q.month


def collect(client: Api, quarters: list[date]) -> tuple[dict[date, Seen], list[tuple[Any, ...]]]:
    """Ask every question the API allows; what came back, per quarter, and the refusals."""
    seen: dict[date, Seen] = defaultdict(Seen)
    refused = []
    dims = client.get("/api/v1/trends/dimensions").get_json()
    units = [u["id"] for u in dims["units"]]
    first, last = quarters[0], add_months(quarters[-1], 2)
    for unit in units:
        for period in ("month", "quarter"):
            span = (
                {"from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"}
                if period == "month"
                else {"from": service_code(first), "to": service_code(quarters[-1])}
            )
            for by in ALL_BY:
                args = {"unit": unit, "period": period, **span}
                if by:
                    args["by"] = by
                response = client.get("/api/v1/trends", query_string=args)
                assert response.status_code == 200, response.get_json()
                _record(seen, response.get_json())
    return seen, refused


def service_code(q: date) -> str:
    return f"{q.year}-Q{(q.month - 1) // 3 + 1}"


def _record(seen: dict[date, Seen], body: dict[str, Any]) -> None:
    node = body["unit"]["id"]
    by = body["by"]
    codes = [c["code"] for c in body["categories"]]
    for row in body["rows"]:
        q, t = _bucket(row["bucket"])
        total = row["total"]
        _same(seen[q].totals, (node, t), (total["mark"], total["count"]))
        for code, cell in zip(codes, row["cells"], strict=True):
            assert cell["category"] == code
            table = seen[q].dims.setdefault(by, {})
            _same(table, (node, t, code), (cell["mark"], cell["count"]))


def _same(table: dict[Any, Any], key: Any, value: Any) -> None:
    """A cell must read the same in every answer that shows it."""
    assert table.setdefault(key, value) == value, (key, table[key], value)


def truth(app: Any, rules: Rules, quarters: list[date]) -> tuple[Any, dict[date, Any]]:
    """The true base counts per quarter (for deciding which cells are sensitive)."""
    with app.app_context():
        tree = tree_for(service.unit_rows(), rules)
        start, end = quarters[0], add_months(quarters[-1], 2)
        raw = {None: risk_data.totals(start, end)}
        for code, dim in DIMENSIONS.items():
            raw[code] = risk_data.counts(dim, start, end)
    per_q: dict[date, Any] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for code, counts in raw.items():
        for (unit_id, anonymous, month, col), n in counts.items():
            base = ORG if anonymous or unit_id is None else tree.home[unit_id]
            q = quarter_of(month)
            per_q[q][code][base, month.month - q.month, col or TOTAL] += n
    return tree, per_q


def pinned_cells(
    app: Any,
    client: Api,
    rules: Rules,
    small: set[int] = frozenset(),  # type: ignore[assignment]
    *,
    first_only: bool = False,
) -> list[Any]:
    quarters = ended_quarters(2)
    seen, _ = collect(client, quarters)
    tree, per_q = truth(app, rules, quarters)
    found = []
    for q in quarters:
        totals = {(b, m): n for (b, m, _c), n in per_q[q][None].items()}
        dims = [
            Dim(code, d.columns, d.multi, dict(per_q[q][code]))
            for code, d in DIMENSIONS.items()
            if code in seen[q].dims
        ]
        found += attack(
            tree, 3, totals, dims, seen[q], K, small_groups=small, first_only=first_only
        )
        if found and first_only:
            break
    return found


def loosened(monkeypatch, **switches: bool) -> Rules:
    """The trends rules with a safeguard switched off, and nothing cached from before."""
    loose = Rules(k=K, **switches)
    monkeypatch.setattr(service, "rules", lambda: loose)
    CACHE.items.clear()
    return loose


@pytest.fixture
def amu_client(app, trends_org):
    return Api(app, trends_org.amu)


def test_no_hidden_count_can_be_worked_out_by_the_committee(
    app, trends_org, with_incidents, amu_client
):
    with_incidents(1)
    assert pinned_cells(app, amu_client, Rules(k=K)) == []


def test_a_manager_sees_fewer_cells_and_can_pin_none(app, trends_org, with_incidents):
    with_incidents(3)
    client = Api(app, trends_org.manager)
    assert pinned_cells(app, client, Rules(k=K)) == []


def test_without_secondary_suppression_the_attack_succeeds(
    app, trends_org, with_incidents, amu_client, monkeypatch
):
    with_incidents(1)
    loose = loosened(monkeypatch, secondary=False)
    assert pinned_cells(app, amu_client, loose, first_only=True) != []


def test_without_the_differencing_guard_a_small_group_is_revealed(
    app, trends_org, with_incidents, amu_client, monkeypatch
):
    with_incidents(1)
    loose = loosened(monkeypatch, differencing=False)
    # Tjenesten minus Stor minus Seks is Fire: 4 people, counted at Tjenesten's own base.
    found = pinned_cells(app, amu_client, loose, small={trends_org.root.id}, first_only=True)
    assert any(p.kind == "base" and p.ident == trends_org.root.id for p in found)
