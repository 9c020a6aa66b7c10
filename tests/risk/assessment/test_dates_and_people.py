"""Dates and people the assessment forms refuse: a date before 2000 or more than ten
years ahead, a next review before the period, an emptied date, a measure deadline
before the assessment began or more than five years ahead, and a responsible person
the form does not offer. Each is a 400 with the message at the field, on the page and
in the API, said together with the form's other mistakes, and nothing is saved."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from risk.assessment.triggers import now_local
from tests.factories import choose_language, form_login, form_token, user_obj
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import assessment_body, measure_body, today
from trygg.extensions import db

EN = {"Accept-Language": "en"}
REVIEW_BEFORE = "The next review cannot come before the period starts."
REVIEW_BEFORE_NB = (
    "Neste gjennomgang kan ikke komme før perioden starter."  # the API: nb by default
)
FROM_THE_LIST = "Choose a responsible person from the list."


def _leader(app, ra):
    client = app.test_client()
    form_login(client, ra.manager)
    choose_language(client, "en")
    return client


def _version_details(app, ra):
    """A new assessment of the emergency unit: its id, its version (JSON), the leader's
    client and the assessment page's address."""
    created = Api(app, ra.manager).post("/api/v1/risk/assessments", assessment_body(ra.emergency))
    aid = created.get_json()["id"]
    return aid, created.get_json()["version"], _leader(app, ra), f"/risk/assessments/{aid}"


def _at_field(html: str, field: str, message: str) -> None:
    """The message is the field's own (its validation message), not only in a summary."""
    assert re.search(rf'id="e-{field}">\s*{re.escape(message)}', html), field
    assert f'aria-describedby="e-{field}"' in html


def _years_ahead(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _start_form(app, ra, body):
    """The leader sends the start page's form with these values."""
    client = _leader(app, ra)
    token = form_token(client, "/risk/assessments")
    return client.post("/risk/assessments", data={"csrf_token": token, **body}, headers=EN)


def test_a_next_review_before_the_period_is_refused_at_the_start(app, ra):
    body = assessment_body(ra.emergency, next_review="2020-06-01")
    refused = Api(app, ra.manager).post("/api/v1/risk/assessments", body)
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"next_review": [REVIEW_BEFORE_NB]}
    page = _start_form(app, ra, body)
    assert page.status_code == 400
    _at_field(page.get_data(as_text=True), "next_review", REVIEW_BEFORE)
    assert 'value="2020-06-01"' in page.get_data(as_text=True)  # as typed, to correct
    assert Api(app, ra.manager).get("/api/v1/risk/assessments").get_json()["assessments"] == []
    # On the day the period starts is fine.
    same_day = assessment_body(ra.emergency, next_review=body["period_start"])
    assert Api(app, ra.manager).post("/api/v1/risk/assessments", same_day).status_code == 201


def test_the_start_form_names_every_mistake_at_once(app, ra):
    # With no title and the period's end before its start, the form said "required"
    # first, and only once that was mended that the dates were out of order.
    body = assessment_body(ra.emergency, title="", next_review="2020-06-01")
    body["period_end"] = "2020-01-01"
    page = _start_form(app, ra, body)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    _at_field(html, "title", "This field is required.")
    _at_field(html, "period_end", "The end of the period comes before its start.")
    _at_field(html, "next_review", REVIEW_BEFORE)
    refused = Api(app, ra.manager).post("/api/v1/risk/assessments", body)
    assert set(refused.get_json()["errors"]) == {"title", "period_end", "next_review"}
    assert Api(app, ra.manager).get("/api/v1/risk/assessments").get_json()["assessments"] == []


def test_a_next_review_before_the_period_is_refused_in_the_version_details(app, ra):
    aid, before, client, url = _version_details(app, ra)
    start = today() + timedelta(days=10)
    sent = {
        "csrf_token": form_token(client, url),
        "title": "Vold og trusler",
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(days=300)).isoformat(),
        "next_review": (start - timedelta(days=1)).isoformat(),
    }
    refused = client.post(f"{url}/version", data=sent, headers=EN)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    _at_field(html, "v-next_review", REVIEW_BEFORE)
    assert re.search(r'<details class="ds-details" open>\s*<summary>Change dates', html)
    assert f'value="{sent["next_review"]}"' in html
    version = Api(app, ra.manager).get(f"/api/v1/risk/assessments/{aid}").get_json()["version"]
    assert version["next_review"] == before["next_review"]
    assert version["period_start"] == today().isoformat()


@pytest.mark.parametrize("deadline", ["2019-01-01", "2999-01-01"])
def test_a_deadline_far_off_is_refused_on_the_page_and_in_the_api(app, ra, approved, deadline):
    aid = approved()["id"]
    api = Api(app, ra.manager)
    refused = api.post(
        f"/api/v1/risk/assessments/{aid}/measures", measure_body(ra, deadline=deadline)
    )
    assert refused.status_code == 400
    assert list(refused.get_json()["errors"]) == ["deadline"]
    client = _leader(app, ra)
    plan = f"/risk/assessments/{aid}/plan"
    page = client.post(
        f"/risk/assessments/{aid}/measures",
        data={"csrf_token": form_token(client, plan), **measure_body(ra, deadline=deadline)},
        headers=EN,
    )
    assert page.status_code == 400
    message = "The deadline cannot be before" if deadline < "2500" else "at most 5 years ahead"
    assert re.search(rf'id="e-n-deadline">[^<]*{message}', page.get_data(as_text=True))
    assert api.get(f"/api/v1/risk/assessments/{aid}/measures").get_json()["measures"] == []


def test_a_deadline_runs_from_the_assessments_start_to_five_years_ahead(app, ra, approved):
    aid = approved()["id"]
    api = Api(app, ra.manager)
    url = f"/api/v1/risk/assessments/{aid}/measures"
    started = min(today(), now_local())  # the period starts today (UTC), made today (Oslo)
    last = _years_ahead(now_local(), 5)
    for day in (started - timedelta(days=1), last + timedelta(days=1)):
        refused = api.post(url, measure_body(ra, deadline=day.isoformat()))
        assert refused.status_code == 400, day
    for day in (started, last):
        made = api.post(url, measure_body(ra, deadline=day.isoformat()))
        assert made.status_code == 201, (day, made.get_json())
    # A change is held to the same days.
    mid = made.get_json()["id"]
    moved = api.patch(f"{url}/{mid}", {"deadline": "2019-01-01"})
    assert moved.status_code == 400
    assert "deadline" in moved.get_json()["errors"]


def test_a_measure_recorded_in_a_period_that_began_earlier_may_be_overdue(app, ra):
    """The period started a month ago: a measure due last week is recorded as overdue."""
    api = Api(app, ra.manager)
    body = assessment_body(ra.emergency, period_start=(today() - timedelta(days=30)).isoformat())
    aid = api.post("/api/v1/risk/assessments", body).get_json()["id"]
    api.post(
        f"/api/v1/risk/assessments/{aid}/items",
        {"hazard": "Alene", "likelihood": 3, "consequence": 3},
    )
    last_week = (today() - timedelta(days=7)).isoformat()
    made = api.post(
        f"/api/v1/risk/assessments/{aid}/measures", measure_body(ra, deadline=last_week)
    )
    assert made.status_code == 201, made.get_json()


def test_only_someone_the_form_offers_can_be_responsible(app, ra, approved):
    aid = approved()["id"]
    api = Api(app, ra.manager)
    url = f"/api/v1/risk/assessments/{aid}/measures"
    client = _leader(app, ra)
    plan = f"/risk/assessments/{aid}/plan"
    offered = client.get(plan, headers=EN).get_data(as_text=True)
    assert "Per Andre" not in offered  # he works in another department
    refused = api.post(url, measure_body(ra, responsible_id=ra.other_employee.id))
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"responsible_id": [FROM_THE_LIST]}
    page = client.post(
        f"/risk/assessments/{aid}/measures",
        data={
            "csrf_token": form_token(client, plan),
            **measure_body(ra, responsible_id=ra.other_employee.id),
        },
        headers=EN,
    )
    assert page.status_code == 400
    _at_field(page.get_data(as_text=True), "n-responsible_id", FROM_THE_LIST)
    assert api.get(url).get_json()["measures"] == []
    # Kari works in the ward below Akutten: she is offered, and may be responsible.
    assert "Kari Nordmann" in offered
    made = api.post(url, measure_body(ra, responsible_id=ra.employee.id))
    assert made.status_code == 201
    mid = made.get_json()["id"]
    moved = api.patch(f"{url}/{mid}", {"responsible_id": ra.other_employee.id})
    assert moved.status_code == 400
    # Kari leaves: the measure she holds can still be changed, and she stays on it.
    with app.app_context():
        user_obj(ra.employee).active = False
        db.session.commit()
    done = api.patch(f"{url}/{mid}", {"status": "done"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["responsible_id"] == ra.employee.id


@pytest.mark.parametrize("hostile", [2**31, 2**63, 2**70])
def test_an_id_no_row_can_have_is_refused_at_its_field(app, ra, approved, hostile):
    """A unit or a replaced measure whose id is beyond what an id column holds
    (PostgreSQL's INTEGER ends at 2^31 - 1, SQLite's at 2^63 - 1) is the field's 400,
    as any other id that is not a choice; it was a server error."""
    api = Api(app, ra.manager)
    unit = api.post("/api/v1/risk/assessments", assessment_body(ra.emergency, unit_id=hostile))
    assert unit.status_code == 400
    assert "unit_id" in unit.get_json()["errors"]
    aid = approved()["id"]
    url = f"/api/v1/risk/assessments/{aid}/measures"
    replaced = api.post(url, measure_body(ra, replaces_id=hostile))
    assert replaced.status_code == 400
    assert "replaces_id" in replaced.get_json()["errors"]
    assert api.get(url).get_json()["measures"] == []


def test_emptied_dates_in_the_version_details_are_refused_at_their_fields(app, ra):
    # Emptied, a date was read as "unchanged": the page said "saved" and kept the old.
    aid, before, client, url = _version_details(app, ra)
    sent = {
        "csrf_token": form_token(client, url),
        "title": "Vold og trusler",
        "period_start": "",
        "period_end": before["period_end"],
        "next_review": "",
        "notes": "Nye notater",
    }
    refused = client.post(f"{url}/version", data=sent, headers=EN)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    for field in ("period_start", "next_review"):
        _at_field(html, f"v-{field}", "This field is required.")
        assert f'href="#f-v-{field}"' in html
    assert "Nye notater" in html  # as typed
    version = Api(app, ra.manager).get(f"/api/v1/risk/assessments/{aid}").get_json()["version"]
    assert (version["period_start"], version["next_review"], version["notes"]) == (
        before["period_start"],
        before["next_review"],
        before["notes"],
    )


def test_dates_out_of_reach_are_refused_together_at_the_start(app, ra):
    # Year 1 and 9999 were accepted; a measure could then be due in 1900.
    body = assessment_body(
        ra.emergency,
        title="",
        period_start="0001-01-01",
        period_end="9999-12-31",
        next_review="9999-12-31",
    )
    page = _start_form(app, ra, body)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    _at_field(html, "title", "This field is required.")
    for field in ("period_start", "period_end", "next_review"):
        assert re.search(rf'id="e-{field}">\s*Enter a date', html), field
        assert 'value="9999-12-31"' in html  # as typed
    refused = Api(app, ra.manager).post("/api/v1/risk/assessments", body)
    assert set(refused.get_json()["errors"]) == {
        "title",
        "period_start",
        "period_end",
        "next_review",
    }
    # From 1 January 2000 to ten years ahead is fine.
    last = _years_ahead(now_local(), 10).isoformat()
    fine = assessment_body(
        ra.emergency, period_start="2000-01-01", period_end=last, next_review=last
    )
    assert Api(app, ra.manager).post("/api/v1/risk/assessments", fine).status_code == 201
    late = _years_ahead(now_local(), 10) + timedelta(days=1)
    refused = Api(app, ra.manager).post(
        "/api/v1/risk/assessments", {**fine, "next_review": late.isoformat()}
    )
    assert list(refused.get_json()["errors"]) == ["next_review"]


def test_every_date_mistake_of_the_version_details_is_said_at_once(app, ra):
    # The service said the first date out of order, and the next one only after that.
    aid, before, client, url = _version_details(app, ra)
    start = today()
    sent = {
        "csrf_token": form_token(client, url),
        "title": "Vold og trusler",
        "period_start": start.isoformat(),
        "period_end": (start - timedelta(days=1)).isoformat(),
        "next_review": "9999-12-31",
        "p_leader": "Lars Leder",
    }
    refused = client.post(f"{url}/version", data=sent, headers=EN)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    _at_field(html, "v-period_end", "The end of the period comes before its start.")
    assert re.search(r'id="e-v-next_review">\s*Enter a date at most 10 years ahead', html)
    sent |= {"period_end": before["period_end"], "next_review": "1999-12-31"}
    refused = client.post(f"{url}/version", data=sent, headers=EN)
    assert re.search(r'id="e-v-next_review">\s*Enter a date on or after', refused.text)
    version = Api(app, ra.manager).get(f"/api/v1/risk/assessments/{aid}").get_json()["version"]
    assert version["next_review"] == before["next_review"]
    assert version["participants"] == []


def test_a_deadline_long_past_is_said_with_the_forms_other_mistakes(app, ra, approved):
    aid = approved()["id"]
    client = _leader(app, ra)
    plan = f"/risk/assessments/{aid}/plan"
    sent = {
        "csrf_token": form_token(client, plan),
        **measure_body(ra, goal="", deadline="1900-01-01"),
    }
    page = client.post(f"/risk/assessments/{aid}/measures", data=sent, headers=EN)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    _at_field(html, "n-goal", "This field is required.")
    assert re.search(r'id="e-n-deadline">\s*The deadline cannot be before', html)
    assert 'value="1900-01-01"' in html


def test_a_kept_deadline_before_2000_stays_but_a_new_one_is_refused(app, ra, approved):
    """An assessment whose period was let begin in year 1: its measure due in 1995 can
    still be changed, but no measure is given such a deadline anew."""
    from risk.assessment.models import AssessmentVersion, Measure

    aid = approved()["id"]
    api = Api(app, ra.manager)
    mid = api.post(f"/api/v1/risk/assessments/{aid}/measures", measure_body(ra)).get_json()["id"]
    with app.app_context():
        db.session.query(AssessmentVersion).filter_by(assessment_id=aid).update(
            {"period_start": date(1, 1, 1)}
        )
        db.session.get(Measure, mid).deadline = date(1995, 1, 1)
        db.session.commit()
    url = f"/api/v1/risk/assessments/{aid}/measures"
    refused = api.post(url, measure_body(ra, deadline="1995-01-01"))
    assert refused.status_code == 400
    assert list(refused.get_json()["errors"]) == ["deadline"]
    client = _leader(app, ra)
    page = f"/risk/assessments/{aid}/measures/{mid}"
    kept = {"csrf_token": form_token(client, page), **measure_body(ra, deadline="1995-01-01")}
    refused = client.post(page, data={**kept, "goal": ""}, headers=EN)
    assert refused.status_code == 400
    assert 'id="e-m-deadline"' not in refused.text  # only the goal is wrong
    saved = client.post(page, data={**kept, "status": "in_progress"}, headers=EN)
    assert saved.status_code == 302, saved.text[:2000]
    assert api.get(url).get_json()["measures"][0]["deadline"] == "1995-01-01"
    moved = client.post(page, data={**kept, "deadline": "1996-01-01"}, headers=EN)
    assert moved.status_code == 400
    assert re.search(r'id="e-m-deadline">\s*Enter a date on or after', moved.text)
