"""Legal hold: it stops deletion until lifted; placing and lifting are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from retention import service
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case
from trygg.audit import AuditEntry
from trygg.extensions import db, utcnow

LATER = timedelta(days=11 * 366)


@pytest.fixture
def world(app):
    return build_world(app)


def audit_actions(app, case_id: int) -> list[tuple[str, str, dict]]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case_id))
            .order_by(AuditEntry.seq)
        )
        return [(e.action, e.actor, e.detail_dict()) for e in rows if "hold" in e.action]


def test_a_hold_stops_deletion_and_lifting_it_lets_the_next_run_delete(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, reference = marked_case(app, world, "HOLD", handler=handler, reporter=reporter)
    r = handler.put(f"/api/v1/cases/{case_id}/hold", {"reason": "police"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["hold"]["reason"] == "police"
    assert r.get_json()["rule"] == "case:hms_deviation:closed"

    with app.app_context():
        assert service.run(now=utcnow() + LATER).deleted == []
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 200

    r = handler.delete(f"/api/v1/cases/{case_id}/hold")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["hold"] is None
    assert audit_actions(app, case_id) == [
        ("case.hold", f"user:{world.handler.id}", {"reason": "police"}),
        ("case.hold_lifted", f"user:{world.handler.id}", {"reason": "police"}),
    ]
    with app.app_context():
        assert service.run(now=utcnow() + LATER).deleted == [reference]
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 404


def test_an_admin_holds_by_reference_without_reading_the_case(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    admin = Api(app, world.admin)
    case_id, _, reference = marked_case(app, world, "ADM", handler=handler, reporter=reporter)
    assert admin.get(f"/api/v1/cases/{case_id}/retention").status_code == 403
    r = admin.post("/api/v1/retention/holds", {"reference": reference, "reason": "lawsuit"})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        assert service.run(now=utcnow() + LATER).deleted == []
    assert admin.delete(f"/api/v1/retention/holds/{reference}").status_code == 200
    assert admin.delete(f"/api/v1/retention/holds/{reference}").status_code == 404
    with app.app_context():
        assert service.run(now=utcnow() + LATER).deleted == [reference]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "reason"), ({"reason": "whim"}, "reason"), ({"reason": "police", "x": 1}, "x")],
)
def test_a_hold_without_a_known_reason_is_refused(app, world, body, field):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "BAD", handler=handler, reporter=reporter)
    r = handler.put(f"/api/v1/cases/{case_id}/hold", body)
    assert r.status_code == 400
    assert field in r.get_json()["errors"]
    assert handler.get(f"/api/v1/cases/{case_id}/retention").get_json()["hold"] is None


def test_the_cli_holds_and_lifts(app, world, runner):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    _, _, reference = marked_case(app, world, "CLI", handler=handler, reporter=reporter)
    result = runner.invoke(args=["retention", "hold", reference, "--reason", "labour_inspection"])
    assert result.exit_code == 0, result.output
    status = runner.invoke(args=["retention", "status"]).output
    assert "held: 1" in status
    assert runner.invoke(args=["retention", "lift", reference]).exit_code == 0
    assert runner.invoke(args=["retention", "lift", reference]).exit_code != 0
