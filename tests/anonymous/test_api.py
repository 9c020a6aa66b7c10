"""The anonymous JSON API: report, receive a receipt, follow up with it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handling.states import CaseState
from reporting import anonymous
from reporting.codes import ReportStatus
from reporting.models import Report
from reporting.service import open_report
from tests.anonymous.conftest import follow
from tests.factories import anonymous_report_data as report_payload
from tests.factories import csrf_token
from tests.factories import submit_anonymous as submit
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.privacy import RANDOM_ID_MAX, RANDOM_ID_MIN
from trygg.roles import Role

OSLO = ZoneInfo("Europe/Oslo")
RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


def oslo_midnight(moment: datetime) -> bool:
    local = moment.astimezone(OSLO)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def test_a_report_gets_a_receipt_and_a_non_sequential_reference(anon_app, anon_client):
    response = submit(anon_client)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"receipt", "reference"}
    assert RECEIPT.match(body["receipt"])
    assert re.match(r"^VAR-\d{4}-[A-Z0-9]{6}$", body["reference"])
    with anon_app.app_context():
        report = db.session.scalar(select(Report).where(Report.reference == body["reference"]))
        assert report is not None
        assert report.anonymous
        assert report.confidential
        assert report.owner_tag is None
        assert report.time_band is None
        assert RANDOM_ID_MIN <= report.id <= RANDOM_ID_MAX
        assert oslo_midnight(report.created_at)
        content = open_report(report, actor="test")
        occurred = content.fields["occurred_at"]
        assert oslo_midnight(occurred)  # the date only, as midnight in Oslo
        assert content.fields["exposed"] == []
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "report.submit", AuditEntry.object_id == str(report.id)
            )
        )
        # The sequential audit chain would date it among staff entries: left out.
        assert entry is None


def test_two_receipts_differ(anon_client):
    first = submit(anon_client).get_json()["receipt"]
    second = submit(anon_client).get_json()["receipt"]
    assert first != second


@pytest.mark.parametrize(
    "field",
    [
        {"confidential": True},
        {"on_behalf_of_user_id": 1},
        {"counterpart_user_id": 1},
        {"must_not_handle": [1]},
        {"exposed": [{"user_id": 1, "name": "Kari"}]},
        {"witnesses": [{"user_id": 1}]},
        {"reporter": "me"},
    ],
)
def test_identity_fields_are_refused(anon_client, field):
    response = submit(anon_client, **field)
    assert response.status_code == 400
    name = next(iter(field))
    # A field inside a list is named by its path: exposed.0.user_id.
    assert any(key.split(".")[0] == name for key in response.get_json()["errors"])


def test_people_may_be_named_in_words(anon_app, anon_client):
    body = submit(anon_client, exposed=[{"name": "the night shift"}]).get_json()
    with anon_app.app_context():
        report = db.session.scalar(select(Report).where(Report.reference == body["reference"]))
        assert open_report(report, actor="test").fields["exposed"] == [
            {"user_id": None, "name": "the night shift"}
        ]


def test_too_many_people_is_counted_in_people_not_characters(anon_client):
    refused = submit(anon_client, exposed=[{"name": f"Person {n}"} for n in range(21)])
    assert refused.status_code == 400
    message = refused.get_json()["errors"]["exposed"][0]
    assert "20" in message
    assert "tegn" not in message  # "characters"


def test_unit_is_optional_and_may_be_any_level(anon_app, anon_client, make):
    top = make.unit("Sykehuset")
    team = make.unit("Team nord", parent=top)
    for unit_id in (None, top.id, team.id):
        body = submit(anon_client, unit_id=unit_id).get_json()
        with anon_app.app_context():
            report = db.session.scalar(select(Report).where(Report.reference == body["reference"]))
            assert report.unit_id == unit_id
    assert submit(anon_client, unit_id=999_999).status_code == 400


@pytest.mark.parametrize(
    "typed",
    [
        lambda r: r,
        lambda r: r.lower(),
        lambda r: r.replace("-", ""),
        lambda r: " ".join(r.split("-")),
        lambda r: "  " + r.replace("-", " - ") + "\n",
        lambda r: r.replace("0", "O").replace("1", "l"),
    ],
)
def test_receipt_is_forgiving_on_entry(anon_client, typed):
    receipt = submit(anon_client).get_json()["receipt"]
    response = follow(anon_client, typed(receipt))
    assert response.status_code == 200, response.get_json()


def test_follow_up_shows_the_state_in_plain_words(anon_client):
    body = submit(anon_client).get_json()
    opened = follow(anon_client, body["receipt"])
    assert opened.status_code == 200
    status = anon_client.get("/api/v1/anonymous/report")
    assert status.status_code == 200
    assert status.get_json() == {
        "reference": body["reference"],
        "status": ReportStatus.SUBMITTED,
        "status_text": "Mottatt, venter på behandling",
        "state": CaseState.REPORTED,
        "state_text": "Meldingen din har kommet fram. En saksbehandler ser på den snart.",
        "feedback": None,
        "identity_revealed": False,
        "messages": [],
    }
    assert opened.get_json() == status.get_json()


def test_wrong_receipts_get_one_generic_message(anon_client):
    submit(anon_client)
    wrong = follow(anon_client, anonymous.format_receipt(anonymous.new_receipt()))
    malformed = follow(anon_client, "not a receipt")
    empty = follow(anon_client, "")
    assert wrong.status_code == malformed.status_code == empty.status_code == 401
    assert wrong.get_json() == malformed.get_json() == empty.get_json()
    assert anon_client.get("/api/v1/anonymous/report").status_code == 401


def test_ending_the_session(anon_client):
    receipt = submit(anon_client).get_json()["receipt"]
    assert follow(anon_client, receipt).status_code == 200
    ended = anon_client.delete(
        "/api/v1/anonymous/session", headers={"X-CSRFToken": csrf_token(anon_client)}
    )
    assert ended.status_code == 200
    assert anon_client.get("/api/v1/anonymous/report").status_code == 401


def test_the_session_ends_after_the_idle_time(anon_client):
    receipt = submit(anon_client).get_json()["receipt"]
    assert follow(anon_client, receipt).status_code == 200
    assert anon_client.get("/api/v1/anonymous/report").status_code == 200
    with anon_client.session_transaction() as sess:
        sess["anon_seen"] = (datetime.now(UTC) - timedelta(minutes=14)).timestamp()
    assert anon_client.get("/api/v1/anonymous/report").status_code == 200  # and refreshed
    with anon_client.session_transaction() as sess:
        sess["anon_seen"] = (datetime.now(UTC) - timedelta(minutes=16)).timestamp()
    assert anon_client.get("/api/v1/anonymous/report").status_code == 401
    assert anon_client.get("/api/v1/anonymous/report").status_code == 401


def test_the_anonymous_session_grants_nothing_else(anon_client, make):
    receipt = submit(anon_client).get_json()["receipt"]
    assert follow(anon_client, receipt).status_code == 200
    assert anon_client.get("/api/v1/me").status_code == 401
    assert anon_client.get("/about/access").status_code == 302  # to the login page


def test_starting_a_session_logs_out_an_employee_in_the_same_browser(anon_client, make):
    from tests.factories import api_login

    receipt = submit(anon_client).get_json()["receipt"]
    api_login(anon_client, make.user(Role.EMPLOYEE))
    assert anon_client.get("/api/v1/me").status_code == 200
    assert follow(anon_client, receipt).status_code == 200
    assert anon_client.get("/api/v1/me").status_code == 401


def test_submissions_are_limited_per_network(make_app):
    client = make_app(anonymous_enabled=True, anonymous_submissions_per_hour=3).test_client()
    for _ in range(3):
        assert submit(client, remote="198.51.100.7").status_code == 201
    refused = submit(client, remote="198.51.100.99")  # same /24
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3601
    assert submit(client, remote="198.51.101.7").status_code == 201  # another network
    # A refused or invalid report is not counted.
    assert submit(client, remote="203.0.113.5", narrative=" ").status_code == 400
    for _ in range(3):
        assert submit(client, remote="203.0.113.5").status_code == 201


def test_responses_are_uncacheable_referrer_free_and_cookies_end_with_the_browser(anon_client):
    csrf = anon_client.get("/api/v1/csrf")
    responses = [
        csrf,
        submit(anon_client),
        anon_client.get("/api/v1/anonymous/report"),
    ]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        for cookie in response.headers.getlist("Set-Cookie"):
            assert cookie.startswith("trygg_session=")
            assert "expires" not in cookie.lower()
            assert "max-age" not in cookie.lower()


def test_the_routes_are_in_the_openapi_document(anon_client):
    paths = anon_client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/anonymous/reports"]
    assert set(paths["/api/v1/anonymous/session"]) == {"post", "delete"}
    assert "get" in paths["/api/v1/anonymous/report"]


def test_payload_helper_is_valid_for_the_schema(anon_app):
    from reporting.schemas import AnonymousReportSchema

    with anon_app.test_request_context():
        assert AnonymousReportSchema().load(report_payload())["unit_id"] is None
