"""Each trigger kind fires once, for the assessment's owner, with a notification, and not
again for the same cause; measure deadlines notify the responsible person."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from notifications.models import Notification
from notifications.scheduler import TickContext
from risk.assessment import triggers
from risk.assessment.models import Trigger
from tests.factories import choose_language
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import ITEM, assessment_body, measure_body, report, today
from trygg.extensions import db

OSLO = ZoneInfo("Europe/Oslo")


def _tick(app, now=None):
    with app.app_context():
        ctx = TickContext(now or datetime.now(UTC), "test")
        fired = triggers.scan_job(ctx) + triggers.measures_job(ctx)
        db.session.commit()
        return fired


def _notes(app, user_id, kind):
    with app.app_context():
        return list(
            db.session.scalars(
                select(Notification.link).where(
                    Notification.user_id == user_id, Notification.kind == kind
                )
            )
        )


def _triggers(app, aid):
    with app.app_context():
        return [
            (t.kind, t.item_ref, t.owner_id)
            for t in db.session.scalars(
                select(Trigger).where(Trigger.assessment_id == aid).order_by(Trigger.id)
            )
        ]


def test_a_serious_incident_in_scope_triggers_once_for_the_owner(app, ra, approved):
    aid = approved()["id"]
    _tick(app)  # the first scan: nothing in scope yet
    report(app, ra.employee, ra.ward, severity=2, place_type="front_desk")
    report(app, ra.employee, ra.other, severity=4, place_type="front_desk")
    report(app, ra.employee, ra.ward, severity=3, place_type="patient_room")
    _tick(app)
    assert _triggers(app, aid) == []
    report(app, ra.employee, ra.ward, severity=3, place_type="front_desk")
    _tick(app, TOMORROW())
    _tick(app, TOMORROW())
    assert _triggers(app, aid) == [("incident", 1, ra.manager.id)]
    assert _notes(app, ra.manager.id, "risk_review") == [f"/risk/assessments/{aid}"]
    listed = Api(app, ra.manager).get(f"/api/v1/risk/assessments/{aid}/triggers").get_json()
    reason = listed["triggers"][0]["reason"]
    assert reason.startswith("R1: ")
    assert "Kari" not in reason
    assert "front" not in reason


def TOMORROW() -> datetime:  # noqa: N802 - read as a constant
    """The first minutes of tomorrow in Oslo (a serious incident is looked for the day
    after it was reported)."""
    day = datetime.now(OSLO).date() + timedelta(days=1)
    return datetime.combine(day, time(0, 5), tzinfo=OSLO).astimezone(UTC)


def test_a_serious_incident_triggers_the_day_after_not_the_minute_it_is_reported(app, ra, approved):
    """The owner (a manager) is told of a re-assessment the day after a serious incident
    in scope is reported: told the minute it came, they would know when it was sent, and
    in a small unit by whom (a confidential reporter too)."""
    aid = approved()["id"]
    _tick(app)
    report(app, ra.employee, ra.ward, severity=4, place_type="front_desk")
    _tick(app)
    _tick(app, datetime.now(UTC) + timedelta(minutes=1))
    assert _triggers(app, aid) == []
    assert _notes(app, ra.manager.id, "risk_review") == []
    _tick(app, TOMORROW())
    assert _triggers(app, aid) == [("incident", 1, ra.manager.id)]
    assert _notes(app, ra.manager.id, "risk_review") == [f"/risk/assessments/{aid}"]


def test_no_trigger_tells_of_an_incident_in_a_unit_too_small_for_statistics(
    app, ra, approved, make
):
    """An item scoped to a unit too small to be published on its own shows no trend
    (its people would be pointed at), and sets off nothing either: a trigger would tell
    the manager that one of its few people reported a serious incident."""
    small = make.unit("Nattevakt", parent=ra.emergency, headcount=3)
    aid = approved(scope_unit_id=small.id)["id"]
    _tick(app)
    report(app, ra.employee, small, severity=4, place_type="front_desk")
    _tick(app, TOMORROW())
    assert _triggers(app, aid) == []
    assert _notes(app, ra.manager.id, "risk_review") == []


def _five_last_month(app, ra, **fields):
    """Five reports from the ward, each happened on the 10th of last month (k = 5)."""
    last_month = (today().replace(day=1) - timedelta(days=1)).replace(day=10)
    happened = datetime(last_month.year, last_month.month, 10, 12, tzinfo=UTC).isoformat()
    for _ in range(5):
        report(app, ra.employee, ra.ward, severity=2, occurred_at=happened, **fields)


def test_a_rising_trend_triggers_once(app, ra, approved):
    aid = approved(scope_places=[])
    aid = aid["id"]
    _five_last_month(app, ra)
    with app.app_context():
        assert triggers.check_trends(today()) == 1
        assert triggers.check_trends(today()) == 0
        db.session.commit()
    assert _triggers(app, aid) == [("trend", 1, ra.manager.id)]
    assert len(_notes(app, ra.manager.id, "risk_review")) == 1


def test_a_rise_in_a_scope_whose_counts_are_not_shown_triggers_nothing(app, ra, approved):
    """An item scoped on two fields shows no counts (two such scopes could be compared to
    reveal a small number), so a rise in them sets off no trigger either: the trigger
    would tell the owner what the item hides. The same rise in a one-field scope does."""
    shown = approved(scope_places=["front_desk"])["id"]
    hidden = approved(scope_places=["front_desk"], scope_lone_work=True)["id"]
    _five_last_month(app, ra, place_type="front_desk", lone_work=True)
    with app.app_context():
        assert triggers.check_trends(today()) == 1
        db.session.commit()
    assert _triggers(app, shown) == [("trend", 1, ra.manager.id)]
    assert _triggers(app, hidden) == []
    owner = Api(app, ra.manager)
    choose_language(owner.client, "en")
    page = owner.get(f"/risk/assessments/{hidden}").get_data(as_text=True)
    assert "no rise in them sets off a re-assessment" in page


def test_a_passed_review_date_triggers_once(app, ra, approved):
    aid = approved()["id"]
    later = datetime.now(UTC) + timedelta(days=200)
    with app.app_context():
        assert triggers.check_reviews(later.date()) == 1
        assert triggers.check_reviews(later.date()) == 0
        db.session.commit()
    assert _triggers(app, aid) == [("review", None, ra.manager.id)]
    assert _notes(app, ra.manager.id, "risk_review") == [f"/risk/assessments/{aid}"]
    due = app.test_cli_runner().invoke(args=["risk", "due"])
    assert "Nothing is overdue" in due.output


def test_a_measure_that_did_not_work_triggers_and_asks_for_a_replacement(app, ra, approved):
    aid = approved()["id"]
    client = Api(app, ra.manager)
    measure = client.post(
        f"/api/v1/risk/assessments/{aid}/measures", measure_body(ra, status="done")
    )
    assert measure.status_code == 201, measure.get_json()
    mid = measure.get_json()["id"]
    url = f"/api/v1/risk/assessments/{aid}/measures/{mid}/evaluations"
    assert client.post(url, {"result": "not", "next_step": "Try guards"}).status_code == 201
    assert _triggers(app, aid) == [("measure", 1, ra.manager.id)]
    assert len(_notes(app, ra.manager.id, "risk_review")) == 1
    choose_language(client.client, "en")
    page = client.get(f"/risk/assessments/{aid}/measures/{mid}", headers={"Accept-Language": "en"})
    assert "Add a measure that replaces it" in page.get_data(as_text=True)
    replaced = client.post(
        f"/api/v1/risk/assessments/{aid}/measures",
        {
            "item_ref": 1,
            "goal": "Guards",
            "what": "Guards in the evening",
            "responsible_id": ra.manager.id,
            "deadline": today().isoformat(),
            "replaces_id": mid,
        },
    )
    assert replaced.status_code == 201
    page = client.get(f"/risk/assessments/{aid}/measures/{mid}", headers={"Accept-Language": "en"})
    assert "Add a measure that replaces it" not in page.get_data(as_text=True)


def test_approving_a_new_version_closes_the_open_triggers(app, ra, approved):
    aid = approved()["id"]
    with app.app_context():
        triggers.check_reviews(today() + timedelta(days=200))
        db.session.commit()
    client = Api(app, ra.manager)
    assert len(client.get(f"/api/v1/risk/assessments/{aid}/triggers").get_json()["triggers"]) == 1
    client.post(f"/api/v1/risk/assessments/{aid}/versions")
    client.post(f"/api/v1/risk/assessments/{aid}/status", {"status": "approved"})
    assert client.get(f"/api/v1/risk/assessments/{aid}/triggers").get_json()["triggers"] == []


def test_measure_deadlines_notify_the_responsible_person_once_each(app, ra, approved):
    aid = approved()["id"]
    client = Api(app, ra.manager)
    client.post(
        f"/api/v1/risk/assessments/{aid}/measures",
        {
            "item_ref": 1,
            "goal": "Alarm",
            "what": "Alarm buttons",
            "responsible_id": ra.employee.id,
            "deadline": (today() + timedelta(days=3)).isoformat(),
        },
    )
    _tick(app)
    _tick(app)
    assert _notes(app, ra.employee.id, "measure_due") == [f"/risk/assessments/{aid}/plan"]
    _tick(app, datetime.now(UTC) + timedelta(days=5))
    _tick(app, datetime.now(UTC) + timedelta(days=5))
    assert len(_notes(app, ra.employee.id, "measure_due")) == 2
    due = app.test_cli_runner().invoke(args=["risk", "due"])
    assert "Nothing is overdue" in due.output


def test_the_cli_lists_overdue_measures(app, ra):
    # The period began a month ago (a deadline cannot come before the assessment began).
    client = Api(app, ra.manager)
    began = (today() - timedelta(days=30)).isoformat()
    body = assessment_body(ra.emergency, period_start=began)
    aid = client.post("/api/v1/risk/assessments", body).get_json()["id"]
    assert client.post(f"/api/v1/risk/assessments/{aid}/items", ITEM).status_code == 201
    overdue = client.post(
        f"/api/v1/risk/assessments/{aid}/measures",
        {
            "item_ref": 1,
            "goal": "Alarm",
            "what": "Alarm buttons",
            "responsible_id": ra.manager.id,
            "deadline": (today() - timedelta(days=3)).isoformat(),
        },
    )
    assert overdue.status_code == 201, overdue.get_json()
    due = app.test_cli_runner().invoke(args=["risk", "due"])
    assert f"assessment {aid}" in due.output
    assert "measure" in due.output


def test_training_is_due_again_when_its_item_s_level_rises_or_its_interval_ends(app, ra, approved):
    aid = approved()["id"]
    client = Api(app, ra.manager)
    url = f"/api/v1/risk/assessments/{aid}/measures"
    drill = client.post(
        url,
        {
            "item_ref": 1,
            "goal": "Drill",
            "what": "Threat drill",
            "responsible_id": ra.manager.id,
            "deadline": today().isoformat(),
            "status": "done",
            "is_training": True,
            "repeat_months": 12,
        },
    ).get_json()
    assert drill["status"] == "done"
    client.post(f"/api/v1/risk/assessments/{aid}/versions")
    # The same level: nothing changes.
    client.post(f"/api/v1/risk/assessments/{aid}/items/1", {**ITEM, "likelihood": 3})
    assert client.get(url).get_json()["measures"][0]["status"] == "done"
    client.post(f"/api/v1/risk/assessments/{aid}/items/1", {**ITEM, "likelihood": 5})
    again = client.get(url).get_json()["measures"][0]
    assert again["status"] == "planned"
    assert again["done_on"] is None
    # Done again; a year later it is due again.
    client.patch(f"{url}/{drill['id']}", {"status": "done"})
    with app.app_context():
        assert triggers.repeat_training(today() + timedelta(days=100)) == 0
        assert triggers.repeat_training(today() + timedelta(days=365)) == 1
        db.session.commit()
    assert client.get(url).get_json()["measures"][0]["status"] == "planned"
