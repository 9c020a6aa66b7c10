"""The anonymous follow-up session: ended on the server, an absolute lifetime, no report id
in the cookie."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from reporting.models import Report
from tests.anonymous.conftest import follow
from tests.factories import csrf_token, form_token
from tests.factories import submit_anonymous as submit
from trygg.extensions import db
from trygg.roles import Role


def _replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie("trygg_session", cookie)
    return thief


def _following(anon_client) -> str:
    receipt = submit(anon_client).get_json()["receipt"]
    assert follow(anon_client, receipt).status_code == 200
    return receipt


def test_a_cookie_copied_before_ending_the_session_no_longer_works(anon_app, anon_client):
    _following(anon_client)
    copied = anon_client.get_cookie("trygg_session").value
    assert _replay(anon_app, copied).get("/api/v1/anonymous/report").status_code == 200
    ended = anon_client.delete(
        "/api/v1/anonymous/session", headers={"X-CSRFToken": csrf_token(anon_client)}
    )
    assert ended.status_code == 200
    assert _replay(anon_app, copied).get("/api/v1/anonymous/report").status_code == 401


def test_a_cookie_copied_before_leaving_the_page_no_longer_works(anon_app, anon_client):
    _following(anon_client)
    copied = anon_client.get_cookie("trygg_session").value
    token = form_token(anon_client, "/varsle/folg-opp")
    left = anon_client.post("/varsle/folg-opp", data={"csrf_token": token, "action": "end"})
    assert left.status_code == 303
    page = _replay(anon_app, copied).get("/varsle/folg-opp").get_data(as_text=True)
    assert 'name="receipt"' in page  # asked for the code again


def test_the_session_ends_after_an_hour_however_active(anon_client):
    _following(anon_client)
    with anon_client.session_transaction() as sess:
        sess["anon_started"] = (datetime.now(UTC) - timedelta(minutes=59)).timestamp()
    assert anon_client.get("/api/v1/anonymous/report").status_code == 200
    with anon_client.session_transaction() as sess:
        sess["anon_started"] = (datetime.now(UTC) - timedelta(minutes=61)).timestamp()
    assert anon_client.get("/api/v1/anonymous/report").status_code == 401


def test_the_lifetime_follows_the_setting(make_app):
    client = make_app(anonymous_enabled=True, anonymous_session_minutes=10).test_client()
    _following(client)
    with client.session_transaction() as sess:
        sess["anon_started"] = (datetime.now(UTC) - timedelta(minutes=11)).timestamp()
    assert client.get("/api/v1/anonymous/report").status_code == 401


def test_the_cookie_does_not_carry_the_report_id(anon_app, anon_client):
    _following(anon_client)
    serializer = anon_app.session_interface.get_signing_serializer(anon_app)
    content = serializer.loads(anon_client.get_cookie("trygg_session").value)
    with anon_app.app_context():
        report_id = db.session.scalars(select(Report.id)).one()
    assert str(report_id) not in json.dumps(content)


def test_a_login_ended_by_starting_a_follow_up_ends_on_the_server_too(anon_app, anon_client, make):
    from tests.factories import api_login

    receipt = submit(anon_client).get_json()["receipt"]
    api_login(anon_client, make.user(Role.EMPLOYEE))
    copied = anon_client.get_cookie("trygg_session").value
    assert follow(anon_client, receipt).status_code == 200
    assert _replay(anon_app, copied).get("/api/v1/me").status_code == 401
