"""Time to close (trends by state): fixed yearly blocks of ended quarters whatever months
are asked for, counts protected with the state cells, medians only where no small group
can be told apart (risk/statistics/closing.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from handling import service as handling
from handling.models import Case
from handling.states import CaseState
from reporting.codes import Channel
from reporting.models import Report
from risk.statistics import CACHE, Cell, add_months
from risk.statistics.closing import combine, median_allowed, node_sizes
from risk.statistics.population import ORG, UnitRow, build_tree
from risk.statistics.protect import PRIMARY, SECONDARY, SHOWN
from tests.factories import Factory, api_login
from tests.risk.conftest import ended_quarters
from trygg.extensions import db
from trygg.roles import Role

K = 5

# The API's key for the closed cases of a year (not a case state).
CLOSED = "closed"  # vocabulary: JSON field


@pytest.fixture
def closed_cases(app, trends_org, make):
    """closed_cases({month: n}, unit=, anonymous=0) → closed cases with incidents in
    those months, the i-th taking 1 + i days to close."""
    handler = make.user(Role.HANDLER, name="H")
    with app.app_context():
        handling.save_group(actor="test", name="HMS", member_ids=[handler.id], is_default=True)
        db.session.commit()
    factory = Factory(app)
    made = []

    def add(per_month: dict[date, int], unit: Any = None, anonymous: int = 0) -> None:
        unit = unit or trends_org.big
        refs = []
        for month, n in per_month.items():
            when = datetime(month.year, month.month, 10, 12, tzinfo=UTC)
            for _ in range(n):
                refs.append(
                    factory.report(
                        trends_org.employee, unit_id=unit.id, occurred_at=when.isoformat()
                    )
                )
        with app.app_context():
            for ref in refs[:anonymous]:
                db.session.execute(
                    update(Report)
                    .where(Report.id == ref.report_id)
                    .values(channel_kind=Channel.ANONYMOUS)
                )
            for ref in refs:
                opened = db.session.get(Case, ref.id).opened_at
                days = 1 + len(made)
                made.append(ref)
                db.session.execute(
                    update(Case)
                    .where(Case.id == ref.id)
                    .values(state=CaseState.CLOSED, closed_at=opened + timedelta(days=days))
                )
            db.session.commit()
        CACHE.items.clear()

    return add


def _close_times(client: Any, unit: int, first: str, last: str, period: str = "month") -> list[Any]:
    url = f"/api/v1/trends?unit={unit}&period={period}&by=state&from={first}&to={last}"
    found = client.get(url)
    assert found.status_code == 200, found.get_json()
    return found.get_json()["close_times"]


def _amu(app: Any, trends_org: Any) -> Any:
    client = app.test_client()
    api_login(client, trends_org.amu)
    return client


def test_two_month_ranges_publish_the_same_close_figures(app, trends_org, closed_cases):
    """6 cases closed in the quarter's first month, 2 in its second: asking for the first
    month and then for both must not tell that 2 cases of the second month closed."""
    quarter = ended_quarters(1)[0]
    m1, m2 = quarter, add_months(quarter, 1)
    closed_cases({m1: 6, m2: 2})
    client = _amu(app, trends_org)
    one = _close_times(client, trends_org.big.id, f"{m1:%Y-%m}", f"{m1:%Y-%m}")
    two = _close_times(client, trends_org.big.id, f"{m1:%Y-%m}", f"{m2:%Y-%m}")
    assert one == two
    assert [row["year"] for row in one] == [m1.year]
    # The year's 8 closed cases are not shown: the second month's 2 hide the quarter's
    # state cells (as the state table shows them), so the median is not shown either.
    assert one[0][CLOSED]["count"] is None
    assert one[0]["median_days"] is None


def test_the_close_figures_of_a_year_do_not_depend_on_the_months_asked_for(
    app, trends_org, closed_cases
):
    quarter = ended_quarters(1)[0]
    m1, m2, m3 = quarter, add_months(quarter, 1), add_months(quarter, 2)
    closed_cases({m1: 6, m2: 5, m3: 5})
    client = _amu(app, trends_org)
    q = f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"
    seen = [
        _close_times(client, trends_org.big.id, f"{m1:%Y-%m}", f"{m1:%Y-%m}"),
        _close_times(client, trends_org.big.id, f"{m2:%Y-%m}", f"{m3:%Y-%m}"),
        _close_times(client, trends_org.big.id, q, q, "quarter"),
    ]
    assert seen[0] == seen[1] == seen[2]
    # 16 cases taking 1 … 16 days, each read at the middle of its tenth of a day: the
    # median is (8.05 + 9.05) / 2, shown as 8.6.
    assert seen[0] == [
        {"year": m1.year, CLOSED: {"count": 16, "mark": "shown"}, "median_days": 8.6}
    ]
    page = client.get(
        f"/trends?unit={trends_org.big.id}&period=month&by=state&from={m1:%Y-%m}&to={m1:%Y-%m}"
    ).get_data(as_text=True)
    assert "uansett hvilke måneder som er valgt" in page


def test_the_organisation_minus_its_units_does_not_reveal_anonymous_closures(
    app, trends_org, closed_cases
):
    """12 closed cases of Stor, 2 of them anonymous: the organisation's figures count the
    anonymous ones, Stor's do not. No two figures may differ by 2."""
    quarter = ended_quarters(1)[0]
    closed_cases({quarter: 6, add_months(quarter, 1): 6}, anonymous=2)
    client = _amu(app, trends_org)
    q = f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"
    rows = {
        node: _close_times(client, node, q, q, "quarter")
        for node in (ORG, trends_org.root.id, trends_org.big.id)
    }
    counts = [r[0][CLOSED]["count"] for r in rows.values() if r and r[0][CLOSED]["count"]]
    for a in counts:
        for b in counts:
            assert not 0 < abs(a - b) < K, rows
    medians = [node for node, r in rows.items() if r and r[0]["median_days"] is not None]
    # Tjenesten and Stor hold the same 10 cases; the organisation 2 more.
    assert ORG not in medians or not {trends_org.root.id, trends_org.big.id} & set(medians), rows
    # What the committee sees for the organisation: neither count nor median.
    assert rows[ORG] == [{"year": quarter.year, CLOSED: rows[ORG][0][CLOSED], "median_days": None}]
    assert rows[ORG][0][CLOSED]["count"] is None


# -- the rules on their own ---------------------------------------------------------------


def test_a_sum_of_cells_is_shown_only_when_every_cell_is():
    assert combine([Cell(5, SHOWN), Cell(0, SHOWN), Cell(7, SHOWN)]) == Cell(12, SHOWN)
    assert combine([Cell(0, SHOWN), Cell(None, PRIMARY)]) == Cell(None, PRIMARY)
    assert combine([Cell(6, SHOWN), Cell(None, PRIMARY)]) == Cell(None, SECONDARY)
    assert combine([Cell(None, PRIMARY), Cell(None, PRIMARY)]) == Cell(None, SECONDARY)


def test_a_median_is_shown_only_beside_sets_that_differ_by_none_or_at_least_k():
    units = [UnitRow(1, None, 100), UnitRow(2, 1, 40), UnitRow(3, 1, 40), UnitRow(4, 2, 20)]
    tree = build_tree(units, K)
    # Unit 2 holds 10 closed cases, its sub-unit 4 eight of them: 2 between them.
    sizes = node_sizes(tree, {2: 2, 4: 8, 3: 10}, 20)
    assert sizes == {ORG: 20, 1: 20, 2: 10, 3: 10, 4: 8}
    assert not median_allowed(tree, 2, sizes, K)
    assert not median_allowed(tree, 4, sizes, K)
    assert median_allowed(tree, 3, sizes, K)  # 10 apart from the 20 above it
    assert median_allowed(tree, 1, sizes, K)  # 0 apart from the organisation, 10 from 2
    # The organisation with 3 anonymous closures more than its one unit: neither.
    sizes = node_sizes(tree, {2: 2, 4: 8, 3: 10}, 23)
    assert not median_allowed(tree, ORG, sizes, K)
    assert not median_allowed(tree, 1, sizes, K)
    assert not median_allowed(tree, 3, {3: 4}, K)  # fewer than k cases
