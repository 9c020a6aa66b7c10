"""Every sealed field of a report and its case × every role, through every door.

Each sealed field holds a unique marker. Each role then opens every page and JSON
address a person could try (the case page and JSON, the queue, the reporter's pages,
"My tasks", the start page, notifications; the anonymous follow-up page and JSON for
the anonymous reporter) while the case is open, after it is closed, and after it is
reopened and dropped. A marker must show exactly for the roles the pages promise:

- the report's own text: its reporter and the case handlers;
- the exposed employee's name: also the leader responsible for a contact task (they
  cannot contact someone without a name; handling/service/mytasks.py);
- task notes ("Only case handlers see the note"), the leader's done-note, further
  needs, internal notes, the closing note ("Only case handlers see this"), the reason
  for no follow-up, the drop reason and the reopening reason: case handlers only;
- the debriefing summary shared with consent: handlers and the safety representative;
- messages to and from the reporter, and the feedback: handlers and the reporter
  (named or anonymous).

An excluded handler (named by the reporter as someone who must not handle the case),
a manager, an admin and the safety representative see nothing else.
"""

from __future__ import annotations

import json
from datetime import date
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from handling import service
from handling.states import CaseState, Track
from reporting import service as reporting
from reporting.models import Report
from tests.anonymous.conftest import follow
from tests.factories import form_login, user_obj
from tests.factories import submit_anonymous as submit_anonymously
from tests.handling.conftest import get_case
from trygg.extensions import db
from trygg.roles import Role

REPORT_FIELDS = {
    "narrative": "MX-NARRATIVE the patient kicked the door",
    "counterpart_identity": "MX-COUNTERPART Per Pasient",
    "injury_description": "MX-INJURY bruised arm",
    "police_details": "MX-POLICE case 4711",
    "immediate_measures_text": "MX-MEASURES called a colleague",
    "causes_text": "MX-CAUSES too few on the night shift",
}
WITNESS = "MX-WITNESS Wilma Vitne"
EXPOSED = "MX-EXPOSED Eva Eksponert"
CASE_FIELDS = {
    "task_note": "MX-TASKNOTE handler's note",
    "done_note": "MX-DONENOTE talked with her",
    "outcome": "MX-OUTCOME we learnt to call earlier",
    "further_needs": "MX-FURTHER sleep problems",
    "message": "MX-MESSAGE how are you now",
    "internal": "MX-INTERNAL the handlers' own note",
    "reporter_message": "MX-REPLY thank you",
    "closing_note": "MX-CLOSING handled by the ward",
    "feedback": "MX-FEEDBACK we have changed the rota",
    "no_follow_up_reason": "MX-NOFOLLOW she declined",
    "reopen_reason": "MX-REOPEN came back",
    "drop_reason": "MX-DROP nothing more to do",
}

HANDLERS = {Role.HANDLER}
SEEN_BY = {
    **{name: {"reporter", Role.HANDLER} for name in REPORT_FIELDS},
    "witness": {"reporter", Role.HANDLER},
    "exposed": {"reporter", Role.HANDLER, Role.MANAGER},
    "task_note": HANDLERS,
    "done_note": HANDLERS,
    "outcome": {Role.HANDLER, Role.SAFETY_REP},
    "further_needs": HANDLERS,
    "message": {Role.HANDLER, "reporter", "anonymous"},
    "internal": HANDLERS,
    "reporter_message": {Role.HANDLER, "reporter", "anonymous"},
    "closing_note": HANDLERS,
    "feedback": {Role.HANDLER, "reporter", "anonymous"},
    "no_follow_up_reason": HANDLERS,
    "reopen_reason": HANDLERS,
    "drop_reason": HANDLERS,
}
MARKERS = {**REPORT_FIELDS, "witness": WITNESS, "exposed": EXPOSED, **CASE_FIELDS}
ROLES = [
    "reporter",
    Role.HANDLER,
    "excluded_handler",
    Role.MANAGER,
    Role.SAFETY_REP,
    Role.ADMIN,
    "anonymous",
]


def _doors(case_id: int, report_id: int) -> list[str]:
    return [
        f"/cases/{case_id}",
        f"/api/v1/cases/{case_id}",
        f"/api/v1/cases/{case_id}/messages",
        "/cases?state=all",
        "/api/v1/cases?state=all",
        f"/my-reports/{report_id}",
        f"/my-reports/{report_id}/case",
        f"/api/v1/reports/{report_id}",
        "/my-tasks",
        "/",
        "/notifications",
    ]


def _read(client: Any, paths: list[str]) -> str:
    seen = []
    for path in paths:
        response = client.get(path)
        if response.status_code == 200:
            if response.is_json:
                seen.append(json.dumps(response.get_json(), ensure_ascii=False))
            else:
                seen.append(unescape(response.get_data(as_text=True)))
    return "\n".join(seen)


def _fill_open(app: Flask, org: Any, case_id: int, reporter_says: Any) -> None:
    """What happens while the case is open: tasks, debriefing, messages."""
    with app.app_context():
        case = get_case(case_id)
        handler = user_obj(org.handler)
        triage = {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION, "section_5_2": False}
        for step in ({"to": CaseState.ACKNOWLEDGED}, triage, {"to": CaseState.IN_PROGRESS}):
            service.transition(case, actor=handler, **step)
        done = service.add_task(
            case,
            actor=handler,
            template="leader_contact",
            responsible_user_id=org.manager.id,
            note=CASE_FIELDS["task_note"],
            consent_to_share=True,
        )
        service.add_task(
            case,
            actor=handler,
            template="recontact",
            responsible_user_id=org.manager.id,
            note=CASE_FIELDS["task_note"],
            consent_to_share=True,
        )
        service.record_debriefing(
            case,
            actor=handler,
            held_on=date.today(),
            outcome=CASE_FIELDS["outcome"],
            further_needs=CASE_FIELDS["further_needs"],
            consent_to_share_summary=True,
        )
        service.post_message(case, handler, CASE_FIELDS["message"], False)
        service.post_message(case, handler, CASE_FIELDS["internal"], True)
        reporter_says(case.report, CASE_FIELDS["reporter_message"])
        db.session.commit()
        service.mark_task_done(user_obj(org.manager), done.id, note=CASE_FIELDS["done_note"])
        db.session.commit()


def _close(app: Flask, org: Any, case_id: int) -> None:
    with app.app_context():
        service.transition(
            get_case(case_id),
            CaseState.CLOSED,
            actor=user_obj(org.handler),
            closing_note=CASE_FIELDS["closing_note"],
            causes=["staffing"],
            feedback=CASE_FIELDS["feedback"],
            no_follow_up_reason=CASE_FIELDS["no_follow_up_reason"],
        )
        db.session.commit()


def _reopen_and_drop(app: Flask, org: Any, case_id: int) -> None:
    with app.app_context():
        case, handler = get_case(case_id), user_obj(org.handler)
        service.transition(
            case, CaseState.REOPENED, actor=handler, reason=CASE_FIELDS["reopen_reason"]
        )
        service.transition(
            case, CaseState.DROPPED, actor=handler, reason=CASE_FIELDS["drop_reason"]
        )
        db.session.commit()


def _named_world(app: Flask, org: Any, submit: Any) -> tuple[Any, Any]:
    ref = submit(
        org.employee,
        unit_id=org.ward.id,
        incident_types=["physical_violence"],
        exposed=[{"name": EXPOSED}],
        witnesses=[{"name": WITNESS}],
        must_not_handle=[org.colleague.id],
        **REPORT_FIELDS,
    )

    def says(report: Any, body: str) -> None:
        actor = reporting.reporter_actor(report, user_obj(org.employee))
        service.post_reporter_message(report, body, actor=actor)

    return ref, says


def _clients(app: Flask, org: Any) -> dict[str, Any]:
    people = {
        "reporter": org.employee,
        Role.HANDLER: org.handler,
        "excluded_handler": org.colleague,
        Role.MANAGER: org.manager,
        Role.SAFETY_REP: org.safety_rep,
        Role.ADMIN: org.admin,
    }
    clients = {}
    for role, user in people.items():
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        form_login(client, user)
        clients[role] = client
    return clients


@pytest.fixture
def seen(app, make_app, org, submit) -> dict[str, str]:
    """What each role could read of the named case (the anonymous reporter: of theirs)."""
    ref, says = _named_world(app, org, submit)
    clients = _clients(app, org)
    anon_app = make_app(anonymous_enabled=True)
    anon = anon_app.test_client()
    body = submit_anonymously(anon, **REPORT_FIELDS).get_json()
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.reference == body["reference"]))
        anon_case = service.case_for_report(report)
        anon_ids = (anon_case.id, report.id)

    def anon_says(report: Any, text: str) -> None:
        service.post_anonymous_message(report, text)

    _fill_open(app, org, ref.id, says)
    _fill_open(app, org, anon_ids[0], anon_says)
    assert follow(anon, body["receipt"]).status_code == 200
    texts = {role: "" for role in ROLES}
    for step in (None, _close, _reopen_and_drop):
        if step is not None:
            step(app, org, ref.id)
            step(app, org, anon_ids[0])
        for role, client in clients.items():
            texts[role] += _read(client, _doors(ref.id, ref.report_id))
        texts["anonymous"] += _read(anon, ["/varsle/folg-opp", "/api/v1/anonymous/report"])
    return texts


def test_every_sealed_field_shows_exactly_for_the_roles_the_pages_promise(seen):
    found = {
        field: {role for role in ROLES if marker in seen[role]} for field, marker in MARKERS.items()
    }
    assert found == SEEN_BY


def test_a_safety_rep_sees_a_shared_task_without_an_empty_note_row(seen):
    """The task note is for case handlers: the safety representative's case page shows the
    shared task, and no 'Note' row at all (not one with a dash). Pages are in Norwegian."""
    shared_task = "<dt>Kan deles med verneombudet</dt>"  # "May be shared with the safety rep"
    assert shared_task in seen[Role.SAFETY_REP]
    assert "<dt>Notat</dt>" in seen[Role.HANDLER]
    assert "<dt>Notat</dt>" not in seen[Role.SAFETY_REP]
