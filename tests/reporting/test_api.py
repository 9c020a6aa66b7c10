"""The reporting JSON API: submitting, listing, reading, and refusing bad input."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from reporting.codes import ReportStatus
from reporting.models import Report
from tests.factories import api_login
from tests.reporting.support import post_report, token, valid_report
from trygg import audit
from trygg.extensions import db
from trygg.roles import Role


def test_employee_submits_a_report_and_reads_it_back(app, client, reporter):
    body = valid_report(
        reporter.unit.id,
        incident_types=["threat", "verbal_abuse"],
        counterpart_identity="The man in the red jacket",
        witnesses=[{"name": "Per Hansen"}],
        causes=["waiting_time"],
        causes_text="Two hours of waiting",
        sick_leave="self_certified",
        sick_leave_days=1,
    )
    created = post_report(client, body)
    assert created.status_code == 201, created.get_json()
    out = created.get_json()
    assert set(out) == {"id", "reference", "status"}
    assert out["status"] == ReportStatus.SUBMITTED
    year = datetime.now(UTC).year
    assert out["reference"].startswith(f"AVV-{year}-")

    listed = client.get("/api/v1/reports").get_json()
    assert [r["reference"] for r in listed] == [out["reference"]]
    assert listed[0]["incident_types"] == ["threat", "verbal_abuse"]
    assert "narrative" not in listed[0]

    detail = client.get(f"/api/v1/reports/{out['id']}")
    assert detail.status_code == 200
    got = detail.get_json()
    assert got["narrative"] == body["narrative"]
    assert got["counterpart_identity"] == "The man in the red jacket"
    assert got["witnesses"] == [{"user_id": None, "name": "Per Hansen"}]
    assert got["exposed"] == [{"user_id": reporter.user.id, "name": "Kari Nordmann"}]
    assert got["sick_leave"] == "self_certified"
    assert got["sick_leave_days"] == 1
    assert got["causes_text"] == "Two hours of waiting"
    assert datetime.fromisoformat(got["occurred_at"]) == datetime.fromisoformat(body["occurred_at"])

    with app.app_context():
        reads = [e for e in audit.for_object("report", out["id"]) if e.action == "report.read"]
        assert len(reads) == 1
        assert reads[0].actor == f"user:{reporter.user.id}"


def test_confidential_reporter_is_not_named_in_the_audit_log(app, client, reporter):
    created = post_report(client, valid_report(reporter.unit.id, confidential=True))
    assert created.status_code == 201
    report_id = created.get_json()["id"]
    client.get(f"/api/v1/reports/{report_id}")
    with app.app_context():
        entries = audit.for_object("report", report_id)
        assert {e.action for e in entries} == {"report.submit", "report.read"}
        assert {e.actor for e in entries} == {"reporter"}


def test_reports_are_listed_newest_first(client, reporter):
    refs = [
        post_report(client, valid_report(reporter.unit.id)).get_json()["reference"]
        for _ in range(3)
    ]
    listed = client.get("/api/v1/reports").get_json()
    assert [r["reference"] for r in listed] == list(reversed(refs))


def test_the_report_api_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/api/v1/reports"]) == {"get", "post"}
    assert "201" in paths["/api/v1/reports"]["post"]["responses"]
    assert "/api/v1/reports/{report_id}" in paths
    assert "/api/v1/reports/{report_id}/attachments/{attachment_id}" in paths
    assert "narrative" in spec["components"]["schemas"]["Report"]["properties"]


def test_the_document_shows_both_ways_to_submit_a_report(app, client, reporter):
    spec = client.get("/api/v1/openapi.json").get_json()
    content = spec["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    report = {"$ref": "#/components/schemas/Report"}
    assert content["application/json"]["schema"] == report
    multipart = content["multipart/form-data"]
    schema = multipart["schema"]
    assert schema["required"] == ["data"]
    assert schema["properties"]["data"] == report
    assert multipart["encoding"]["data"]["contentType"] == "application/json"
    files = schema["properties"]["files"]
    assert files["type"] == "array"
    assert files["items"] == {"type": "string", "format": "binary"}
    assert files["maxItems"] == app.config["TRYGG"]["attachment_max_count"]

    # What the document describes is what the API takes: a part for each property.
    created = post_report(client, valid_report(reporter.unit.id), files=[(b"notat\n", "notat.txt")])
    assert created.status_code == 201
    parts = {"data", "files", "csrf_token"}
    other = client.post(
        "/api/v1/reports",
        data={"data": "{}", "attachments": (io.BytesIO(b"x"), "x.txt")},
        headers={"X-CSRFToken": token(client)},
        content_type="multipart/form-data",
    )
    assert other.status_code == 400
    assert set(other.get_json()["errors"]) == {"attachments"}
    assert set(schema["properties"]) == parts


def test_a_report_needs_a_login_and_a_csrf_token(client, make):
    unit = make.unit()
    anonymous = post_report(client, valid_report(unit.id))
    assert anonymous.status_code == 401
    user = make.user(Role.EMPLOYEE, units=(unit,))
    other = client.application.test_client()
    api_login(other, user)
    no_token = other.post("/api/v1/reports", json=valid_report(unit.id))
    assert no_token.status_code == 400
    assert "csrf" in no_token.get_json()["errors"]


def test_roles_without_reporting_are_refused(client, make):
    admin = make.user(Role.ADMIN, totp=False)
    api_login(client, admin)
    assert client.get("/api/v1/reports").status_code == 403


def _future() -> str:
    return (datetime.now(UTC) + timedelta(hours=3)).isoformat()


def _long_ago() -> str:
    return (datetime.now(UTC) - timedelta(days=366 * 11)).isoformat()


# (what is changed, expected status, the field named in the errors)
BAD_INPUT = [
    ({"surprise": 1}, 400, "surprise"),
    ({"incident_types": []}, 400, "incident_types"),
    ({"incident_types": ["alien_abduction"]}, 400, "incident_types"),
    ({"incident_types": "threat"}, 400, "incident_types"),
    ({"narrative": None}, 400, "narrative"),
    ({"narrative": "   "}, 400, "narrative"),
    ({"narrative": "x" * 20_001}, 400, "narrative"),
    ({"occurred_at": "yesterday"}, 400, "occurred_at"),
    ({"occurred_at": "2026-02-30T10:00:00+01:00"}, 400, "occurred_at"),
    ({"occurred_at": "2026-01-10T10:00:00"}, 400, "occurred_at"),
    ({"occurred_at": _future()}, 400, "occurred_at"),
    ({"occurred_at": _long_ago()}, 400, "occurred_at"),
    ({"severity": 5}, 400, "severity"),
    ({"severity": "2"}, 400, "severity"),
    ({"severity": 2.5}, 400, "severity"),
    ({"unit_id": 987654}, 400, "unit_id"),
    ({"unit_id": 2**40}, 400, "unit_id"),
    ({"unit_id": -1}, 400, "unit_id"),
    ({"place_type": "moon"}, 400, "place_type"),
    ({"counterpart_category": None}, 400, "counterpart_category"),
    ({"channel": "telepathy"}, 400, "channel"),
    ({"confidential": "maybe"}, 400, "confidential"),
    ({"sick_leave_days": 3}, 400, "sick_leave_days"),
    ({"sick_leave": "doctor_certified", "sick_leave_days": 400}, 400, "sick_leave_days"),
    ({"counterpart_identity": "y" * 2001}, 400, "counterpart_identity"),
    ({"counterpart_identity": "\ud800"}, 400, "counterpart_identity"),
    ({"witnesses": [{"name": ""}]}, 400, "witnesses"),
    ({"witnesses": [{"name": "A", "phone": "1"}]}, 400, "witnesses"),
    ({"witnesses": [{"name": "n"}] * 21}, 400, "witnesses"),
    ({"exposed": [{"user_id": 987654}]}, 400, "exposed"),
    ({"exposed": [{"user_id": 2**63}]}, 400, "exposed"),
    ({"must_not_handle": [987654]}, 400, "must_not_handle"),
    ({"must_not_handle": [2**40]}, 400, "must_not_handle"),
    ({"counterpart_user_id": 987654}, 400, "counterpart_user_id"),
    ({"on_behalf_of_user_id": 1}, 400, "on_behalf_of_user_id"),
]


@pytest.mark.parametrize(("change", "status", "field"), BAD_INPUT)
def test_bad_input_is_refused_with_a_field_message(client, reporter, change, status, field):
    response = post_report(client, valid_report(reporter.unit.id, **change))
    assert response.status_code == status, response.get_json()
    errors = response.get_json()["errors"]
    # A field inside a list is named by its path: incident_types.0, exposed.0.user_id.
    keys = [key for key in errors if key.split(".")[0] == field]
    assert keys, errors
    assert all(isinstance(m, str) and m for key in keys for m in errors[key])


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[]", "application/json", 400),
        ("{", "application/json", 400),
        ("[" * 50_000, "application/json", 400),
        ('"report"', "application/json", 400),
        ("incident=threat", "application/x-www-form-urlencoded", 415),
        ("hello", "text/plain", 415),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(
    client, reporter, body, content_type, status
):
    response = client.post(
        "/api/v1/reports",
        data=body,
        content_type=content_type,
        headers={"X-CSRFToken": token(client)},
    )
    assert response.status_code == status
    assert "errors" in response.get_json()


def test_nothing_is_stored_when_a_report_is_refused(app, client, reporter):
    post_report(client, valid_report(reporter.unit.id, severity=9))
    with app.app_context():
        assert db.session.query(Report).count() == 0


def test_a_json_body_larger_than_a_form_may_be_gets_413(client, reporter):
    body = valid_report(reporter.unit.id, narrative="z" * 1_100_000)
    response = post_report(client, body)
    assert response.status_code == 413
    assert "_request" in response.get_json()["errors"]


def _post_chunked(client, body: bytes):
    """POST a JSON body without Content-Length, as a server that handles chunked
    transfer (gunicorn) hands it to the app."""
    return client.post(
        "/api/v1/reports",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"X-CSRFToken": token(client), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_json_body_has_the_same_limit(app, client, reporter):
    small = _post_chunked(client, json.dumps(valid_report(reporter.unit.id)).encode())
    assert small.status_code == 201, small.get_json()
    large = valid_report(reporter.unit.id, narrative="z" * 1_100_000)
    response = _post_chunked(client, json.dumps(large).encode())
    assert response.status_code == 413
    assert "_request" in response.get_json()["errors"]
    with app.app_context():
        assert db.session.query(Report).count() == 1


def test_a_body_beyond_the_content_limit_gets_a_json_413(make_app):
    app = make_app(max_content_length=20_000)
    from tests.factories import Factory

    make = Factory(app)
    unit = make.unit()
    user = make.user(Role.EMPLOYEE, units=(unit,))
    client = app.test_client()
    api_login(client, user)
    response = post_report(client, valid_report(unit.id), files=[(b"a" * 30_000, "big.txt")])
    assert response.status_code == 413
    assert response.is_json
    assert "_request" in response.get_json()["errors"]


def test_multipart_needs_a_data_part_and_no_other_fields(client, reporter):
    headers = {"X-CSRFToken": token(client)}
    missing = client.post(
        "/api/v1/reports", data={"other": "1"}, headers=headers, content_type="multipart/form-data"
    )
    assert missing.status_code == 400
    assert "other" in missing.get_json()["errors"]
    broken = client.post(
        "/api/v1/reports",
        data={"data": "{not json"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert broken.status_code == 400
    assert "data" in broken.get_json()["errors"]
    bad_field = post_report(
        client, valid_report(reporter.unit.id, severity=0), files=[(b"notes", "n.txt")]
    )
    assert bad_field.status_code == 400
    assert "severity" in bad_field.get_json()["errors"]


def test_messages_follow_the_users_language(client, reporter):
    client.post("/language", data={"lang": "en", "csrf_token": token(client)})
    response = post_report(client, valid_report(reporter.unit.id, place_type=None))
    assert response.get_json()["errors"]["place_type"] == ["This field cannot be empty."]


def test_multipart_may_carry_the_csrf_token_as_a_form_field(client, reporter):
    import io
    import json

    response = client.post(
        "/api/v1/reports",
        data={
            "csrf_token": token(client),
            "data": json.dumps(valid_report(reporter.unit.id)),
            "files": [(io.BytesIO(b"notes"), "notes.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("when", ["2026-01-10T10:00:00", "2026-01-10"])
def test_a_time_without_its_offset_is_refused_in_the_users_words(client, reporter, when):
    response = post_report(client, valid_report(reporter.unit.id, occurred_at=when))
    assert response.status_code == 400
    # marshmallow's own English message must not reach a Norwegian user untranslated.
    assert response.get_json()["errors"]["occurred_at"] != ["Not a valid aware datetime."]
    client.post("/language", data={"lang": "en", "csrf_token": token(client)})
    english = post_report(client, valid_report(reporter.unit.id, occurred_at=when))
    assert "offset" in english.get_json()["errors"]["occurred_at"][0]


@pytest.mark.parametrize(
    "data_parts",
    [
        # Two reports in one request: neither may be stored silently in place of the other.
        lambda body: [json.dumps(body), json.dumps({**body, "severity": 4})],
        # `curl -F data=@report.json` sends the part as a file.
        lambda body: (io.BytesIO(json.dumps(body).encode()), "report.json"),
    ],
    ids=["twice", "as-a-file"],
)
def test_the_multipart_data_part_must_be_one_text_part(app, client, reporter, data_parts):
    response = client.post(
        "/api/v1/reports",
        data={"data": data_parts(valid_report(reporter.unit.id))},
        headers={"X-CSRFToken": token(client)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    [message] = response.get_json()["errors"]["data"]
    assert message != "Dette feltet hører ikke hjemme her."  # it is the one field expected
    with app.app_context():
        assert db.session.query(Report).count() == 0
