"""Exports for the authorities: the chosen sections, Norwegian letters, no reporter of a
varsel without consent, nothing in the PDF's metadata, every export audited."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from handling.models import IdentityConsent
from handling.states import Track
from notifications.models import Notification
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
    # The handler cannot say that the reporter agreed: only the reporter can.
    refused = export(handler, case_id, sections=everything, reporter_consented=True)
    assert refused.status_code == 400
    assert "reporter_consented" in refused.get_json()["errors"]


def test_a_varsel_reporter_is_named_only_to_the_recipients_they_agreed_to(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, report_id, _ = marked_case(
        app, world, "AGR", handler=handler, reporter=reporter, track=Track.WHISTLEBLOWING
    )
    mine = f"/api/v1/reports/{report_id}/identity-consent"
    assert reporter.get(mine).get_json() == {"protected": True, "consents": [], "asked": []}

    given = reporter.put(mine, {"recipients": ["police"]})
    assert given.status_code == 200, given.get_json()
    assert [c["recipient"] for c in given.get_json()["consents"]] == ["police"]

    def named(recipient: str) -> bool:
        doc = export(handler, case_id, recipient=recipient, sections=["reporter"], format="json")
        return doc.get_json().get("reporter") == {"name": "Ella Employee"}

    assert named("police")
    assert not named("nav")
    # The reporter's own data download says whom they agreed to.
    [own] = reporter.get("/api/v1/account/my-data").get_json()["reports"]
    assert [c["recipient"] for c in own["identity_consents"]] == ["police"]
    assert not named("labour_inspection")
    # The handlers see the change in the timeline and are told of it.
    events = handler.get(f"/api/v1/cases/{case_id}").get_json()["events"]
    assert {"kind": "identity_consent", "given": ["police"], "withdrawn": []} in [
        {"kind": e["kind"], **e["codes"]} for e in events
    ]
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.identity_consent")
        ).all()
        assert [(e.actor, e.detail_dict()) for e in entries] == [
            (f"user:{world.employee.id}", {"given": ["police"], "withdrawn": []})
        ]
        told = db.session.scalars(
            select(Notification).where(
                Notification.user_id == world.handler.id,
                Notification.dedupe_key.like(f"case:{case_id}:consent:%"),
            )
        ).all()
        assert len(told) == 1

    # The same choice again changes nothing; withdrawing takes the name out again.
    assert reporter.put(mine, {"recipients": ["police"]}).status_code == 200
    withdrawn = reporter.put(mine, {"recipients": []})
    assert withdrawn.get_json() == {"protected": True, "consents": [], "asked": []}
    assert not named("police")
    with app.app_context():
        details = [
            e.detail_dict()
            for e in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "case.identity_consent")
                .order_by(AuditEntry.seq)
            )
        ]
        assert details == [
            {"given": ["police"], "withdrawn": []},
            {"given": [], "withdrawn": ["police"]},
        ]


def test_no_one_but_the_reporter_gives_consent_and_only_where_it_is_needed(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    _, varsel_id, _ = marked_case(
        app, world, "WHO", handler=handler, reporter=reporter, track=Track.WHISTLEBLOWING
    )
    path = f"/api/v1/reports/{varsel_id}/identity-consent"
    assert handler.put(path, {"recipients": ["police"]}).status_code == 404
    assert Api(app, world.manager).get(path).status_code == 404
    unknown = reporter.put(path, {"recipients": ["newspaper"]})
    assert unknown.status_code == 400
    assert any(k.startswith("recipients") for k in unknown.get_json()["errors"])

    # A named HMS report names its reporter when the section is chosen: nothing to give.
    _, hms_id, _ = marked_case(app, world, "HMS2", handler=handler, reporter=reporter)
    hms = f"/api/v1/reports/{hms_id}/identity-consent"
    assert reporter.get(hms).get_json() == {"protected": False, "consents": [], "asked": []}
    refused = reporter.put(hms, {"recipients": ["police"]})
    assert refused.status_code == 400
    assert refused.get_json()["errors"]["recipients"]
    with app.app_context():
        assert db.session.scalars(select(IdentityConsent)).all() == []


def test_the_reporter_gives_consent_on_their_case_page(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, report_id, _ = marked_case(
        app, world, "PAGE", handler=handler, reporter=reporter, track=Track.WHISTLEBLOWING
    )
    page = f"/my-reports/{report_id}/case"
    html = reporter.get(page).get_data(as_text=True)
    assert "Hvem kan få vite at du meldte" in html
    form = {"csrf_token": reporter.token, "recipients": ["police", "nav"]}
    saved = reporter.client.post(f"{page}/identity-consent", data=form)
    assert saved.status_code == 303
    html = reporter.get(page).get_data(as_text=True)
    assert "Valget ditt er lagret" in html
    assert "Politiet: siden" in html
    bad = reporter.client.post(
        f"{page}/identity-consent", data={"csrf_token": reporter.token, "recipients": "press"}
    )
    assert bad.status_code == 400
    assert "Velg ett av alternativene i listen." in bad.get_data(as_text=True)
    assert 'href="#f-consent-recipients"' in bad.get_data(as_text=True)
    # The case's timeline says what the reporter chose, and the export form whom to.
    case_page = handler.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Kan navngis overfor: NAV (skademelding), Politiet" in case_page
    retention = handler.get(f"/cases/{case_id}/retention").get_data(as_text=True)
    assert "De har sagt ja til å bli navngitt overfor: Politiet, NAV" in retention


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
    # Not even the assignee names them to anyone they did not agree to.
    assert "reporter" not in own.get_json()
    consent = f"/api/v1/reports/{case.report_id}/identity-consent"
    assert api(org.employee).put(consent, {"recipients": ["police"]}).status_code == 200
    own = mine.post(f"/api/v1/cases/{case.id}/exports", {**body, "sections": ["reporter"]})
    assert own.get_json()["reporter"] == {"name": "Ella Employee"}
    doc = colleague.post(
        f"/api/v1/cases/{case.id}/exports", {**body, "sections": ["reporter"]}
    ).get_json()
    assert "reporter" not in doc
    assert "Eksporten din utelater" not in mine.get(f"/cases/{case.id}/retention").get_data(
        as_text=True
    )


def test_a_varsel_moved_to_another_track_keeps_its_reporter_protected(app, world):
    """A case moves between tracks without revealing the reporter: a varsel's reporter
    stays named only to those they agreed to, and can still withdraw, after a handler
    moves the case to the HMS track (and back)."""
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, report_id, _ = marked_case(
        app,
        world,
        "MOV",
        handler=handler,
        reporter=reporter,
        close=False,
        track=Track.WHISTLEBLOWING,
    )
    mine = f"/api/v1/reports/{report_id}/identity-consent"
    assert reporter.put(mine, {"recipients": ["police"]}).status_code == 200

    def move(track: str) -> None:
        r = handler.put(f"/api/v1/cases/{case_id}/track", {"track": track})
        assert r.status_code == 200, r.get_json()

    def named(recipient: str) -> bool:
        doc = export(handler, case_id, recipient=recipient, sections=["reporter"], format="json")
        return doc.get_json().get("reporter") == {"name": "Ella Employee"}

    move(Track.HMS_DEVIATION)
    assert not named("nav")
    assert named("police")
    assert reporter.get(mine).get_json()["protected"] is True
    page = reporter.get(f"/my-reports/{report_id}/case").get_data(as_text=True)
    assert "Hvem kan få vite at du meldte" in page
    # Withdrawing is always possible.
    withdrawn = reporter.put(mine, {"recipients": []})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert not named("police")
    move(Track.WHISTLEBLOWING)
    assert not named("police")
