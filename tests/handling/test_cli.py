"""`trygg cases ...` shows codes and ids, never content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handling import service
from reporting.models import Report
from tests.handling.conftest import get_case
from trygg.extensions import db


def test_cases_commands(app, org, submit, runner):
    case = submit(
        org.employee,
        unit_id=org.ward.id,
        counterpart_user_id=org.handler.id,
        narrative="A very private account of events.",
    )
    with app.app_context():
        db.session.get(Report, case.report_id).created_at = datetime.now(UTC) - timedelta(days=9)
        db.session.commit()
    recompute = runner.invoke(args=["cases", "recompute-deadlines"])
    assert recompute.exit_code == 0, recompute.output
    overdue = runner.invoke(args=["cases", "overdue"])
    assert f"case {case.id}\tacknowledge" in overdue.output
    groups = runner.invoke(args=["cases", "groups"])
    assert "HMS\tdefault" in groups.output
    warnings = runner.invoke(args=["cases", "warnings"])
    assert warnings.exit_code == 0
    for result in (recompute, overdue, groups, warnings):
        assert "private" not in result.output
    with app.app_context():
        assert service.next_open_deadline(get_case(case.id)).due_at < datetime.now(UTC)
