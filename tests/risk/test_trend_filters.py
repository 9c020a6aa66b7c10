"""The trends filter: switching "Per" between month and quarter keeps the chosen range
instead of failing on the other kind of code."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from risk import demo
from risk.statistics import CACHE, add_months
from tests.factories import api_login
from tests.risk.conftest import ended_quarters
from trygg.extensions import db

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


def _incidents(app: Any, unit_id: int, first: Any, end: Any, per_month: int | None) -> None:
    """About 12 incidents a month in the unit, or exactly `per_month` of them."""
    with app.app_context():
        profile = demo.Profile(
            40.0,
            {"threat": 3, "verbal_abuse": 2, "physical_violence": 1},
            {"patient": 3, "relative": 1},
            {"patient_room": 2, "front_desk": 1},
        )
        rng = random.Random(3)
        found = []
        month = first
        while month <= end:
            drawn = list(demo.incidents([(unit_id, 30, profile)], month, month, rng))
            found += drawn[:per_month] if per_month is not None else drawn
            month = add_months(month, 1)
        demo.write(found, datetime.now(UTC) - timedelta(days=1), rng)
        db.session.commit()
    CACHE.items.clear()


def _hint(html: str) -> str | None:
    link = re.search(r'id="by-quarter-hint">[^<]*<a class="ds-link" href="([^"]+)"', html)
    return link.group(1).replace("&amp;", "&") if link else None


def test_a_month_table_mostly_hidden_offers_the_same_by_quarter(app, trends_org):
    # By month, a small unit's table was mostly "<5" and ":" with nothing saying why or
    # that a quarter counts more; the page now links to the same choice by quarter.
    first, last = ended_quarters(2)
    end = add_months(last, 2)
    _incidents(app, trends_org.outside.id, first, end, per_month=2)  # each month: <5
    client = _client(app, trends_org)
    chosen = f"unit={trends_org.outside.id}&from={first:%Y-%m}&to={end:%Y-%m}"
    rows = client.get(f"/api/v1/trends?{chosen}&period=month").get_json()["rows"]
    assert sum(row["total"]["mark"] != "shown" for row in rows) * 2 > len(rows)
    html = client.get(f"/trends?{chosen}&period=month", headers=EN).get_data(as_text=True)
    assert "De fleste av disse månedstallene er skjult fordi de er små" in html
    href = _hint(html)
    assert href is not None
    for kept in ("period=quarter", f"unit={trends_org.outside.id}", f"to={end:%Y-%m}"):
        assert kept in href
    by_quarter = client.get(href, headers=EN)
    assert by_quarter.status_code == 200
    quarter_html = by_quarter.get_data(as_text=True)
    assert re.search(r'<option value="quarter"[^>]*selected', quarter_html)
    assert _hint(quarter_html) is None


def test_a_month_table_mostly_shown_has_no_quarter_hint(app, trends_org):
    first, last = ended_quarters(2)
    end = add_months(last, 2)
    _incidents(app, trends_org.outside.id, first, end, per_month=None)  # shown
    client = _client(app, trends_org)
    chosen = f"unit={trends_org.outside.id}&from={first:%Y-%m}&to={end:%Y-%m}"
    rows = client.get(f"/api/v1/trends?{chosen}&period=month").get_json()["rows"]
    assert sum(row["total"]["mark"] == "shown" for row in rows) * 2 >= len(rows)
    html = client.get(f"/trends?{chosen}&period=month", headers=EN).get_data(as_text=True)
    assert _hint(html) is None
    assert "De fleste av disse månedstallene er skjult" not in html


def _by_select(html: str) -> str:
    return html.split('name="by"', 1)[1].split("</select>", 1)[0]


def test_nothing_chosen_as_breakdown_stays_chosen(app, trends_org):
    # "Nothing (totals only)" sends by= (empty): the table showed totals only, but the
    # form snapped back to "Type of incident", so the next "Show" broke it down again.
    client = _client(app, trends_org)
    page = client.get(f"/trends?unit={trends_org.big.id}&period=quarter&by=", headers=EN)
    assert page.status_code == 200
    chosen = _by_select(page.get_data(as_text=True))
    assert '<option value="">' in chosen
    assert "selected" not in chosen  # the empty first option is the one shown
    # Not asked for, the page breaks down by type; asked for, by what was asked.
    first = client.get(f"/trends?unit={trends_org.big.id}", headers=EN).get_data(as_text=True)
    assert '<option value="type" selected>' in _by_select(first)
    place = client.get(f"/trends?unit={trends_org.big.id}&by=place", headers=EN)
    assert '<option value="place" selected>' in _by_select(place.get_data(as_text=True))
