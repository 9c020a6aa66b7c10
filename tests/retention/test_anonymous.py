"""Anonymous reports: the receipt goes with its deleted case, or after a year unused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from handling.models import Case
from handling.states import CaseState
from notifications.models import Notification
from reporting.models import AnonymousReceipt
from retention import service
from tests.anonymous.conftest import follow
from tests.factories import csrf_token
from tests.factories import submit_anonymous as submit
from tests.retention.support import build_world
from trygg.extensions import db, utcnow


def receipts() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AnonymousReceipt)) or 0)


def test_a_deleted_anonymous_case_takes_its_receipt_with_it(app, anon_app, anon_client):
    build_world(app)
    created = submit(anon_client)
    assert created.status_code == 201, created.get_json()
    receipt = created.get_json()["receipt"]
    with anon_app.app_context():
        before = receipts()
        db.session.execute(
            update(Case).values(
                state=CaseState.DROPPED, closed_at=utcnow() - timedelta(days=5 * 366)
            )
        )
        db.session.commit()
        assert len(service.run().deleted) == 1
        assert receipts() == before - 1
    assert follow(anon_client, receipt).status_code == 401


def test_a_receipt_unused_for_the_policys_months_stops_working(app, anon_app, anon_client):
    build_world(app)
    created = submit(anon_client)
    receipt = created.get_json()["receipt"]
    assert follow(anon_client, receipt).status_code in (200, 201)
    with anon_app.app_context():
        assert service.run(now=utcnow() + timedelta(days=300)).receipts == 0
        assert service.run(now=utcnow() + timedelta(days=14 * 31)).receipts == 1
    assert follow(anon_client, receipt).status_code == 401
    with anon_app.app_context():
        case = db.session.scalars(select(Case)).one()
        assert case.report.erased_month is None  # the case lives on


def test_a_deleted_anonymous_case_takes_its_handlers_message_notices(app, anon_app, anon_client):
    """An anonymous reporter's message is told to the handlers in a discreet row (no
    subject) that leads to the case's messages, "/cases/N#h-messages": erasure looked
    for "/cases/N" only, and the handler kept a notice of a case that no longer is."""
    world = build_world(app)
    created = submit(anon_client)
    assert created.status_code == 201, created.get_json()
    assert follow(anon_client, created.get_json()["receipt"]).status_code == 200
    sent = anon_client.post(
        "/api/v1/anonymous/messages",
        json={"body": "Det skjedde igjen i går."},
        headers={"X-CSRFToken": csrf_token(anon_client)},
    )
    assert sent.status_code == 201, sent.get_json()
    with anon_app.app_context():
        case_id = db.session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))
        about_it = select(func.count()).where(
            Notification.user_id == world.handler.id,
            Notification.link.startswith(f"/cases/{case_id}"),
        )
        links = set(
            db.session.scalars(
                select(Notification.link).where(Notification.user_id == world.handler.id)
            )
        )
        assert f"/cases/{case_id}#h-messages" in links
        db.session.execute(
            update(Case).values(
                state=CaseState.DROPPED, closed_at=utcnow() - timedelta(days=5 * 366)
            )
        )
        db.session.commit()
        assert len(service.run().deleted) == 1
        assert db.session.scalar(about_it) == 0
