"""The PDFs are for people: every label and coded value in the reader's language (nb by
default, en when chosen), Norwegian letters intact; the JSON keeps its stable codes."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from handling.states import Track
from tests.factories import Factory
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case, report_payload
from trygg.roles import Role

EVERYTHING = ["report", "people", "reporter", "timeline", "messages", "follow_up", "closing"]
# Document keys and codes that must never reach a reader of the PDF.
RAW = (
    "incident_types",
    "physical_violence",
    "hms_deviation",  # vocabulary: stored code
    "counterpart_category",
    "patient_room",
    "injury_level",
    "first_aid",
    "narrative",
    "leader_contact",
    "closing_note",
    "police_report",
    "occurred_month",
    "task_added",
)


@pytest.fixture
def world(app):
    return build_world(app)


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def words_of(text: str) -> set[str]:
    """The words of the text (the markers' "LBL-narrative" is one word, not "narrative")."""
    return {word.strip(",.:()") for word in text.split()}


def export(handler: Api, case_id: int, lang: str, form: str = "pdf"):
    body = {"recipient": "police", "reason": "police_report", "sections": EVERYTHING}
    return handler.client.post(
        f"/api/v1/cases/{case_id}/exports",
        json={**body, "format": form},
        headers={"X-CSRFToken": handler.token, "Accept-Language": lang},
    )


def test_the_case_export_pdf_speaks_norwegian_or_english(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "LBL", handler=handler, reporter=reporter)
    nb = text_of(export(handler, case_id, "nb").data)
    for words in (
        "Klassifisering",
        "Sakstype",
        "HMS-avvik",
        "Hendelsestype",
        "Fysisk vold",
        "Pasient- eller beboerrom",
        "Hva skjedde",
        "LBL-narrative æøå",
        "Lederen tar kontakt med den som ble utsatt",
        "Utført",
        "Avslutningsnotat",
        "Sak opprettet",
        "Politiet",
    ):
        assert words in nb, words
    en = text_of(export(handler, case_id, "en").data)
    for words in (
        "Classification",
        "Track",
        "HSE deviation",
        "Type of incident",
        "Physical violence",
        "What happened",
        "LBL-narrative æøå",
        "Leader contacts the exposed employee",
        "Closing note",
        "Case opened",
    ):
        assert words in en, words
    for raw in RAW:  # neither as a label (a line of its own) nor inside a value
        assert raw not in words_of(nb) | words_of(en), raw
    # The JSON beside it keeps its stable keys and codes, with the events in words.
    doc = export(handler, case_id, "nb", form="json").get_json()
    assert doc["classification"]["incident_types"] == ["physical_violence"]
    assert doc["classification"]["track"] == Track.HMS_DEVIATION
    assert doc["timeline"][0]["kind"] == "opened"
    assert doc["timeline"][0]["text"] == "Sakstype: HMS-avvik"


def test_the_access_pdf_speaks_the_readers_language_and_names_a_former_employee(app, world):
    me = Api(app, world.employee)
    colleague_info = Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,))
    body = {**report_payload(world, "ACC"), "witnesses": [{"user_id": colleague_info.id}]}
    assert me.post("/api/v1/reports", body).status_code == 201
    admin = Api(app, world.admin)
    erased = admin.post(
        "/api/v1/retention/erase-user", {"email": colleague_info.email, "confirm": True}
    )
    assert erased.status_code == 204
    nb = text_of(me.get("/api/v1/account/my-data?format=pdf").data)
    for words in ("Meldingene dine", "Hendelsestype", "Fysisk vold", "Vitner", "Tidligere ansatt"):
        assert words in nb, words
    assert "ACC-narrative æøå" in nb
    assert "Kari Kollega" not in nb
    en = text_of(
        me.get("/api/v1/account/my-data?format=pdf", headers={"Accept-Language": "en"}).data
    )
    for words in (
        "Your reports",
        "Type of incident",
        "Physical violence",
        "Witnesses",
        "Former employee",
    ):
        assert words in en, words
    for raw in ("incident_types", "physical_violence", "witnesses", "narrative", "exposed"):
        assert raw not in words_of(nb) | words_of(en), raw
    assert "former-employee" not in nb + en


def test_the_access_pdf_says_whom_the_reporter_agreed_to_in_words(app, world):
    """A varsel's reporter who agreed to be named to kinds of recipient reads that in
    their download's PDF in words: no key, code or machine time of the JSON."""
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    _, report_id, _ = marked_case(
        app, world, "CNS", handler=handler, reporter=reporter, track=Track.WHISTLEBLOWING
    )
    consent = f"/api/v1/reports/{report_id}/identity-consent"
    assert reporter.put(consent, {"recipients": ["police", "nav"]}).status_code == 200
    path = "/api/v1/account/my-data?format=pdf"
    nb = text_of(reporter.get(path).data)
    for words in ("Hvem kan få vite at du meldte", "Mottaker", "Politiet", "NAV (skademelding)"):
        assert words in nb, words
    en = text_of(reporter.get(path, headers={"Accept-Language": "en"}).data)
    for words in ("Who may learn that you reported", "Recipient", "The police"):
        assert words in en, words
    for raw in ("identity_consents", "recipient", "given_at", "nav"):
        assert raw not in words_of(nb) | words_of(en), raw
    assert "police" not in words_of(nb)  # English says "The police"
    assert "+00:00" not in nb + en
    doc = reporter.get("/api/v1/account/my-data").get_json()
    assert [c["recipient"] for c in doc["reports"][0]["identity_consents"]] == ["nav", "police"]
