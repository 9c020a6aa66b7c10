"""Risk items' incident counts cannot be subtracted from each other (or from the trends
page) to reveal a small count: an item shows a count only where it is a cell of the
trends page, or a sum of shown cells (risk/assessment/trend.py)."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from tests.handling.conftest import Api
from tests.risk.assessment.conftest import RiskOrg, report
from tests.risk.assessment.test_access import _last_ended_quarter_day

K = 5


def _items(app: Any, ra: RiskOrg, approved: Any, first: dict[str, Any], *more: dict[str, Any]):
    """An assessment of Akutten with these items' scopes; the items as the manager sees
    them (JSON), in order."""
    aid = approved(**first)["id"]
    client = Api(app, ra.manager)
    started = client.post(f"/api/v1/risk/assessments/{aid}/versions")
    assert started.status_code in (200, 201), started.get_json()
    for n, scope in enumerate(more):
        body = {
            "hazard": f"Item {n + 2}",
            "factors": ["where_when"],
            "likelihood": 2,
            "consequence": 2,
            "scope_places": [],
            **scope,
        }
        added = client.post(f"/api/v1/risk/assessments/{aid}/items", body)
        assert added.status_code == 201, added.get_json()
    read = lambda: client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"]  # noqa: E731
    read.page = lambda: client.get(f"/risk/assessments/{aid}", headers={"Accept-Language": "en"})
    return read


def _places(app: Any, ra: RiskOrg, **counts: int) -> None:
    day = _last_ended_quarter_day().isoformat()
    for place, n in counts.items():
        for _ in range(n):
            report(app, ra.employee, ra.ward, place_type=place, occurred_at=day)


def _trends_places(app: Any, ra: RiskOrg) -> dict[str, dict[str, Any]]:
    """The last ended quarter's place cells of Akutten on the trends API."""
    day = _last_ended_quarter_day()
    code = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    body = (
        Api(app, ra.manager)
        .get(f"/api/v1/trends?unit={ra.emergency.id}&period=quarter&by=place&from={code}&to={code}")
        .get_json()
    )
    row = body["rows"][-1]
    return {c["category"]: {"count": c["count"], "mark": c["mark"]} for c in row["cells"]}


def _shown(items: list[dict[str, Any]]) -> list[int]:
    return [
        i["trend"][-1]["cell"]["count"]
        for i in items
        if i["trend"][-1]["cell"]["count"] is not None
    ]


def test_nested_item_scopes_do_not_reveal_a_small_count(app, ra, approved):
    read = _items(
        app,
        ra,
        approved,
        {"scope_places": ["front_desk"]},
        {"scope_places": ["front_desk", "patient_room"]},
    )
    _places(app, ra, front_desk=5, patient_room=2, outdoors=6)
    items = read()
    # The two patient-room incidents are hidden on the trends page, and so is every
    # item count they are part of.
    assert _trends_places(app, ra)["patient_room"]["count"] is None
    wide = items[1]["trend"][-1]["cell"]
    assert wide["count"] is None
    assert wide["mark"] != "shown"
    for a, b in combinations(_shown(items), 2):
        assert not 0 < abs(a - b) < K, (a, b)


def test_three_scopes_cannot_be_combined_either(app, ra, approved):
    """front desk + patient room, patient room + outdoors and all three: every pairwise
    difference is 0 or at least k (7, 7, 12), but 7 + 7 − 12 = 2 patient-room incidents.
    None of them may be shown."""
    read = _items(
        app,
        ra,
        approved,
        {"scope_places": ["front_desk", "patient_room"]},
        {"scope_places": ["patient_room", "outdoors"]},
        {"scope_places": ["front_desk", "patient_room", "outdoors"]},
    )
    _places(app, ra, front_desk=5, patient_room=2, outdoors=5, vehicle=6)
    items = read()
    assert [i["trend"][-1]["cell"]["count"] for i in items] == [None, None, None]


def test_an_item_shows_what_the_trends_page_shows(app, ra, approved):
    read = _items(
        app,
        ra,
        approved,
        {"scope_places": ["front_desk"]},
        {"scope_places": ["front_desk", "outdoors"]},
        {},  # the whole unit
    )
    _places(app, ra, front_desk=6, outdoors=5, vehicle=7)
    items = read()
    cells = _trends_places(app, ra)
    assert cells["front_desk"] == {"count": 6, "mark": "shown"}
    assert [i["trend"][-1]["cell"] for i in items] == [
        {"count": 6, "mark": "shown"},
        {"count": 11, "mark": "shown"},  # 6 + 5, both shown on the trends page
        {"count": 18, "mark": "shown"},  # the unit's total
    ]


def test_scopes_the_trends_page_does_not_count_get_no_counts(app, ra, approved):
    read = _items(
        app,
        ra,
        approved,
        {"scope_places": ["front_desk"]},
        {"scope_places": ["front_desk"], "scope_lone_work": True},
        {"scope_types": ["threat", "verbal_abuse"]},
    )
    _places(app, ra, front_desk=12)
    items = read()
    assert items[0]["trend"][-1]["cell"] == {"count": 12, "mark": "shown"}
    for item in items[1:]:
        assert item["trend"] == []
        assert "bare ett felt" in item["trend_withheld"]
    page = read.page()
    assert page.status_code == 200
    assert "kunne sammenlignes med hverandre" in page.get_data(as_text=True)
