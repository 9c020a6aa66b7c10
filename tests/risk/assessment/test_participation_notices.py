"""Participation needs the people who take part to hear when there is something to take
part in: the assessment's safety representatives when a version is sent for review or
approved, the working environment committee when it is approved, and the owner when
someone else comments or gives a statement. No one else, and never the one who acted."""

from __future__ import annotations

from sqlalchemy import select

from notifications.models import Notification
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import ITEM, assessment_body
from trygg.extensions import db
from trygg.roles import Role


def _told(app, kind: str) -> dict[int, list[str]]:
    with app.app_context():
        out: dict[int, list[str]] = {}
        for user_id, link in db.session.execute(
            select(Notification.user_id, Notification.link)
            .where(Notification.kind == kind)
            .order_by(Notification.id)
        ):
            out.setdefault(user_id, []).append(link)
        return out


def test_those_who_take_part_hear_when_there_is_something_to_take_part_in(app, ra, make):
    # A safety rep for the whole hospital (above the assessment's unit) is asked too;
    # one for another department is not.
    trust_rep = make.user(
        Role.SAFETY_REP, Role.EMPLOYEE, units=(ra.hospital,), represents=(ra.hospital,)
    )
    elsewhere = make.user(Role.SAFETY_REP, Role.EMPLOYEE, units=(ra.other,), represents=(ra.other,))
    manager = Api(app, ra.manager)
    created = manager.post("/api/v1/risk/assessments", assessment_body(ra.emergency))
    aid = created.get_json()["id"]
    link, api_link = f"/risk/assessments/{aid}", f"/api/v1/risk/assessments/{aid}"
    assert manager.post(f"{api_link}/items", ITEM).status_code == 201
    assert _told(app, "risk_participation") == {}  # a draft asks no one yet

    assert manager.post(f"{api_link}/status", {"status": "review"}).status_code == 200
    assert _told(app, "risk_participation") == {ra.safety_rep.id: [link], trust_rep.id: [link]}

    assert manager.post(f"{api_link}/status", {"status": "approved"}).status_code == 200
    told = _told(app, "risk_participation")
    assert told == {ra.safety_rep.id: [link, link], trust_rep.id: [link, link], ra.amu.id: [link]}
    assert elsewhere.id not in told
    assert ra.manager.id not in told

    # The owner hears of a statement and of a comment by others, not of their own.
    rep = Api(app, ra.safety_rep)
    statement = {"body": "Vi støtter planen.", "kind": "statement"}
    assert rep.post(f"{api_link}/comments", statement).status_code == 201
    assert Api(app, ra.amu).post(f"{api_link}/comments", {"body": "Bra."}).status_code == 201
    assert manager.post(f"{api_link}/comments", {"body": "Takk."}).status_code == 201
    assert _told(app, "risk_comment") == {ra.manager.id: [link, link]}


def test_the_owner_who_is_also_the_safety_rep_is_not_told_of_their_own_move(app, ra, make):
    """The one who moves the version, or comments, is never told of it."""
    both = make.user(
        Role.MANAGER,
        Role.SAFETY_REP,
        Role.EMPLOYEE,
        manages=(ra.other,),
        units=(ra.other,),
        represents=(ra.other,),
    )
    owner = Api(app, both)
    aid = owner.post("/api/v1/risk/assessments", assessment_body(ra.other)).get_json()["id"]
    api_link = f"/api/v1/risk/assessments/{aid}"
    assert owner.post(f"{api_link}/items", ITEM).status_code == 201
    assert owner.post(f"{api_link}/status", {"status": "review"}).status_code == 200
    assert owner.post(f"{api_link}/comments", {"body": "Notat."}).status_code == 201
    assert both.id not in _told(app, "risk_participation")
    assert _told(app, "risk_comment") == {}


def test_the_owner_is_reminded_before_approving_without_the_safety_rep(app, ra):
    """Approving with no safety representative taking part is allowed (the page records
    who took part), but the owner is told so beside the buttons, and what to do."""
    manager = Api(app, ra.manager)
    aid = manager.post("/api/v1/risk/assessments", assessment_body(ra.emergency)).get_json()["id"]
    api_link = f"/api/v1/risk/assessments/{aid}"
    assert manager.post(f"{api_link}/items", ITEM).status_code == 201
    page = f"/risk/assessments/{aid}"
    assert 'id="rep-not-yet"' in manager.get(page).get_data(as_text=True)
    assert manager.post(f"{api_link}/status", {"status": "review"}).status_code == 200
    rep = Api(app, ra.safety_rep)
    assert rep.post(f"{api_link}/comments", {"body": "Husk kveldsvaktene."}).status_code == 201
    assert 'id="rep-not-yet"' not in manager.get(page).get_data(as_text=True)
