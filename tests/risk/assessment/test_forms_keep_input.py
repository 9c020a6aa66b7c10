"""A refused form of the assessment pages comes back with what was typed and chosen,
and its error summary names and links each field."""

from __future__ import annotations

import re
from datetime import timedelta

from risk.assessment.triggers import now_local
from tests.factories import choose_language, form_login, form_token
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import assessment_body, measure_body

EN = {"Accept-Language": "en"}


def _leader(app, ra):
    client = app.test_client()
    form_login(client, ra.manager)
    choose_language(client, "en")
    return client


def _summary(html: str) -> str:
    return html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]


def test_a_refused_evaluation_keeps_what_was_typed_and_names_its_fields(app, ra, approved):
    aid = approved()["id"]
    api = Api(app, ra.manager)
    body = measure_body(ra, status="done")
    mid = api.post(f"/api/v1/risk/assessments/{aid}/measures", body).get_json()["id"]
    client = _leader(app, ra)
    page = f"/risk/assessments/{aid}/measures/{mid}"
    token = form_token(client, page)
    tomorrow = (now_local() + timedelta(days=1)).isoformat()
    sent = {"result": "partly", "evaluated_on": tomorrow, "next_step": "Mer opplæring"}
    refused = client.post(f"{page}/evaluations", data={"csrf_token": token, **sent}, headers=EN)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'name="result" value="partly" checked' in html
    assert f'name="evaluated_on" type="date" value="{tomorrow}"' in html
    assert re.search(r'name="next_step"[^>]*>Mer opplæring</textarea>', html)
    assert '<a class="ds-link" href="#f-e-evaluated_on">Evaluated on: ' in _summary(html)
    # The other form on the page still shows the measure as saved.
    assert 'name="goal" type="text" value="Alarm"' in html
    too_long = {**sent, "evaluated_on": "", "next_step": "x" * 5001}
    refused = client.post(f"{page}/evaluations", data={"csrf_token": token, **too_long}, headers=EN)
    assert refused.status_code == 400
    assert '<a class="ds-link" href="#f-e-next_step">What next: ' in _summary(refused.text)
    assert 'name="result" value="partly" checked' in refused.text
    assert (
        api.get(f"/api/v1/risk/assessments/{aid}/measures").get_json()["measures"][0]["evaluations"]
        == []
    )


def test_a_refused_summary_keeps_what_was_typed_and_the_tick(app, ra, approved):
    # The form came back filled from the version (here: empty, never published) and
    # unticked, so what the leader had written was lost.
    aid = approved()["id"]
    client = _leader(app, ra)
    page = f"/risk/assessments/{aid}"
    sent = {
        "csrf_token": form_token(client, page),
        "summary_risks": "Venterommet om kvelden",
        "summary_routines": "",
        "summary_contact": "Lars Leder",
        "summary_show_levels": "true",
    }
    refused = client.post(f"{page}/publish", data=sent, headers=EN)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert re.search(r'name="summary_risks"[^>]*>Venterommet om kvelden</textarea>', html)
    assert re.search(r'name="summary_contact"[^>]*>Lars Leder</textarea>', html)
    assert 'name="summary_show_levels" value="true" checked' in html
    assert 'href="#f-s-summary_routines"' in _summary(html)
    shown = client.get(page, headers=EN).get_data(as_text=True)
    assert "Venterommet om kvelden" not in shown  # nothing was published
    assert 'name="summary_show_levels" value="true" checked' not in shown


def test_a_participant_name_too_long_is_named_at_its_field(app, ra):
    # The summary said only "Use at most 200 characters.", with no field and no link,
    # and nothing under the field: the schema names participants[1].name.
    created = (
        Api(app, ra.manager)
        .post("/api/v1/risk/assessments", assessment_body(ra.emergency))
        .get_json()
    )
    client = _leader(app, ra)
    page = f"/risk/assessments/{created['id']}"
    version = created["version"]
    long_name = "Å" * 201
    sent = {
        "csrf_token": form_token(client, page),
        "title": "Vold og trusler",
        "period_start": version["period_start"],
        "period_end": version["period_end"],
        "next_review": version["next_review"],
        "p_leader": "Lars Leder",
        "p_employee": f"Kari Nordmann, {long_name}",
    }
    refused = client.post(f"{page}/version", data=sent, headers=EN)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    summary = _summary(html)
    assert '<a class="ds-link" href="#f-v-p_employee">Employees: ' in summary
    assert "participants" not in summary
    assert re.search(r'id="e-v-p_employee">\s*Use at most 200 characters for each name\.', html)
    assert 'aria-describedby="e-v-p_employee"' in html
    assert f'value="Kari Nordmann, {long_name}"' in html  # as typed
    saved = Api(app, ra.manager).get(page.replace("/risk/", "/api/v1/risk/")).get_json()
    assert saved["version"]["participants"] == []


def test_every_error_summary_line_names_its_field(app, ra, approved):
    # "Kind of work", an item's "Description" and "Measures in place" and a measure's
    # "Who is affected" were listed in the summary as a bare "Use at most … characters."
    aid = approved()["id"]
    mid = (
        Api(app, ra.manager)
        .post(f"/api/v1/risk/assessments/{aid}/measures", measure_body(ra))
        .get_json()["id"]
    )
    Api(app, ra.manager).post(f"/api/v1/risk/assessments/{aid}/versions")
    client = _leader(app, ra)
    token = form_token(client, "/risk/assessments")
    item = {"hazard": "Alene", "likelihood": "3", "consequence": "3"}
    cases = [
        (
            "/risk/assessments",
            {**assessment_body(ra.emergency), "work_kind": "x" * 121},
            "f-work_kind",
            "Kind of work (optional)",
        ),
        (
            f"/risk/assessments/{aid}/items/new",
            {**item, "description": "x" * 5001},
            "f-description",
            "Description",
        ),
        (
            f"/risk/assessments/{aid}/items/1",
            {**item, "existing_measures": "x" * 5001},
            "f-existing_measures",
            "Measures in place",
        ),
        (
            f"/risk/assessments/{aid}/measures",
            {**measure_body(ra), "affected": "x" * 301},
            "f-n-affected",
            "Who is affected",
        ),
        (
            f"/risk/assessments/{aid}/measures/{mid}",
            {**measure_body(ra), "affected": "x" * 301},
            "f-m-affected",
            "Who is affected",
        ),
    ]
    for url, data, field, label in cases:
        refused = client.post(url, data={"csrf_token": token, **data}, headers=EN)
        assert refused.status_code == 400, url
        assert f'<a class="ds-link" href="#{field}">{label}: ' in _summary(refused.text), url
