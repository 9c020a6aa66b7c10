"""The assessment and its action plan as PDF (issue 14): the facts, the matrix with the
level's name in every cell, the items' levels before and after, the measures with
responsible person, deadline, status and evaluation; nb and en, æøå intact; the print
view's access; no case content."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.factories import choose_language, form_login, form_token
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import ITEM, assessment_body, report, today

EN = {"Accept-Language": "en"}
NB = {"Accept-Language": "nb"}


def pdf_text(data: bytes) -> str:
    """The text of every page, with line breaks (the table's wrapping) as spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def _assessment(app, ra) -> int:
    client = Api(app, ra.manager)
    created = client.post(
        "/api/v1/risk/assessments",
        assessment_body(ra.emergency, title="Vold på venterommet", work_kind="Kveldsvakt"),
    )
    aid = created.get_json()["id"]
    item = {**ITEM, "hazard": "Aggressive pårørende i mottaket", "existing_measures": "Vekter"}
    added = client.post(
        f"/api/v1/risk/assessments/{aid}/items",
        {**item, "likelihood_after": 2, "consequence_after": 2},
    )
    assert added.status_code == 201, added.get_json()
    pages = app.test_client()
    form_login(pages, ra.manager)
    token = form_token(pages, f"/risk/assessments/{aid}")
    saved = pages.post(
        f"/risk/assessments/{aid}/version",
        data={
            "csrf_token": token,
            "p_leader": "Lars Leder",
            "p_safety_rep": "Vera Verneombud",
            "p_employee": "Øystein Ærlig, Åse Ås",
        },
    )
    assert saved.status_code == 302
    done = client.post(f"/api/v1/risk/assessments/{aid}/status", {"status": "approved"})
    assert done.status_code == 200, done.get_json()
    measure = client.post(
        f"/api/v1/risk/assessments/{aid}/measures",
        {
            "item_ref": 1,
            "goal": "Raskere hjelp",
            "what": "Alarmknapper på skranken",
            "responsible_id": ra.manager.id,
            "deadline": today().isoformat(),
            "status": "done",
        },
    )
    mid = measure.get_json()["id"]
    url = f"/api/v1/risk/assessments/{aid}/measures/{mid}/evaluations"
    assert client.post(url, {"result": "partly", "next_step": "Øve på bruken"}).status_code == 201
    return aid


def test_the_pdf_holds_the_assessment_and_plan_in_english(app, ra):
    aid = _assessment(app, ra)
    report(app, ra.employee, ra.ward, place_type="front_desk", narrative="HEMMELIG-SAK truet meg")
    manager = Api(app, ra.manager)
    choose_language(manager.client, "en")
    got = manager.get(f"/risk/assessments/{aid}/pdf")
    assert got.status_code == 200
    assert got.mimetype == "application/pdf"
    assert "attachment" in got.headers["Content-Disposition"]
    text = pdf_text(got.data)
    for words in (
        "Risk assessment: Vold på venterommet",
        "Akutten · Kveldsvakt",
        "Approved",
        "Lars Leder",
        "Øystein Ærlig, Åse Ås",
        "Safety representative took part: Yes",
        "Risk matrix",
        "Measures before work continues",
        "Aggressive pårørende i mottaket",
        "Vekter",
        "High (3 × 4)",
        "Low (2 × 2)",
        "Alarmknapper på skranken",
        "Worked partly",
        "Next step: Øve på bruken",
    ):
        assert words in text, words
    assert "HEMMELIG-SAK" not in text


def test_the_pdf_speaks_norwegian(app, ra):
    aid = _assessment(app, ra)
    text = pdf_text(Api(app, ra.manager).get(f"/risk/assessments/{aid}/pdf", headers=NB).data)
    for words in (
        "Risikovurdering: Vold på venterommet",
        "Tiltak før arbeidet fortsetter",
        "Godkjent",
    ):
        assert words in text, words
    assert "Øystein Ærlig, Åse Ås" in text


def test_the_pdf_has_the_print_views_access(app, ra, make):
    aid = _assessment(app, ra)
    assert Api(app, ra.safety_rep).get(f"/risk/assessments/{aid}/pdf").status_code == 200
    assert Api(app, ra.amu).get(f"/risk/assessments/{aid}/pdf").status_code == 200
    assert Api(app, ra.other_manager).get(f"/risk/assessments/{aid}/pdf").status_code == 404
    assert Api(app, ra.employee).get(f"/risk/assessments/{aid}/pdf").status_code == 403
    assert Api(app, ra.manager).get(f"/risk/assessments/{aid}/pdf?version=9").status_code == 404


def test_a_draft_has_a_pdf_too(app, ra):
    client = Api(app, ra.manager)
    aid = client.post("/api/v1/risk/assessments", assessment_body(ra.emergency)).get_json()["id"]
    choose_language(client.client, "en")
    got = client.get(f"/risk/assessments/{aid}/pdf")
    assert got.status_code == 200
    text = pdf_text(got.data)
    assert "Status: Draft" in text
    assert "No measures yet." in text
