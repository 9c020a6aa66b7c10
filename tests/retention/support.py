"""A case with a marker in every field, file and message, built through the real API."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask

from handling import service as handling
from handling.states import CaseState, Track
from tests.factories import Factory, UnitInfo, UserInfo, case_of
from tests.handling.conftest import Api
from trygg.extensions import db
from trygg.roles import Role

# A PDF-looking file (detected by its magic bytes) whose content carries the marker.
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


@dataclass
class World:
    ward: UnitInfo
    handler: UserInfo
    employee: UserInfo
    manager: UserInfo
    admin: UserInfo
    group_id: int


def build_world(app: Flask) -> World:
    """A unit, a handler group routed everything, and one user per role we need."""
    make = Factory(app)
    hospital = make.unit("Sykehuset")
    ward = make.unit("Akutten", parent=hospital)
    handler = make.user(Role.HANDLER, name="Hanna Handler", units=(hospital,))
    employee = make.user(Role.EMPLOYEE, name="Ella Employee", units=(ward,))
    manager = make.user(Role.MANAGER, Role.EMPLOYEE, name="Mona Manager", manages=(ward,))
    admin = make.user(Role.ADMIN, name="Ada Admin")
    with app.app_context():
        group = handling.save_group(
            actor="test", name="HMS", member_ids=[handler.id], is_default=True, is_fallback=True
        )
        handling.create_rule(actor="test", group_id=group.id)
        db.session.commit()
        group_id = group.id
    return World(ward, handler, employee, manager, admin, group_id)


def report_payload(world: World, marker: str) -> dict[str, Any]:
    """A report whose every free-text field carries the marker."""
    return {
        "incident_types": ["physical_violence"],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        "unit_id": world.ward.id,
        "place_type": "patient_room",
        "counterpart_category": "patient",
        "counterpart_identity": f"{marker}-counterpart",
        "severity": 3,
        "injury_level": "first_aid",
        "injury_description": f"{marker}-injury",
        "police_report": "employee",  # vocabulary: who reported to the police
        "police_details": f"{marker}-police",
        "immediate_measures_text": f"{marker}-measures",
        "narrative": f"{marker}-narrative æøå",
        "causes_text": f"{marker}-causes",
        "witnesses": [{"name": f"{marker}-witness"}],
    }


def to_in_progress(handler: Api, case_id: int, track: str = Track.HMS_DEVIATION) -> None:
    """Acknowledge, triage (no § 5-2) and start the case through the API."""
    for body in (
        {"to": CaseState.ACKNOWLEDGED},
        {"to": CaseState.TRIAGED, "track": track, "section_5_2": False},
        {"to": CaseState.IN_PROGRESS},
    ):
        r = handler.post(f"/api/v1/cases/{case_id}/transitions", body)
        assert r.status_code == 200, r.get_json()


def marked_case(
    app: Flask,
    world: World,
    marker: str,
    *,
    handler: Api,
    reporter: Api,
    close: bool = True,
    track: str = Track.HMS_DEVIATION,
) -> tuple[int, int, str]:
    """Report, handle, talk and (by default) close a case: (case id, report id, reference)."""
    files = {"files": (io.BytesIO(PDF + f"({marker}-file)".encode()), f"{marker}-file.pdf")}
    r = reporter.client.post(
        "/api/v1/reports",
        data={"data": json.dumps(report_payload(world, marker)), **files},
        headers={"X-CSRFToken": reporter.token},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    report_id, reference = r.get_json()["id"], r.get_json()["reference"]
    case_id = case_of(app, report_id)
    base = f"/api/v1/cases/{case_id}"
    to_in_progress(handler, case_id, track)
    r = handler.post(
        base + "/tasks", {"template": "leader_contact", "responsible_user_id": world.manager.id}
    )
    assert r.status_code == 201, r.get_json()
    r = handler.patch(
        f"{base}/tasks/{r.get_json()['id']}", {"status": "done", "note": f"{marker}-task"}
    )
    assert r.status_code == 200, r.get_json()
    r = handler.post(
        base + "/debriefing",
        {
            "held_on": date.today().isoformat(),
            "participant_roles": ["exposed_employee", "leader"],
            "outcome": f"{marker}-debriefing",
            "further_needs": f"{marker}-needs",
        },
    )
    assert r.status_code == 201, r.get_json()
    assert handler.post(base + "/messages", {"body": f"{marker}-to-reporter"}).status_code == 201
    r = handler.post(base + "/messages", {"body": f"{marker}-internal", "internal": True})
    assert r.status_code == 201
    r = reporter.post(f"/api/v1/reports/{report_id}/messages", {"body": f"{marker}-reply"})
    assert r.status_code == 201, r.get_json()
    if close:
        r = handler.post(
            base + "/transitions",
            {
                "to": CaseState.CLOSED,
                "closing_note": f"{marker}-closing",
                "causes": ["staffing"],
                "feedback": f"{marker}-feedback",
            },
        )
        assert r.status_code == 200, r.get_json()
    return case_id, report_id, reference
