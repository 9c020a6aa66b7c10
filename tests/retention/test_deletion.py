"""Deletion that really deletes: a case's key and content go, its codes and counts stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handling.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    CaseMessage,
    Debriefing,
    FollowUpTask,
    IdentityConsent,
)
from handling.states import CaseState, Track
from notifications.kinds import Kind
from notifications.models import Notification
from reporting.models import SEALED_FIELDS, Attachment, AttachmentChunk, Report
from retention import service
from retention.models import Tombstone
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case
from trygg import crypto, keys
from trygg.audit import AuditEntry
from trygg.extensions import db, utcnow

YEARS_11 = timedelta(days=11 * 366)


@pytest.fixture
def world(app):
    return build_world(app)


def trends(app) -> dict[str, object]:
    """Every count trends and risk figures are made of (risk/data.py), for all time."""
    from datetime import date

    from risk import data
    from risk.dimensions import DIMENSIONS

    start, end = date(2000, 1, 1), date(2100, 1, 1)
    with app.app_context():
        out: dict[str, object] = {"total": data.totals(start, end)}
        out |= {name: data.counts(d, start, end) for name, d in DIMENSIONS.items()}
        out["close_times"] = data.close_times(None, start, end)
        return out


def test_a_case_past_its_time_loses_its_key_and_content_and_keeps_its_counts(app, world, runner):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, report_id, reference = marked_case(
        app, world, "MRK1", handler=handler, reporter=reporter
    )
    before = trends(app)
    assert before["total"]
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 200

    with app.app_context():
        result = service.run(now=utcnow() + YEARS_11)
        assert result.deleted == [reference]
        report = db.session.get(Report, report_id)
        case = db.session.get(Case, case_id)
        assert report is not None
        assert case is not None
        assert report.erased_month is not None
        assert all(report.sealed(name) is None for name in SEALED_FIELDS)
        with pytest.raises(crypto.CryptoError):
            keys.keyring().unwrap(report.wrapped_key)
        assert report.owner_tag is None
        assert (case.closing_note_sealed, case.feedback_sealed) == (None, None)
        # The class S row stays: what statistics count.
        assert (case.state, case.track, report.severity) == (
            CaseState.CLOSED,
            Track.HMS_DEVIATION,
            3,
        )
        for model in (CaseMessage, CaseEvent, CaseExclusion):
            assert db.session.scalar(select(func.count()).where(model.case_id == case_id)) == 0
        assert db.session.scalar(select(func.count()).where(Attachment.report_id == report_id)) == 0
        assert db.session.scalar(select(func.count()).select_from(AttachmentChunk)) == 0
        notes = db.session.scalars(
            select(FollowUpTask.note_sealed).where(FollowUpTask.case_id == case_id)
        )
        assert list(notes) == [None]
        outcome = db.session.scalars(
            select(Debriefing.outcome_sealed).where(Debriefing.case_id == case_id)
        )
        assert list(outcome) == [None]
        assert (
            db.session.scalar(select(func.count()).where(Notification.subject == f"case:{case_id}"))
            == 0
        )
        tomb = db.session.scalar(select(Tombstone).where(Tombstone.report_id == report_id))
        assert tomb is not None
        assert (tomb.reference, tomb.rule, tomb.months) == (
            reference,
            "case:hms_deviation:closed",
            120,
        )
        assert (tomb.opened_month.day, tomb.deleted_month.day) == (1, 1)
        case_entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case_id))
            .order_by(AuditEntry.seq)
        ).all()
        # Who did what and the details are gone, except the deletion's own entry.
        *earlier, last = case_entries
        assert {e.actor for e in earlier} == {"erased"}
        assert {e.detail for e in earlier} == {"{}"}
        assert (last.action, last.detail_dict()) == (
            "case.erase",
            {"rule": "case:hms_deviation:closed", "months": 120},
        )

    assert trends(app) == before
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 404
    assert handler.get(f"/api/v1/cases/{case_id}/attachments/1").status_code == 404
    assert reporter.get(f"/api/v1/reports/{report_id}").status_code == 404
    assert [c["id"] for c in handler.get("/api/v1/cases?state=all").get_json()["cases"]] == []
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_an_open_case_and_a_case_within_its_time_stay(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    open_id, _, _ = marked_case(app, world, "OPEN", handler=handler, reporter=reporter, close=False)
    closed_id, _, _ = marked_case(app, world, "YOUNG", handler=handler, reporter=reporter)
    with app.app_context():
        assert service.run(now=utcnow() + timedelta(days=365)).deleted == []
        assert service.run(now=utcnow() + YEARS_11).deleted != []
        remaining = db.session.get(Case, open_id)
        assert remaining is not None
        assert remaining.report.erased_month is None
    assert handler.get(f"/api/v1/cases/{open_id}").status_code == 200
    assert handler.get(f"/api/v1/cases/{closed_id}").status_code == 404


def test_dry_run_prints_what_would_go_and_changes_nothing(app, world, runner):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, reference = marked_case(app, world, "DRY", handler=handler, reporter=reporter)
    import time_machine

    with time_machine.travel(utcnow() + YEARS_11, tick=False):
        result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{reference}\tdelete\tcase:hms_deviation:closed\t120 months" in result.output
    assert "1 to delete" in result.output
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 200
    with time_machine.travel(utcnow() + YEARS_11, tick=False):
        result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert f"deleted {reference}" in result.output
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 404


def test_the_database_prefilter_keeps_every_case_the_exact_reckoning_finds_due() -> None:
    """due_items lets SQL keep, per policy, the cases closed before `_before(horizon,
    months)` and reckons the rest exactly in Python: whatever is due by the horizon
    (Oslo's calendar, the 31st plus a month being the last day of the next, summer
    time) must have been closed before that bound, or it would never be deleted."""
    from datetime import UTC, datetime

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from handling.service import add_duration
    from retention.service.deletion import _before

    moments = st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    )

    @settings(max_examples=3000, deadline=None)
    @given(closed=moments, months=st.integers(min_value=1, max_value=240), late=st.integers(0, 3))
    def due_ones_pass(closed: datetime, months: int, late: int) -> None:
        horizon = add_duration(closed, months, "months") + timedelta(seconds=late)
        assert closed <= _before(horizon, months)

    due_ones_pass()
    # Month ends and clock changes, by hand: due exactly at the horizon.
    for closed in (
        datetime(2025, 1, 31, 22, 30, tzinfo=UTC),  # 31 January 23:30 in Oslo
        datetime(2024, 3, 30, 23, 59, tzinfo=UTC),
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, tzinfo=UTC),
    ):
        for months in (1, 12, 13, 24, 120):
            assert closed <= _before(add_duration(closed, months, "months"), months)


def test_each_outcome_is_due_under_its_own_policy(app, world) -> None:
    """A closed case sent on (forwarded_to) is due under the forwarded policy (60
    months for an HMS case), one closed with an empty forwarded_to under the closed one
    (120), a dropped one under the dropped one (24): the database's choice of
    candidates (retention.service.deletion._of_outcome) agrees with `outcome`."""
    from datetime import UTC, datetime

    from retention.service.deletion import due_items

    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    ids = {
        name: marked_case(app, world, name, handler=handler, reporter=reporter)[0]
        for name in ("SENT", "EMPTY", "PLAIN", "DROPPED")
    }
    closed = datetime.now(UTC) - timedelta(days=61 * 31)  # 61+ months ago
    with app.app_context():
        for name, forwarded, state in (
            ("SENT", "politiet", CaseState.CLOSED),
            ("EMPTY", "", CaseState.CLOSED),
            ("PLAIN", None, CaseState.CLOSED),
            ("DROPPED", None, CaseState.DROPPED),
        ):
            case = db.session.get(Case, ids[name])
            case.forwarded_to, case.state, case.closed_at = forwarded, state, closed
        db.session.commit()
        due = {item.case_id: item.rule for item in due_items()}
    assert due == {
        ids["SENT"]: "case:hms_deviation:forwarded",
        ids["DROPPED"]: "case:hms_deviation:dropped",
    }


def test_a_deleted_varsel_keeps_no_trace_of_its_reporters_consent(app, world):
    """The reporter's consent to be named is about them: it goes with the case's content
    (the case row stays for statistics, so no foreign-key cascade takes it)."""
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    _, report_id, reference = marked_case(
        app, world, "CNS", handler=handler, reporter=reporter, track=Track.WHISTLEBLOWING
    )
    consent = f"/api/v1/reports/{report_id}/identity-consent"
    assert reporter.put(consent, {"recipients": ["police", "nav"]}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdentityConsent)) == 2
        result = service.run(now=utcnow() + YEARS_11)
        assert result.deleted == [reference]
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(IdentityConsent)) == 0


def test_a_deleted_case_takes_the_reporters_news_about_it(app, world):
    """The reporter's "news about a report you sent" rows (a handler's message, the
    feedback at closing) are discreet, at /my-reports with no subject: erasure found
    them by neither, and they stayed in the reporter's notifications for good."""
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    _case_id, _report_id, reference = marked_case(
        app, world, "MRK5", handler=handler, reporter=reporter
    )
    news = select(func.count()).where(
        Notification.user_id == world.employee.id, Notification.kind == Kind.REPORT_UPDATE
    )

    def kinds_listed() -> list[str]:
        response = reporter.get("/api/v1/notifications")
        assert response.status_code == 200
        return [item["kind"] for item in response.get_json()["items"]]

    assert kinds_listed().count(Kind.REPORT_UPDATE) == 2  # the message and the feedback
    with app.app_context():
        assert service.run(now=utcnow() + YEARS_11).deleted == [reference]
        assert db.session.scalar(news) == 0
    assert Kind.REPORT_UPDATE not in kinds_listed()
