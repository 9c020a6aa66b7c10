"""Who sees and changes which assessment; employees see only the published summary; no
risk page shows case content or a small count."""

from __future__ import annotations

import pytest

from tests.factories import choose_language, form_login, form_token
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import ITEM, assessment_body, report, today
from trygg.roles import Role

EN = {"Accept-Language": "en"}


def test_managers_edit_only_their_units(app, ra, approved):
    aid = approved()["id"]
    other = Api(app, ra.other_manager)
    assert other.get(f"/api/v1/risk/assessments/{aid}").status_code == 404
    assert other.post(f"/api/v1/risk/assessments/{aid}/versions").status_code == 404
    assert other.get("/api/v1/risk/assessments").get_json()["assessments"] == []
    refused = other.post("/api/v1/risk/assessments", assessment_body(ra.emergency))
    assert refused.status_code == 400
    assert "unit_id" in refused.get_json()["errors"]
    # The leader of Akutten may assess the ward below it.
    mine = Api(app, ra.manager).post("/api/v1/risk/assessments", assessment_body(ra.ward))
    assert mine.status_code == 201


def test_the_safety_rep_and_amu_read_comment_and_state_but_do_not_edit(app, ra, approved):
    aid = approved()["id"]
    for who in (ra.safety_rep, ra.amu):
        client = Api(app, who)
        assert client.get(f"/api/v1/risk/assessments/{aid}").status_code == 200
        assert client.post(f"/api/v1/risk/assessments/{aid}/versions").status_code == 403
        said = client.post(
            f"/api/v1/risk/assessments/{aid}/comments", {"body": "Enig", "kind": "statement"}
        )
        assert said.status_code == 201, said.get_json()
        again = client.post(
            f"/api/v1/risk/assessments/{aid}/comments", {"body": "Igjen", "kind": "statement"}
        )
        assert again.status_code == 409
    detail = Api(app, ra.manager).get(f"/api/v1/risk/assessments/{aid}").get_json()
    assert detail["took_part"] == {"safety_rep": True, "amu": True}  # vocabulary: risk participant
    # The manager comments but gives no statement.
    manager = Api(app, ra.manager)
    refused = manager.post(
        f"/api/v1/risk/assessments/{aid}/comments", {"body": "x", "kind": "statement"}
    )
    assert refused.status_code == 403


def test_a_statement_needs_an_approved_version(app, ra):
    aid = (
        Api(app, ra.manager)
        .post("/api/v1/risk/assessments", assessment_body(ra.emergency))
        .get_json()["id"]
    )
    rep = Api(app, ra.safety_rep)
    refused = rep.post(
        f"/api/v1/risk/assessments/{aid}/comments", {"body": "x", "kind": "statement"}
    )
    assert refused.status_code == 409
    assert rep.post(f"/api/v1/risk/assessments/{aid}/comments", {"body": "x"}).status_code == 201


def test_a_safety_rep_elsewhere_sees_nothing(app, ra, make, approved):
    aid = approved()["id"]
    elsewhere = make.user(
        Role.SAFETY_REP, name="Sigve Annen", units=(ra.other,), represents=(ra.other,)
    )
    client = Api(app, elsewhere)
    assert client.get(f"/api/v1/risk/assessments/{aid}").status_code == 404
    assert client.get("/api/v1/risk/assessments").get_json()["assessments"] == []


@pytest.mark.parametrize("who", [Role.HANDLER, Role.EMPLOYEE, Role.ADMIN])
def test_other_roles_have_no_assessment_api_or_page(app, ra, approved, who):
    aid = approved()["id"]
    client = Api(app, getattr(ra, who))
    assert client.get("/api/v1/risk/assessments").status_code == 403
    assert client.get(f"/api/v1/risk/assessments/{aid}").status_code == 403
    assert client.get(f"/risk/assessments/{aid}").status_code == 403


def _publish(app, ra, aid):
    client = Api(app, ra.manager)
    done = client.post(
        f"/api/v1/risk/assessments/{aid}/summary",
        {
            "summary_risks": "Venterommet om kvelden",
            "summary_routines": "Trykk på alarmen",
            "summary_contact": "Lars Leder",
        },
    )
    assert done.status_code == 200, done.get_json()


def test_employees_see_only_the_published_summary_of_their_units(app, ra, approved):
    aid = approved()["id"]
    employee = app.test_client()
    form_login(employee, ra.employee)
    choose_language(employee, "en")
    assert employee.get(f"/risk/summaries/{aid}").status_code == 404
    _publish(app, ra, aid)
    home = employee.get("/", headers=EN).get_data(as_text=True)
    assert "Risks at your workplace" in home
    page = employee.get(f"/risk/summaries/{aid}", headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Trykk på alarmen" in text
    assert ITEM["hazard"] in text
    assert "Likelihood" not in text  # the owner did not choose to show levels
    other = app.test_client()
    form_login(other, ra.other_employee)
    choose_language(other, "en")
    assert other.get(f"/risk/summaries/{aid}").status_code == 404
    assert "Risks at your workplace" not in other.get("/", headers=EN).get_data(as_text=True)


def test_a_draft_cannot_be_published(app, ra):
    aid = (
        Api(app, ra.manager)
        .post("/api/v1/risk/assessments", assessment_body(ra.emergency))
        .get_json()["id"]
    )
    refused = Api(app, ra.manager).post(
        f"/api/v1/risk/assessments/{aid}/summary",
        {"summary_risks": "a", "summary_routines": "b", "summary_contact": "c"},
    )
    assert refused.status_code == 409


def test_item_trends_hide_small_counts_and_never_show_case_content(app, ra, approved):
    aid = approved()["id"]
    marker = "Pasienten Ola slo meg i skranken"
    quarter = _last_ended_quarter_day()
    for _ in range(2):
        report(
            app,
            ra.employee,
            ra.ward,
            place_type="front_desk",
            narrative=marker,
            occurred_at=quarter.isoformat(),
        )
    client = Api(app, ra.manager)
    item = client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"][0]
    last = item["trend"][-1]["cell"]
    # As the trends page shows it: the unit's total is under k, so its breakdown row
    # (the place cells) is hidden with it.
    assert last == {"count": None, "mark": "hidden"}
    for url in (
        f"/risk/assessments/{aid}",
        f"/risk/assessments/{aid}/print",
        f"/risk/assessments/{aid}/plan",
    ):
        text = client.get(url).get_data(as_text=True)
        assert marker not in text
        assert "Ola" not in text
    # Once the count reaches k it is shown, unless a small count could be worked out.
    for _ in range(3):
        report(app, ra.employee, ra.ward, place_type="front_desk", occurred_at=quarter.isoformat())
    item = client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"][0]
    assert item["trend"][-1]["cell"] == {"count": 5, "mark": "shown"}
    report(app, ra.employee, ra.ward, place_type="patient_room", occurred_at=quarter.isoformat())
    item = client.get(f"/api/v1/risk/assessments/{aid}").get_json()["items"][0]
    # Now the patient room's 1 must stay hidden: the trends page hides the quarter's place
    # row of the unit, and the item shows the cell as the trends page does.
    assert item["trend"][-1]["cell"] == {"count": None, "mark": "hidden"}


def _last_ended_quarter_day():
    from datetime import UTC, datetime

    from risk.statistics import add_months, quarter_of

    start = add_months(quarter_of(today()), -3)
    return datetime(start.year, start.month, 15, 12, tzinfo=UTC)


def test_pages_render_for_the_leader_in_both_languages(app, ra, approved):
    aid = approved()["id"]
    client = app.test_client()
    form_login(client, ra.manager)
    for lang in ("nb", "en"):
        choose_language(client, lang)
        for url in (
            "/risk/assessments",
            f"/risk/assessments/{aid}",
            f"/risk/assessments/{aid}/plan",
            f"/risk/assessments/{aid}/print",
            f"/risk/assessments/{aid}/items/new",
        ):
            response = client.get(url, headers={"Accept-Language": lang})
            assert response.status_code in (200, 409), (url, lang)
    page = client.get(f"/risk/assessments/{aid}", headers=EN).get_data(as_text=True)
    assert "Risk matrix" in page
    assert "R1" in page


def test_the_leader_works_through_the_pages_without_javascript(app, ra):
    client = app.test_client()
    form_login(client, ra.manager)
    choose_language(client, "en")
    token = form_token(client, "/risk/assessments")
    created = client.post(
        "/risk/assessments",
        data={
            "csrf_token": token,
            "unit_id": ra.emergency.id,
            "title": "Hjemmebesøk",
            "work_kind": "Kveld",
            "matrix_size": "4",
            "period_start": today().isoformat(),
            "period_end": today().isoformat(),
            "next_review": today().isoformat(),
        },
    )
    assert created.status_code == 302
    url = created.headers["Location"]
    aid = int(url.rstrip("/").split("/")[-1])
    bad = client.post(
        f"/risk/assessments/{aid}/items/new",
        data={"csrf_token": token, "hazard": "", "likelihood": "9", "consequence": "1"},
        headers=EN,
    )
    assert bad.status_code == 400
    assert "Please correct the following" in bad.get_data(as_text=True)
    added = client.post(
        f"/risk/assessments/{aid}/items/new",
        data={
            "csrf_token": token,
            "hazard": "Alene hjemme hos bruker",
            "likelihood": "3",
            "consequence": "4",
            "factors": ["lone_work", "alarms"],
            "scope_places": ["home_visit"],
            "scope_lone_work": "true",
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    measure = client.post(
        f"/risk/assessments/{aid}/measures",
        data={
            "csrf_token": token,
            "item_ref": "1",
            "goal": "Ingen alene",
            "what": "To og to",
            "collective": "true",
            "lowers": "likelihood",
            "responsible_id": str(ra.manager.id),
            "deadline": today().isoformat(),
            "status": "planned",
            "is_training": "false",
        },
    )
    assert measure.status_code == 302
    approved = client.post(
        f"/risk/assessments/{aid}/status", data={"csrf_token": token, "status": "approved"}
    )
    assert approved.status_code == 302
    frozen = client.post(
        f"/risk/assessments/{aid}/items/1",
        data={"csrf_token": token, "hazard": "x", "likelihood": "1", "consequence": "1"},
        headers=EN,
    )
    assert frozen.status_code == 409
    assert "start a new version" in frozen.get_data(as_text=True)
    page = client.get(f"/risk/assessments/{aid}", headers=EN).get_data(as_text=True)
    assert "Approved" in page
    assert "Alene hjemme hos bruker" in page
    plan = client.get(f"/risk/assessments/{aid}/plan?sort=status", headers=EN)
    assert "Ingen alene" in plan.get_data(as_text=True)
