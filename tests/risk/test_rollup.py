"""The trends rollup (`trend_count`, migration 0020) equals a hand GROUP BY over reports,
cases and deadlines (risk/base.py) after every kind of write: intake through the API and
in bulk, state, track and § 5-2 changes, edits of class-S columns and incident types,
deadlines met, moved, added and deleted, a case and a report deleted, retention's
erasure; and under concurrent intake (PostgreSQL, real threads, committed database).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from handling.models import Case, Deadline
from handling.states import CaseState, Track
from reporting.codes import Channel
from reporting.models import Report, ReportIncidentType
from risk import base, data
from risk.dimensions import DIMENSIONS
from tests.concurrency import committed_app, in_parallel
from tests.factories import Factory, api_login, csrf_token
from tests.reporting.support import valid_report
from tests.risk.rollup import ALL_TIME, differences
from trygg.extensions import db
from trygg.roles import Role


def _ids(model: Any, limit: int, offset: int = 0) -> list[int]:
    return list(db.session.scalars(select(model.id).order_by(model.id).offset(offset).limit(limit)))


def test_the_rollup_is_exact_after_intake_edits_and_deletion(app, trends_org, with_incidents):
    with_incidents(7)
    assert differences(app) == {}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) > 20
        cases = _ids(Case, 12)
        # States and tracks change, several rows in one statement and one by one (ORM).
        db.session.execute(
            update(Case).where(Case.id.in_(cases[:4])).values(state=CaseState.CLOSED)
        )
        db.session.execute(
            update(Case).where(Case.id.in_(cases[4:6])).values(track=Track.WHISTLEBLOWING)
        )
        case = db.session.get(Case, cases[6])
        case.state, case.section_5_2 = CaseState.FORWARDED, not case.section_5_2
        db.session.flush()
        # Class-S edits of reports: severity, place, causes, unit and month moved.
        reports = _ids(Report, 8)
        db.session.execute(update(Report).where(Report.id.in_(reports[:3])).values(severity=4))
        db.session.execute(
            update(Report)
            .where(Report.id == reports[3])
            .values(place_type="outdoors", causes=["staffing", "staffing", "routines"])
        )
        db.session.execute(
            update(Report)
            .where(Report.id == reports[4])
            .values(unit_id=trends_org.outside.id, occurred_month=date(2021, 3, 1), lone_work=None)
        )
        db.session.execute(
            update(Report).where(Report.id == reports[5]).values(channel_kind=Channel.ANONYMOUS)
        )
        # Incident types: one removed, one added.
        db.session.execute(
            delete(ReportIncidentType).where(ReportIncidentType.report_id == reports[6])
        )
        db.session.execute(
            insert(ReportIncidentType).values(report_id=reports[6], incident_type="bullying")
        )
        db.session.commit()
    assert differences(app) == {}

    with app.app_context():
        now = datetime.now(UTC)
        # Deadlines: met (several of one case in one statement), moved, the first of a
        # kind deleted (the next becomes first), a new one added.
        busy = db.session.scalar(
            select(Deadline.case_id).group_by(Deadline.case_id).order_by(func.count().desc())
        )
        db.session.execute(update(Deadline).where(Deadline.case_id == busy).values(met_at=now))
        first = db.session.scalar(select(func.min(Deadline.id)).where(Deadline.met_at.is_not(None)))
        db.session.execute(
            update(Deadline).where(Deadline.id == first).values(due_at=now - timedelta(days=400))
        )
        some = _ids(Deadline, 3, offset=5)
        db.session.execute(delete(Deadline).where(Deadline.id == some[0]))
        target = db.session.get(Deadline, some[1])
        for kind in ("acknowledge", "recontact"):
            db.session.add(Deadline(case_id=target.case_id, kind=kind, due_at=now, created_at=now))
        # A row inserted below the case's first of its kind (the freed id) becomes first.
        db.session.execute(
            insert(Deadline).values(
                id=some[0], case_id=target.case_id, kind=target.kind, due_at=now, created_at=now
            )
        )
        db.session.commit()
    assert differences(app) == {}

    with app.app_context():
        # A case deleted (its deadlines go with it), then a report with its case.
        doomed_case = _ids(Case, 1, offset=14)[0]
        db.session.execute(delete(Case).where(Case.id == doomed_case))
        doomed_report = db.session.scalar(
            select(Case.report_id).where(Case.id == _ids(Case, 1, offset=15)[0])
        )
        db.session.execute(
            delete(Report).where(Report.id.in_([doomed_report, *_ids(Report, 2, offset=30)]))
        )
        db.session.commit()
    assert differences(app) == {}


def _close(case_ids: list[int], days: list[float]) -> None:
    """Close each case `days` after it was opened (whole milliseconds: SQLite's precision)."""
    for case_id, d in zip(case_ids, days, strict=True):
        opened = db.session.get(Case, case_id).opened_at.replace(microsecond=0)
        db.session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(
                state=CaseState.CLOSED,
                opened_at=opened,
                closed_at=opened + timedelta(milliseconds=round(d * 86_400_000)),
            )
        )


def test_the_close_time_histogram_follows_closing_reopening_and_deletion(
    app, trends_org, with_incidents
):
    with_incidents(5)
    with app.app_context():
        cases = _ids(Case, 14)
        # Bucket edges included: exactly 1.0 day, just under and over a tenth.
        _close(cases, [0, 0.05, 0.1, 0.0999, 1.0, 1.2345, 2.5, 3, 3, 7.75, 12.01, 30, 0.3, 45.6])
        db.session.commit()
    assert differences(app) == {}
    with app.app_context():
        closed = sum(data.close_counts(*ALL_TIME).values())  # the demo's closed cases too
        assert closed >= 14
        # Reopened (closed_at cleared), one by ORM and two in one statement.
        case = db.session.get(Case, cases[0])
        case.state, case.closed_at = CaseState.IN_PROGRESS, None
        db.session.flush()
        db.session.execute(update(Case).where(Case.id.in_(cases[1:3])).values(closed_at=None))
        db.session.commit()
    assert differences(app) == {}
    with app.app_context():
        assert sum(data.close_counts(*ALL_TIME).values()) == closed - 3
        # Closed again later, a closed case's report moved to another unit and month.
        _close(cases[:2], [4.44, 9.99])
        report_id = db.session.get(Case, cases[5]).report_id
        db.session.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(unit_id=trends_org.outside.id, occurred_month=date(2021, 3, 1))
        )
        db.session.commit()
    assert differences(app) == {}
    with app.app_context():
        # A closed case deleted; a report with a closed case deleted.
        db.session.execute(delete(Case).where(Case.id == cases[6]))
        doomed = db.session.get(Case, cases[7]).report_id
        db.session.execute(delete(Report).where(Report.id == doomed))
        db.session.commit()
    assert differences(app) == {}
    with app.app_context():
        assert sum(data.close_counts(*ALL_TIME).values()) == closed - 3


def test_the_median_from_the_rollup_is_within_a_tenth_of_a_day(app, trends_org, with_incidents):
    with_incidents(9)
    with app.app_context():
        cases = _ids(Case, 40)
        # Durations from minutes to months, odd and even counts per year.
        _close(cases, [((i * 7919) % 1000) / 37 + i / 1000 for i in range(len(cases))])
        db.session.commit()
        units = {trends_org.big.id, trends_org.six.id, trends_org.two.id}
        for scope in (None, units):
            rolled = data.close_times(scope, *ALL_TIME)
            exact = base.close_times(scope, *ALL_TIME)
            assert rolled
            assert rolled.keys() == exact.keys()
            for year, (n, median) in exact.items():
                assert rolled[year][0] == n
                assert median is not None
                assert rolled[year][1] is not None
                assert abs(rolled[year][1] - median) <= 0.05 + 1e-9, (year, rolled[year], median)
        assert data.median_of({}) is None
        assert data.median_of({3: 1}) == 0.35
        assert data.median_of({3: 1, 10: 1}) == 0.7  # (0.35 + 1.05) / 2


def test_a_report_through_the_api_is_counted_in_its_transaction(app, trends_org):
    client = app.test_client()
    api_login(client, trends_org.employee)
    response = client.post(
        "/api/v1/reports",
        json=valid_report(trends_org.big.id, incident_types=["threat", "bullying"]),
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 201, response.get_json()
    assert differences(app) == {}
    with app.app_context():
        assert sum(data.totals(*ALL_TIME).values()) == 1
        assert sum(data.counts(DIMENSIONS["type"], *ALL_TIME).values()) == 2


def test_erasure_keeps_the_counts(app, trends_org, with_incidents):
    """Retention keeps the class-S rows (crypto-shredding): nothing counted changes."""
    from handling.erasure import erase_case

    with_incidents(3)
    with app.app_context():
        before = data.totals(*ALL_TIME), data.counts(DIMENSIONS["state"], *ALL_TIME)
        for case_id in _ids(Case, 5):
            erase_case(db.session.get(Case, case_id), month=date.today().replace(day=1))
        db.session.commit()
        assert (data.totals(*ALL_TIME), data.counts(DIMENSIONS["state"], *ALL_TIME)) == before
    assert differences(app) == {}


# -- concurrent intake (PostgreSQL: real parallel writers; SQLite: serialised, still exact) --

WRITERS = 8
EACH = 5


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Any:
    yield from committed_app(make_app, scratch_database)


def test_the_rollup_is_exact_under_concurrent_intake(race_app):
    make = Factory(race_app)
    unit = make.unit("Akutten", headcount=40)
    writers = []
    for i in range(WRITERS):
        user = make.user(Role.EMPLOYEE, units=(unit,), name=f"Ansatt {i}")
        client = race_app.test_client()
        api_login(client, user)
        writers.append((client, csrf_token(client)))

    def intake(client: Any, token: str) -> Any:
        # Every writer in the same unit and month: the same rollup rows, at once.
        for n in range(EACH):
            types = ["threat"] if n % 2 else ["threat", "verbal_abuse"]
            response = client.post(
                "/api/v1/reports",
                json=valid_report(unit.id, incident_types=types, severity=1 + n % 4),
                headers={"X-CSRFToken": token},
            )
            if response.status_code != 201:
                return response
        return response

    statuses = in_parallel(writers, intake)
    assert statuses == {201: WRITERS}, statuses
    assert differences(race_app) == {}
    with race_app.app_context():
        assert sum(data.totals(*ALL_TIME).values()) == WRITERS * EACH
