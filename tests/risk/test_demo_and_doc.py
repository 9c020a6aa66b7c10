"""The demo's incidents look like a hospital's, and the trends API is in OpenAPI."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from handling.models import Case, CaseEvent, Deadline
from handling.states import CaseState
from reporting.models import Report
from risk import demo
from tests.handling.conftest import Api
from trygg import demo as kernel_demo
from trygg import org
from trygg.extensions import db, utcnow
from trygg.roles import Role


def test_the_demo_has_two_years_of_plausible_incidents(app, make):
    with app.app_context():
        kernel_demo.seed()
        db.session.commit()
        names = {u.id: u.name for u in org.all_units()}
        rows = db.session.execute(
            select(Report.unit_id, Report.occurred_month, Report.time_band)
        ).all()
        months = {m for _u, m, _t in rows}
        assert 22 <= len(months) <= 25
        per_unit = Counter(names[u] for u, _m, _t in rows)
        heads = {u.name: u.headcount for u in org.all_units()}
        rate = {n: per_unit[n] / heads[n] for n in per_unit}
        assert rate["Akuttmottaket"] > rate["Trygg sykehus"]
        assert rate["Hjemmetjenesten"] > rate["Trygg sykehus"]
        bands = Counter(t for _u, _m, t in rows)
        assert bands["evening"] > bands["day"] > bands["night"]
        seasons = Counter(m.month for _u, m, _t in rows)
        assert seasons[12] + seasons[1] + seasons[2] > seasons[6] + seasons[7] + seasons[8]
        states = Counter(db.session.scalars(select(Case.state)))
        assert states[CaseState.CLOSED] > states[CaseState.IN_PROGRESS] > 0
        met = db.session.scalar(select(func.count()).where(Deadline.met_at.is_not(None)))
        assert met > 0
        # The queue sorts and counts overdue cases by Case.next_due_at: the demo's
        # cases carry their earliest open deadline, and some are overdue.
        nearest = dict(
            db.session.execute(
                select(Deadline.case_id, func.min(Deadline.due_at))
                .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))
                .group_by(Deadline.case_id)
            ).all()
        )
        stored = dict(db.session.execute(select(Case.id, Case.next_due_at)).all())
        assert stored == {case_id: nearest.get(case_id) for case_id in stored}
        assert any(due is not None and due < utcnow() for due in stored.values())
        # ... but the handler's queue is this season's work: no case overdue by years.
        active = db.session.scalars(
            select(Case.opened_at).where(Case.closed_at.is_(None), Case.state != "dropped")
        ).all()
        assert active
        assert min(active) > utcnow() - timedelta(days=demo.ACTIVE_AT_MOST_DAYS + 1)
        # Each case's timeline opens with its track, as a real opening writes it.
        opened = db.session.execute(
            select(CaseEvent.codes, Case.track)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind == "opened")
        ).all()
        assert opened
        assert all(codes == {"track": track} for codes, track in opened)


def test_the_demo_first_look_shows_numbers(app, make):
    with app.app_context():
        kernel_demo.seed()
        db.session.commit()
    amu = make.user(Role.AMU, name="Committee")
    body = Api(app, amu).get("/api/v1/trends?by=type").get_json()
    shown = [row["total"]["count"] for row in body["rows"] if row["total"]["mark"] == "shown"]
    assert len(shown) == 12
    assert sum(shown) > 100


def test_trends_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    trends = doc["paths"]["/api/v1/trends"]["get"]
    names = {p["name"] for p in trends["parameters"]}
    assert {"unit", "period", "from", "to", "by"} <= names
    assert all(p["in"] == "query" for p in trends["parameters"])
    assert "400" in trends["responses"]
    assert "404" in trends["responses"]
    assert "/api/v1/trends/dimensions" in doc["paths"]
