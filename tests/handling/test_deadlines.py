"""Deadlines: policies, Oslo wall-clock arithmetic across DST, recomputation, meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handling import service
from handling.models import Deadline
from handling.states import CaseState, Track
from reporting.models import Report
from tests.factories import user_obj
from tests.handling.conftest import get_case
from trygg.extensions import db

OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        # Autumn: summer time ends Sunday 25 Oct 2026 03:00 → 02:00. 72 h on the Oslo
        # clock from Saturday noon is Tuesday noon (winter time) — 73 real hours.
        (oslo(2026, 10, 24, 12), 72, "hours", oslo(2026, 10, 27, 12)),
        # Spring: summer time begins Sunday 29 Mar 2026 02:00 → 03:00. Friday noon + 72 h
        # is Monday noon (summer time) — 71 real hours.
        (oslo(2026, 3, 27, 12), 72, "hours", oslo(2026, 3, 30, 12)),
        # Landing in the spring gap (02:30 does not exist) moves on to 03:30.
        (oslo(2026, 3, 28, 2, 30), 24, "hours", oslo(2026, 3, 29, 3, 30)),
        # Landing in the repeated autumn hour takes its first occurrence (summer time).
        (oslo(2026, 10, 24, 2, 30), 24, "hours", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (oslo(2026, 11, 2, 9), 3, "hours", oslo(2026, 11, 2, 12)),
        # "Same day" is the end of the Oslo calendar day, also late at night in UTC terms,
        (oslo(2026, 10, 25, 0, 30), 0, "same_day", oslo(2026, 10, 25, 23, 59, 59)),
        (oslo(2026, 6, 30, 20, 59), 0, "same_day", oslo(2026, 6, 30, 23, 59, 59)),
        # but at least 3 hours: an evening report does not run out in minutes.
        (oslo(2026, 6, 30, 23, 50), 0, "same_day", oslo(2026, 7, 1, 2, 50)),
        (oslo(2026, 6, 30, 21, 30), 0, "same_day", oslo(2026, 7, 1, 0, 30)),
        (oslo(2026, 3, 25, 8), 7, "days", oslo(2026, 4, 1, 8)),
        (oslo(2026, 10, 20, 8), 6, "weeks", oslo(2026, 12, 1, 8)),
        (oslo(2026, 11, 30, 10), 3, "months", oslo(2027, 2, 28, 10)),
        (oslo(2026, 10, 31, 10), 4, "months", oslo(2027, 2, 28, 10)),
    ],
)
def test_durations_are_counted_on_the_oslo_clock(start, amount, unit, expected):
    due = service.add_duration(start.astimezone(UTC), amount, unit)
    assert due.tzinfo is UTC
    assert due == expected.astimezone(UTC)


def test_72_hours_across_the_dst_changes_are_wall_clock_hours():
    autumn = service.add_duration(oslo(2026, 10, 24, 12).astimezone(UTC), 72, "hours")
    assert autumn == datetime(2026, 10, 27, 11, 0, tzinfo=UTC)
    assert autumn - oslo(2026, 10, 24, 12) == timedelta(hours=73)
    spring = service.add_duration(oslo(2026, 3, 27, 12).astimezone(UTC), 72, "hours")
    assert spring == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
    assert spring - oslo(2026, 3, 27, 12) == timedelta(hours=71)


def _deadlines(case_id: int) -> dict[str, Deadline]:
    rows = db.session.scalars(select(Deadline).where(Deadline.case_id == case_id))
    return {d.kind: d for d in rows}


def _rebase(case_id: int, when: datetime) -> None:
    """Pretend the report arrived at `when`, and recompute."""
    case = get_case(case_id)
    report = db.session.get(Report, case.report_id)
    report.created_at = when.astimezone(UTC)
    service.recompute_deadlines(case)
    db.session.commit()


@pytest.mark.parametrize(
    ("arrived", "talk_due", "feedback_due"),
    [
        (oslo(2026, 10, 24, 12), datetime(2026, 10, 27, 11, 0, tzinfo=UTC), oslo(2027, 1, 24, 12)),
        (oslo(2026, 3, 27, 12), datetime(2026, 3, 30, 10, 0, tzinfo=UTC), oslo(2026, 6, 27, 12)),
    ],
)
def test_stored_deadlines_match_the_policy_across_dst(
    app, org, submit, arrived, talk_due, feedback_due
):
    case = submit(org.employee, unit_id=org.ward.id, severity=2)
    with app.app_context():
        _rebase(case.id, arrived)
        rows = _deadlines(case.id)
        assert rows["individual_talk"].due_at == talk_due
        assert rows["learning_review"].due_at == talk_due
        assert rows["leader_contact"].due_at.astimezone(OSLO) == arrived.replace(
            hour=23, minute=59, second=59
        )
        assert rows["acknowledge"].due_at.astimezone(OSLO) == arrived + timedelta(days=7)
        assert rows["reporter_feedback"].due_at == feedback_due.astimezone(UTC)


def test_default_policies_pick_deadlines_by_track_type_and_severity(app, org, submit):
    threat = submit(org.employee, unit_id=org.ward.id, severity=2)
    serious = submit(org.employee, unit_id=org.ward.id, severity=3)
    very = submit(org.employee, unit_id=org.ward.id, severity=4, injury_level="hospital")
    bullying = submit(
        org.employee,
        unit_id=org.ward.id,
        incident_types=["bullying"],
        counterpart_category="colleague",
    )
    with app.app_context():
        created = get_case(serious.id).report.created_at
        assert set(_deadlines(threat.id)) == {
            "acknowledge",
            "leader_contact",
            "individual_talk",
            "learning_review",
            "reporter_feedback",
            "recontact",
        }
        # Severity 3 or more: the leader has 3 hours, not the rest of the day.
        assert _deadlines(serious.id)["leader_contact"].due_at == service.add_duration(
            created, 3, "hours"
        )
        assert "section_5_2_notice" in _deadlines(very.id)
        assert get_case(very.id).section_5_2 is True
        assert get_case(very.id).section52.required is True
        # Whistleblowing about a colleague: investigation, no leader contact.
        assert set(_deadlines(bullying.id)) == {
            "acknowledge",
            "investigation",  # vocabulary: deadline kind
            "reporter_feedback",
        }


def test_triage_and_track_change_recompute_deadlines(app, org, submit, api):
    case = submit(
        org.employee,
        unit_id=org.ward.id,
        incident_types=["bullying", "threat"],
        counterpart_category="patient",
    )
    handler = api(org.handler)
    base = f"/api/v1/cases/{case.id}"
    assert handler.post(base + "/transitions", {"to": CaseState.ACKNOWLEDGED}).status_code == 200
    r = handler.post(
        base + "/transitions",
        {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION, "section_5_2": True},
    )
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        rows = _deadlines(case.id)
        assert rows["acknowledge"].met_at is not None
        assert "section_5_2_notice" in rows
        assert "investigation" not in rows  # vocabulary: deadline kind
    # Track change to HR matter: no HSE follow-up deadlines any more (open ones go).
    r = handler.put(base + "/track", {"track": Track.HR_MATTER, "section_5_2": False})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        rows = _deadlines(case.id)
        assert set(rows) == {"acknowledge", "learning_review", "reporter_feedback"}
        assert rows["acknowledge"].met_at is not None  # history stays


def test_recorded_steps_meet_their_deadlines(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id, severity=4)
    with app.app_context():
        row = get_case(case.id)
        handler = user_obj(org.handler)
        service.transition(row, CaseState.ACKNOWLEDGED, actor=handler)
        task = service.add_task(
            row, actor=handler, template="leader_contact", responsible_user_id=org.manager.id
        )
        assert task.due_at == _deadlines(case.id)["leader_contact"].due_at
        assert _deadlines(case.id)["leader_contact"].met_at is None
        service.update_task(row, task, actor=handler, status="done")
        service.add_task(row, actor=handler, template="bht_offer", status="done")
        service.record_debriefing(row, actor=handler, held_on=date.today())
        service.update_section52(
            row, actor=handler, labour_inspection_notified_at=datetime.now(UTC)
        )
        assert _deadlines(case.id)["section_5_2_notice"].met_at is None
        service.update_section52(row, actor=handler, police_notified_at=datetime.now(UTC))
        db.session.commit()
        rows = _deadlines(case.id)
        for kind in (
            "acknowledge",
            "leader_contact",
            "individual_talk",
            "learning_review",
            "section_5_2_notice",
        ):
            assert rows[kind].met_at is not None, kind
        assert rows["recontact"].is_open
        assert row.section52.labour_inspection_notified_by_id == org.handler.id
        service.transition(
            row, CaseState.DROPPED, actor=handler, reason="Duplicate of another report"
        )
        db.session.commit()
        rows = _deadlines(case.id)
        assert rows["recontact"].cancelled_at is not None
        assert rows["reporter_feedback"].cancelled_at is not None
        assert not [d for d in rows.values() if d.is_open]


def test_queue_sorts_by_nearest_deadline_and_counts_overdue(app, org, submit, api):
    calm = submit(org.employee, unit_id=org.ward.id, severity=1)
    urgent = submit(org.employee, unit_id=org.ward.id, severity=3)
    late = submit(org.employee, unit_id=org.ward.id, severity=2)
    other = submit(org.employee, unit_id=org.psychiatry.id, incident_types=["verbal_abuse"])
    with app.app_context():
        _rebase(late.id, datetime.now(UTC) - timedelta(days=10))
        _rebase(calm.id, datetime.now(UTC) + timedelta(days=2))  # as if reported in 2 days
        _rebase(other.id, datetime.now(UTC) + timedelta(days=3))
    handler = api(org.handler)
    queue = handler.get("/api/v1/cases").get_json()
    assert [c["id"] for c in queue["cases"]] == [late.id, urgent.id, calm.id, other.id]
    assert queue["overdue_cases"] == 1
    # Ten days late: acknowledge, leader contact, individual talk, learning review.
    assert queue["overdue_deadlines"] == 4
    assert queue["cases"][0]["deadline_status"] == "overdue"
    assert queue["cases"][0]["next_deadline"]["seconds_left"] < 0
    assert queue["cases"][1]["deadline_status"] == "due_soon"
    overdue = handler.get("/api/v1/cases?deadline=overdue").get_json()
    assert [c["id"] for c in overdue["cases"]] == [late.id]
    assert overdue["overdue_cases"] == 1  # counts ignore the filters
    by_unit = handler.get(f"/api/v1/cases?unit_id={org.emergency.id}").get_json()
    assert {c["id"] for c in by_unit["cases"]} == {calm.id, urgent.id, late.id}
    by_type = handler.get("/api/v1/cases?incident_type=verbal_abuse").get_json()
    assert [c["id"] for c in by_type["cases"]] == [other.id]
    assert handler.get("/api/v1/cases?track=whistleblowing").get_json()["cases"] == []
    assert handler.get("/api/v1/cases?state=acknowledged").get_json()["cases"] == []
    assert handler.get("/api/v1/cases?assigned=me").get_json()["cases"] == []
    assert handler.get("/api/v1/cases?colour=red").status_code == 400
    assert handler.get("/api/v1/cases?deadline=soonish").status_code == 400
