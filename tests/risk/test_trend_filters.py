"""The trends filter: switching "Per" between month and quarter keeps the chosen range
instead of failing on the other kind of code."""

from __future__ import annotations

from typing import Any

from risk.statistics import add_months
from tests.factories import api_login
from tests.risk.conftest import ended_quarters

EN = {"Accept-Language": "en"}


def _client(app: Any, trends_org: Any) -> Any:
    client = app.test_client()
    api_login(client, trends_org.amu)
    return client


def _code(quarter: Any) -> str:
    return f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"


def test_a_month_chosen_before_switching_to_quarters_shows_its_quarter(app, trends_org):
    """/trends?period=month, "From" a quarter's last month, "Per" switched to quarter,
    "Show": the form sends a month with period=quarter."""
    first, last = ended_quarters(2)
    month = add_months(first, 2)
    client = _client(app, trends_org)
    page = client.get(
        f"/trends?unit={trends_org.big.id}&period=quarter&from={month:%Y-%m}&to={last:%Y-%m}",
        headers=EN,
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Give a quarter like" not in html
    # The table starts at that month's quarter and the form now shows quarters.
    assert f'<option value="{_code(first)}" selected>' in html
    assert f'<option value="{_code(last)}" selected>' in html
    body = client.get(
        f"/api/v1/trends?unit={trends_org.big.id}&period=quarter&from={month:%Y-%m}&to={last:%Y-%m}"
    ).get_json()
    assert [row["bucket"] for row in body["rows"]] == [_code(first), _code(last)]


def test_a_quarter_chosen_before_switching_to_months_shows_its_months(app, trends_org):
    quarter = ended_quarters(1)[0]
    client = _client(app, trends_org)
    found = client.get(
        f"/api/v1/trends?unit={trends_org.big.id}&period=month"
        f"&from={_code(quarter)}&to={_code(quarter)}"
    )
    assert found.status_code == 200, found.get_json()
    months = [f"{add_months(quarter, i):%Y-%m}" for i in range(3)]
    assert [row["bucket"] for row in found.get_json()["rows"]] == months
    html = client.get(
        f"/trends?unit={trends_org.big.id}&period=month&from={_code(quarter)}&to={_code(quarter)}",
        headers=EN,
    ).get_data(as_text=True)
    assert f'<option value="{months[0]}" selected>' in html
    assert f'<option value="{months[-1]}" selected>' in html


def test_a_code_that_is_neither_is_still_refused(app, trends_org):
    client = _client(app, trends_org)
    for period, text in (("quarter", "2026-Q5"), ("month", "2026-13"), ("month", "soon")):
        found = client.get(f"/api/v1/trends?unit={trends_org.big.id}&period={period}&from={text}")
        assert found.status_code == 400, (period, text)
        assert "from" in found.get_json()["errors"]
