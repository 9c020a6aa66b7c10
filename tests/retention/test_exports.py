"""Exports for the authorities: the chosen sections, Norwegian letters, no reporter of a
varsel without consent, nothing in the PDF's metadata, every export audited."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from handling.states import Track
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case
from trygg.audit import AuditEntry
from trygg.extensions import db


@pytest.fixture
def world(app):
    return build_world(app)


def pdf_text(data: bytes) -> tuple[str, dict]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), dict(reader.metadata or {})


def export(handler: Api, case_id: int, **body) -> object:
    payload = {"recipient": "police", "reason": "police_report", "sections": ["report"]}
    return handler.post(f"/api/v1/cases/{case_id}/exports", {**payload, **body})


def test_a_pdf_export_has_the_chosen_sections_and_is_audited(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, reference = marked_case(app, world, "EXP", handler=handler, reporter=reporter)
    r = export(handler, case_id, sections=["report", "messages"])
    assert r.status_code == 200, r.get_json()
    assert r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{reference}.pdf"'
    text, metadata = pdf_text(r.data)
    assert "EXP-narrative æøå" in text
    assert "EXP-to-reporter" in text
    assert "EXP-internal" in text
    assert "EXP-task" not in text  # follow-up was not chosen
    assert "EXP-closing" not in text
    assert not any("EXP" in str(v) or reference in str(v) for v in metadata.values())
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.export")
        ).one()
        assert entry.actor == f"user:{world.handler.id}"
        assert entry.detail_dict() == {
            "recipient": "police",
            "reason": "police_report",
            "sections": ["report", "messages"],
            "reporter_named": False,
        }
    history = handler.get(f"/api/v1/cases/{case_id}").get_json()["access_history"]
    assert any(a["part"] == "export" for a in history)


def test_a_varsel_export_leaves_the_reporter_out_without_consent(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(
        app, world, "VAR", handler=handler, reporter=reporter, track=Track.WHISTLEBLOWING
    )
    everything = ["report", "people", "reporter", "messages", "follow_up", "closing"]
    r = export(handler, case_id, sections=everything, format="json")
    assert r.status_code == 200, r.get_json()
    doc = r.get_json()
    assert "reporter" not in doc
    assert "Ella Employee" not in json.dumps(doc, ensure_ascii=False)
    assert doc["people"]["witnesses"] == ["VAR-witness"]
    text, _ = pdf_text(export(handler, case_id, sections=everything).data)
    assert "Ella Employee" not in text
    assert "VAR-witness" in text

    consented = export(handler, case_id, sections=everything, reporter_consented=True)
    text, _ = pdf_text(consented.data)
    assert "Ella Employee" in text


def test_an_hms_export_names_the_reporter_when_chosen(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "HMS", handler=handler, reporter=reporter)
    doc = export(handler, case_id, sections=["reporter"], format="json").get_json()
    assert doc["reporter"] == {"name": "Ella Employee"}
    assert "report" not in doc


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sections": []}, "sections"),
        ({"sections": ["everything"]}, "sections"),
        ({"recipient": "newspaper"}, "recipient"),
        ({"reason": "curiosity"}, "reason"),
        ({"format": "docx"}, "format"),
    ],
)
def test_a_bad_export_request_is_refused_and_not_audited(app, world, body, field):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "BAD", handler=handler, reporter=reporter)
    r = export(handler, case_id, **body)
    assert r.status_code == 400
    # A field inside a list is named by its path (`sections.0`).
    assert any(k == field or k.startswith(f"{field}.") for k in r.get_json()["errors"])
    with app.app_context():
        assert (
            db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.export")).all()
            == []
        )


def test_others_cannot_export(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "NO", handler=handler, reporter=reporter)
    assert export(Api(app, world.admin), case_id).status_code == 403
    assert export(reporter, case_id).status_code == 403


def test_the_cli_writes_the_pdf_and_the_json_beside_it(app, world, runner, tmp_path):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    _, _, reference = marked_case(app, world, "CLI", handler=handler, reporter=reporter)
    out = tmp_path / "export.pdf"
    args = ["export", "case", reference, "--handler", world.handler.email]
    args += ["--recipient", "nav", "--reason", "injury_report", "--out", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    text, _ = pdf_text(out.read_bytes())
    assert "CLI-injury" in text
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["recipient"] == "nav"
    assert "reporter" not in doc
    refused = runner.invoke(args=[*args[:4], world.employee.email, *args[5:]])
    assert refused.exit_code != 0


def test_only_the_assigned_handler_can_name_a_confidential_reporter(app, org, submit, api):
    """A confidential reporter was told: only the handler assigned to the case sees who
    you are. A colleague in the same group exports the case without the name."""
    case = submit(org.employee, unit_id=org.ward.id, confidential=True)
    mine = api(org.handler)
    assigned = mine.post(
        f"/api/v1/cases/{case.id}/assignment", {"handler_id": org.handler.id, "reason": "Mine"}
    )
    assert assigned.status_code == 200
    body = {"recipient": "police", "reason": "police_report", "format": "json"}
    colleague = api(org.colleague)
    doc = colleague.post(
        f"/api/v1/cases/{case.id}/exports", {**body, "sections": ["reporter", "people"]}
    ).get_json()
    assert "reporter" not in doc
    assert "Ella Employee" not in json.dumps(doc, ensure_ascii=False)
    page = colleague.get(f"/cases/{case.id}/retention").get_data(as_text=True)
    assert "Eksporten din utelater hvem melderen er." in page
    own = mine.post(f"/api/v1/cases/{case.id}/exports", {**body, "sections": ["reporter"]})
    assert own.get_json()["reporter"] == {"name": "Ella Employee"}
    assert "Eksporten din utelater" not in mine.get(f"/cases/{case.id}/retention").get_data(
        as_text=True
    )
