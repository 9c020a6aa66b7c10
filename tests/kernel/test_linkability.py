"""A confidential reporter cannot be found in the audit chain by what stands next to
their submission: routine sign-ins are kept in a separate sign-in log, not the chain."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import api_login, csrf_token, form_login
from tests.kernel.test_admin import audit_since, last_seq
from tests.reporting.support import post_report, valid_report
from trygg.accounts.models import SignIn
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role

WRONG = "not the right passphrase"


def sign_in_kinds(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(SignIn.kind).where(SignIn.user_id == user_id).order_by(SignIn.id)
            )
        )


def mentions(entry: AuditEntry, user_id: int) -> bool:
    return entry.actor == f"user:{user_id}" or (
        entry.object_type == "user" and entry.object_id == str(user_id)
    )


def test_a_confidential_report_right_after_a_login_cannot_be_paired_with_it(app, make):
    unit = make.unit()
    kari = make.user(Role.EMPLOYEE, units=(unit,))
    client = app.test_client()
    start = last_seq(app)

    failed = app.test_client()  # a mistyped password first, as happens
    failed.post(
        "/api/v1/session",
        json={"email": kari.email, "password": WRONG},
        headers={"X-CSRFToken": csrf_token(failed)},
    )
    api_login(client, kari)
    created = post_report(client, valid_report(unit.id, confidential=True))
    assert created.status_code == 201

    entries = audit_since(app, start)
    assert "report.submit" in [e.action for e in entries]
    assert [e for e in entries if mentions(e, kari.id)] == []
    assert not any(e.action.startswith("login") for e in entries)
    # The sign-in log still has both, for whoever looks after security.
    assert sign_in_kinds(app, kari.id) == ["login.failed", "login"]


def test_the_two_factor_steps_are_in_the_sign_in_log_too(app, make):
    handler = make.user(Role.HANDLER)
    start = last_seq(app)
    client = app.test_client()
    form_login(client, handler)
    wrong = app.test_client()
    wrong.post(
        "/api/v1/session",
        json={"email": handler.email, "password": handler.password, "otp": "000000"},
        headers={"X-CSRFToken": csrf_token(wrong)},
    )
    assert not [e for e in audit_since(app, start) if mentions(e, handler.id)]
    assert sign_in_kinds(app, handler.id) == ["login", "login.failed_code"]


def test_the_account_page_shows_ones_own_recent_sign_ins(app, make):
    kari = make.user(Role.EMPLOYEE)
    other = make.user(Role.EMPLOYEE)
    for _ in range(2):
        api_login(app.test_client(), other)
    client = app.test_client()
    form_login(client, kari)
    page = client.get("/account").get_data(as_text=True)
    assert page.count('class="app-sign-in"') == 1  # hers, not the other's


def test_old_sign_ins_are_deleted(make_app):
    from datetime import timedelta

    from sqlalchemy import update

    from tests.factories import Factory
    from trygg.extensions import utcnow

    quick = make_app(sign_in_log_days=30)
    kari = Factory(quick).user(Role.EMPLOYEE)
    api_login(quick.test_client(), kari)
    with quick.app_context():
        db.session.execute(update(SignIn).values(at=utcnow() - timedelta(days=31)))
        db.session.commit()
    api_login(quick.test_client(), kari)
    with quick.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
