"""The matrix presets and their levels; an approved version cannot change; new versions
keep the history and compare."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from risk.assessment import matrix
from risk.assessment.triggers import now_local
from tests.factories import choose_language, form_token
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import ITEM, assessment_body, measure_body, today


@pytest.mark.parametrize(
    ("size", "likelihood", "consequence", "name"),
    [
        (5, 1, 1, "Low"),
        (5, 2, 2, "Low"),
        (5, 1, 5, "Moderate"),
        (5, 3, 3, "Moderate"),
        (5, 2, 5, "High"),
        (5, 4, 4, "High"),
        (5, 4, 5, "Very high"),
        (5, 5, 5, "Very high"),
        (4, 1, 3, "Low"),
        (4, 2, 2, "Moderate"),
        (4, 2, 4, "High"),
        (4, 3, 4, "Very high"),
        (3, 1, 2, "Low"),
        (3, 1, 3, "Moderate"),
        (3, 2, 3, "Very high"),
        (3, 3, 3, "Very high"),
    ],
)
def test_levels_of_each_preset(app, size, likelihood, consequence, name):
    with app.test_request_context(), force_locale("en"):
        level = matrix.level_of(likelihood, consequence, matrix.default_levels(size))
        assert level is not None
        assert level.name == name


def test_every_level_has_a_pattern_and_readable_colour(app):
    with app.test_request_context():
        for size in matrix.SIZES:
            levels = matrix.default_levels(size)
            assert len({level.pattern for level in levels}) == len(levels)
            assert all(matrix.contrast_with_black(level.colour) >= 4.5 for level in levels)


def test_admin_levels_replace_the_defaults_and_refuse_a_dark_colour(app, ra):
    from tests.factories import form_login, form_token

    client = app.test_client()
    form_login(client, ra.admin)
    token = form_token(client, "/admin/risk/matrix")
    form = {"csrf_token": token, "size": "3"}
    for rank, (name, low, colour) in enumerate([("Grønn", 1, "#ccffcc"), ("Rød", 4, "#ffcccc")]):
        form |= {
            f"l{rank}-name_nb": name,
            f"l{rank}-name_en": name,
            f"l{rank}-min_score": str(low),
            f"l{rank}-colour": colour,
            f"l{rank}-demand_nb": "Tiltak",
            f"l{rank}-demand_en": "Measures",
        }
    assert client.post("/admin/risk/matrix", data=form).status_code == 200
    with app.app_context():
        assert [lv.name for lv in matrix.levels(3)] == ["Grønn", "Rød"]
        assert matrix.level_of(2, 2, matrix.levels(3)).name == "Rød"
    dark = form | {"l1-colour": "#202020"}
    refused = client.post("/admin/risk/matrix", data=dark)
    assert refused.status_code == 400
    assert "#202020" in refused.get_data(as_text=True)
    # A name too long for a badge is refused, not cut, and the form keeps what was typed.
    long_name = "Svært alvorlig risiko som krever strakstiltak før arbeidet fortsetter"
    refused = client.post("/admin/risk/matrix", data=form | {"l1-name_nb": long_name})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Navn på norsk" in text
    assert f'value="{long_name}"' in text
    with app.app_context():
        assert [lv.name for lv in matrix.levels(3)] == ["Grønn", "Rød"]


def test_level_names_and_demands_are_shown_in_the_readers_language(app, ra, approved):
    from tests.factories import form_login, form_token

    client = app.test_client()
    form_login(client, ra.admin)
    choose_language(client, "en")
    page = client.get("/admin/risk/matrix")
    # The shipped levels are offered in both languages.
    assert 'value="Svært høy"' in page.get_data(as_text=True)
    assert 'value="Very high"' in page.get_data(as_text=True)
    token = form_token(client, "/admin/risk/matrix")
    form = {"csrf_token": token, "size": "5"}
    levels = [("Lav", "Low", 1, "Følg med", "Keep watch"), ("Høy", "High", 10, "Stopp", "Stop")]
    for rank, (nb, en, low, demand_nb, demand_en) in enumerate(levels):
        form |= {
            f"l{rank}-name_nb": nb,
            f"l{rank}-name_en": en,
            f"l{rank}-min_score": str(low),
            f"l{rank}-colour": "#ffffff",
            f"l{rank}-demand_nb": demand_nb,
            f"l{rank}-demand_en": demand_en,
        }
    assert client.post("/admin/risk/matrix", data=form).status_code == 200
    aid = approved()["id"]  # one item, 3 × 4 = 12: the top level
    leader = app.test_client()
    form_login(leader, ra.manager)
    choose_language(leader, "en")
    en = leader.get(f"/risk/assessments/{aid}")
    choose_language(leader, "nb")
    nb = leader.get(f"/risk/assessments/{aid}")
    assert ">High</span>" in en.get_data(as_text=True)
    assert "Keep watch" in en.get_data(as_text=True)
    assert "Følg med" not in en.get_data(as_text=True)
    assert ">Høy</span>" in nb.get_data(as_text=True)
    assert "Følg med" in nb.get_data(as_text=True)
    assert ">Høy</span>" not in en.get_data(as_text=True)

    half = form | {"l1-name_en": ""}
    refused = client.post("/admin/risk/matrix", data=half, headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert "Give each level a name in Norwegian and in English." in refused.get_data(as_text=True)


def test_an_approved_version_is_frozen_and_a_new_version_keeps_history(app, ra, approved):
    body = approved()
    aid = body["id"]
    client = Api(app, ra.manager)
    refused = client.post(f"/api/v1/risk/assessments/{aid}/items", ITEM)
    assert refused.status_code == 409
    refused = client.post(f"/api/v1/risk/assessments/{aid}/items/1", {**ITEM, "likelihood": 5})
    assert refused.status_code == 409
    new = client.post(f"/api/v1/risk/assessments/{aid}/versions")
    assert new.status_code == 201
    assert new.get_json()["version"]["number"] == 2
    assert [i["ref"] for i in new.get_json()["items"]] == [1]
    changed = client.post(f"/api/v1/risk/assessments/{aid}/items/1", {**ITEM, "likelihood": 5})
    assert changed.status_code == 200, changed.get_json()
    first = client.get(f"/api/v1/risk/assessments/{aid}?version=1").get_json()
    assert first["items"][0]["likelihood"] == 3
    assert first["version"]["status"] == "approved"
    assert first["versions"] == [1, 2]
    choose_language(client.client, "en")
    page = client.get(f"/risk/assessments/{aid}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "Compared with version 1" in text


def test_bad_input_is_a_clear_400_and_nothing_is_stored(app, ra):
    client = Api(app, ra.manager)
    bad = client.post(
        "/api/v1/risk/assessments", assessment_body(ra.emergency, period_end="2000-01-01")
    )
    assert bad.status_code == 400
    assert "period_end" in bad.get_json()["errors"]
    assert client.get("/api/v1/risk/assessments").get_json()["assessments"] == []
    aid = client.post("/api/v1/risk/assessments", assessment_body(ra.emergency)).get_json()["id"]
    too_big = client.post(f"/api/v1/risk/assessments/{aid}/items", {**ITEM, "likelihood": 6})
    assert too_big.status_code == 400
    assert "likelihood" in too_big.get_json()["errors"]
    unknown = client.post(f"/api/v1/risk/assessments/{aid}/items", {**ITEM, "factors": ["x"]})
    assert unknown.status_code == 400
    assert client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"] == []


def test_the_risk_after_measures_is_not_higher_than_before(app, ra):
    # 3 × 4 before and 5 × 5 after was saved as "Level after measures: Very high" under
    # "Level: High", a slip no one was told of.
    client = Api(app, ra.manager)
    aid = client.post("/api/v1/risk/assessments", assessment_body(ra.emergency)).get_json()["id"]
    items = f"/api/v1/risk/assessments/{aid}/items"
    higher = client.post(items, {**ITEM, "likelihood_after": 5, "consequence_after": 5})
    assert higher.status_code == 400
    assert higher.get_json()["errors"]["likelihood_after"] == [
        "Risikoen etter de planlagte tiltakene kan ikke være høyere enn før dem "
        "(sannsynlighet 3 × konsekvens 4)."
    ]
    assert client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"] == []
    # The same level, or a lower one, is kept.
    for after in ((4, 3), (2, 2)):
        kept = client.post(
            items, {**ITEM, "likelihood_after": after[0], "consequence_after": after[1]}
        )
        assert kept.status_code == 201, kept.get_json()


def test_emptying_a_measures_goal_on_its_page_is_refused_not_ignored(app, ra, approved):
    """The measure form shows every field: an emptied goal says it is required, keeps the
    old goal, and is not reported as saved."""
    aid = approved()["id"]
    client = Api(app, ra.manager)
    body = measure_body(ra)
    mid = client.post(f"/api/v1/risk/assessments/{aid}/measures", body).get_json()["id"]
    url = f"/risk/assessments/{aid}/measures/{mid}"
    sent = {**body, "goal": "", "csrf_token": form_token(client.client, url)}
    refused = client.client.post(url, data=sent)
    assert refused.status_code == 400
    assert "Du må fylle ut dette feltet." in refused.get_data(as_text=True)
    # The same for the fields that are not text (a date, a person, the risk item).
    for name in ("deadline", "responsible_id", "item_ref"):
        refused = client.client.post(url, data={**sent, "goal": "Alarm", name: ""})
        assert refused.status_code == 400, name
        assert re.search(rf'id="e-m-{name}">\s*Du må fylle ut dette feltet\.', refused.text), name
        assert f'href="#f-m-{name}"' in refused.text  # the summary links to the field
    plan = client.get(f"/api/v1/risk/assessments/{aid}/measures").get_json()
    assert [m["goal"] for m in plan["measures"]] == ["Alarm"]
    assert [m["deadline"] for m in plan["measures"]] == [today().isoformat()]
    # The API's partial change says the same of an empty goal.
    patched = client.patch(f"/api/v1/risk/assessments/{aid}/measures/{mid}", {"goal": ""})
    assert patched.status_code == 400
    assert "goal" in patched.get_json()["errors"]


def test_an_evaluation_is_dated_between_the_measure_and_today(app, ra, approved):
    aid = approved()["id"]
    client = Api(app, ra.manager)
    body = measure_body(ra, status="done")
    mid = client.post(f"/api/v1/risk/assessments/{aid}/measures", body).get_json()["id"]
    url = f"/api/v1/risk/assessments/{aid}/measures/{mid}/evaluations"
    oslo_today = now_local()  # the rule's day, whatever the hour in UTC
    for day in ((oslo_today + timedelta(days=1)).isoformat(), "1900-01-01"):
        refused = client.post(url, {"result": "worked", "evaluated_on": day})
        assert refused.status_code == 400, day
        assert "evaluated_on" in refused.get_json()["errors"]
    ok = client.post(url, {"result": "worked", "evaluated_on": oslo_today.isoformat()})
    assert ok.status_code == 201, ok.get_json()


def test_the_leader_removes_an_item_from_the_draft(app, ra, approved):
    aid = approved()["id"]
    client = Api(app, ra.manager)
    client.post(f"/api/v1/risk/assessments/{aid}/versions")
    page = f"/risk/assessments/{aid}"
    removed = client.client.post(
        f"{page}/items/1/delete",
        data={"csrf_token": form_token(client.client, page), "confirm": "on"},
    )
    assert removed.status_code == 302
    assert client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"] == []
    first = client.get(f"/api/v1/risk/assessments/{aid}?version=1").get_json()
    assert [i["ref"] for i in first["items"]] == [1]  # the approved version keeps it


def _draft_with_r1(app, ra, approved):
    """Version 1 approved with R1, version 2 a draft; the leader's client in English."""
    aid = approved()["id"]
    client = Api(app, ra.manager)
    client.post(f"/api/v1/risk/assessments/{aid}/versions")
    choose_language(client.client, "en")
    page = f"/risk/assessments/{aid}"
    return aid, client, page, form_token(client.client, page)


def _summary(html: str) -> str:
    return html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]


def test_removing_an_item_takes_a_tick_first(app, ra, approved):
    # One click on "Remove R1" removed it, with no step to think again.
    aid, client, page, token = _draft_with_r1(app, ra, approved)
    refused = client.client.post(
        f"{page}/items/1/delete", data={"csrf_token": token}, headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert re.search(r'id="e-d1-confirm">\s*\S', html)  # by the box and the button
    assert 'href="#f-d1-confirm">Remove R1: ' in _summary(html)
    assert 'name="confirm" value="on"' in html
    assert [
        i["ref"] for i in client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"]
    ] == [1]
    # The language switch on the page sent back returns to the assessment, not to the
    # address above the removal's (the item's own page).
    assert f'name="next" value="/risk/assessments/{aid}"' in html


def test_an_item_that_measures_belong_to_is_not_removed(app, ra, approved):
    # Its measures stayed in the plan under an item the plan no longer had, and the
    # "Add a measure" form was left with an empty required "Risk item" list.
    aid, client, page, token = _draft_with_r1(app, ra, approved)
    measures = f"/api/v1/risk/assessments/{aid}/measures"
    mid = client.post(measures, measure_body(ra, goal="Alarmknapper")).get_json()["id"]
    refused = client.client.post(
        f"{page}/items/1/delete",
        data={"csrf_token": token, "confirm": "on"},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    said = re.search(r'id="e-d1-confirm">([^<]*)<', html).group(1)
    assert "Alarmknapper" in said  # names the measure
    assert 'href="#f-d1-confirm">Remove R1: ' in _summary(html)
    assert [
        i["ref"] for i in client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"]
    ] == [1]
    # Not ticked, it says the same (the measures first: ticking would not help).
    unticked = client.client.post(f"{page}/items/1/delete", data={"csrf_token": token})
    assert "Alarmknapper" in unticked.get_data(as_text=True).split('id="e-d1-confirm"', 1)[1][:500]
    # Moved to another item, R1 can go.
    client.post(f"/api/v1/risk/assessments/{aid}/items", {**ITEM, "hazard": "Alene om kvelden"})
    assert client.patch(f"{measures}/{mid}", {"item_ref": 2}).status_code == 200
    removed = client.client.post(
        f"{page}/items/1/delete", data={"csrf_token": token, "confirm": "on"}
    )
    assert removed.status_code == 302
    assert [
        i["ref"] for i in client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"]
    ] == [2]
