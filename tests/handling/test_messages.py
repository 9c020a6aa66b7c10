"""Messages both ways, internal notes, sealing, and the reporter's view of their case."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handling import service
from handling.models import Case, CaseMessage
from handling.states import CaseState, Side, Track
from reporting.codes import ReportStatus
from tests.factories import user_obj
from tests.handling.conftest import get_case
from trygg import crypto
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role

OSLO = ZoneInfo("Europe/Oslo")


def test_handler_and_reporter_talk_both_ways(org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id)
    handler = api(org.handler)
    reporter = api(org.employee)
    mine = f"/api/v1/reports/{case.report_id}/messages"
    theirs = f"/api/v1/cases/{case.id}/messages"

    first = reporter.get(mine).get_json()
    assert first["state"] == CaseState.REPORTED
    assert first["status"] == ReportStatus.SUBMITTED
    assert first["state_text"]
    assert first["feedback"] is None
    assert first["messages"] == []

    assert handler.post(theirs, {"body": "Can you tell me more?"}).status_code == 201
    assert (
        handler.post(theirs, {"body": "Check the rota first", "internal": True}).status_code == 201
    )
    answer = reporter.post(mine, {"body": "  It was the third time.  "})
    assert answer.status_code == 201
    assert answer.get_json()["body"] == "It was the third time."

    seen_by_reporter = reporter.get(mine).get_json()["messages"]
    assert [(m["author_kind"], m["body"]) for m in seen_by_reporter] == [
        (Side.HANDLER, "Can you tell me more?"),
        (Side.REPORTER, "It was the third time."),
    ]
    assert all(set(m) == {"id", "author_kind", "body", "created_at"} for m in seen_by_reporter)

    seen_by_handler = handler.get(theirs).get_json()
    assert [(m["author_kind"], m["internal"], m["body"]) for m in seen_by_handler] == [
        (Side.HANDLER, False, "Can you tell me more?"),
        (Side.HANDLER, True, "Check the rota first"),
        (Side.REPORTER, False, "It was the third time."),
    ]
    assert seen_by_handler[0]["author_name"] == "Hanna Handler"
    assert seen_by_handler[2]["author_user_id"] is None


def test_the_reporter_cannot_write_internal_notes_or_read_others_reports(
    app, make, org, submit, api
):
    case = submit(org.employee, unit_id=org.ward.id)
    reporter = api(org.employee)
    mine = f"/api/v1/reports/{case.report_id}/messages"
    refused = reporter.post(mine, {"body": "x", "internal": True})
    assert refused.status_code == 400
    assert "internal" in refused.get_json()["errors"]
    assert reporter.post(mine, {"body": "   "}).status_code == 400
    assert reporter.post(mine, {}).status_code == 400
    stranger = api(make.user(Role.EMPLOYEE, units=(org.ward,)))
    assert stranger.get(mine).status_code == 404
    assert stranger.post(mine, {"body": "hi"}).status_code == 404
    assert stranger.get("/api/v1/reports/999999/messages").status_code == 404
    with app.app_context(), pytest.raises(service.CaseError):
        service.post_message(get_case(case.id), None, "note", True)


def test_messages_are_sealed_and_bound_to_their_row(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        row = get_case(case.id)
        first = service.post_message(row, user_obj(org.handler), "Secret words one", False)
        second = service.post_message(row, user_obj(org.handler), "Secret words two", True)
        db.session.commit()
        stored = db.session.scalars(select(CaseMessage.body_sealed)).all()
        assert all(b"Secret" not in blob for blob in stored)
        # A sealed body moved to another row does not open.
        db.session.get(CaseMessage, second.id).body_sealed = db.session.get(
            CaseMessage, first.id
        ).body_sealed
        db.session.flush()
        with pytest.raises(crypto.CryptoError):
            service.messages_for(row, Side.HANDLER, actor="test")
        db.session.rollback()


def test_closing_gives_the_reporter_feedback_in_plain_words(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, incident_types=["verbal_abuse"])
    with app.app_context():
        row = get_case(case.id)
        handler = user_obj(org.handler)
        service.transition(row, CaseState.ACKNOWLEDGED, actor=handler)
        db.session.commit()
    reporter = api(org.employee)
    mine = f"/api/v1/reports/{case.report_id}/messages"
    body = reporter.get(mine).get_json()
    assert (body["state"], body["status"]) == (CaseState.ACKNOWLEDGED, ReportStatus.ACKNOWLEDGED)
    with app.app_context():
        row = get_case(case.id)
        handler = user_obj(org.handler)
        service.transition(
            row, CaseState.TRIAGED, actor=handler, track=Track.HMS_DEVIATION, section_5_2=False
        )
        service.transition(row, CaseState.IN_PROGRESS, actor=handler)
        service.transition(
            row,
            CaseState.CLOSED,
            actor=handler,
            closing_note="Internal reasons",
            causes=["communication"],
            feedback="We have talked to the team.",
        )
        db.session.commit()
        sealed = db.session.scalar(select(Case.closing_note_sealed).where(Case.id == case.id))
        assert b"Internal reasons" not in sealed
    body = reporter.get(mine).get_json()
    assert (body["state"], body["status"]) == (CaseState.CLOSED, ReportStatus.CLOSED)
    assert body["feedback"] == "We have talked to the team."
    assert "Internal reasons" not in str(body)


def test_an_anonymous_reporter_can_be_answered_through_the_service(app, org, submit):
    case = submit(
        None,
        unit_id=org.ward.id,
        incident_types=["sexual_harassment"],
        counterpart_category="leader",
    )
    with app.app_context():
        row = get_case(case.id)
        assert row.track == Track.WHISTLEBLOWING
        service.post_message(row, user_obj(org.whistle_handler), "We are looking into it.", False)
        service.post_reporter_message(row.report, "Thank you", actor="reporter")
        view = service.reporter_view(row.report, actor="reporter")
        assert [m.body for m in view.messages] == ["We are looking into it.", "Thank you"]
        assert view.status == ReportStatus.SUBMITTED


def test_an_anonymous_case_keeps_no_exact_time(app, org, submit):
    case = submit(None, unit_id=org.ward.id)
    with app.app_context():
        row = get_case(case.id)
        day = row.report.created_at
        assert (day.astimezone(OSLO).hour, day.minute, day.second) == (0, 0, 0)
        service.post_reporter_message(row.report, "More", actor="reporter")
        service.reporter_view(row.report, actor="reporter")
        db.session.commit()
        stamps = [row.opened_at, row.updated_at]
        stamps += [d.created_at for d in row.deadlines] + [e.created_at for e in row.exclusions]
        stamps += [e.at for e in service.events(row)]
        stamps += [m.created_at for m in db.session.scalars(select(CaseMessage))]
        stamps += [
            e.at
            for e in db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_type.in_(["case", "report"]),
                    AuditEntry.object_id.in_([str(case.id), str(case.report_id)]),
                )
            )
        ]
        assert {s.astimezone(OSLO).time() for s in stamps} == {time(0, 0)}
