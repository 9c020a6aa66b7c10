"""What the API fuzzer found, each pinned by a test of its own.

Each was a response outside the documented contract: an error in a shape the document
does not describe, or a message a Norwegian user would get in English.
"""

from __future__ import annotations

import pytest
from marshmallow import fields, validate

from tests.factories import api_login, csrf_token
from trygg.roles import Role
from trygg.validation import translate_message


def _admin_client(app, make):
    client = app.test_client()
    api_login(client, make.user(Role.ADMIN))
    return client


def test_a_nested_field_error_is_flat_under_its_dotted_path(app, make):
    """PUT deadline-policies answered {"policies": {"0": {"amount": [...]}}}, which is not
    the documented {"errors": {field: [messages]}}."""
    client = _admin_client(app, make)
    policy = {"kind": "investigation", "unit": "days", "amount": 0}  # vocabulary: deadline kind
    response = client.put(
        "/api/v1/admin/deadline-policies",
        json={"policies": [policy]},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "errors": {"policies.0.amount": ["Skriv inn en varighet på minst 1."]}
    }


def test_a_row_id_below_one_is_refused_in_norwegian(app, make):
    """POST routing-rules with group_id 0 answered marshmallow's English message."""
    client = _admin_client(app, make)
    response = client.post(
        "/api/v1/admin/routing-rules",
        json={"group_id": 0},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 400
    assert response.get_json() == {"errors": {"group_id": ["Velg en verdi fra 1 til 2147483647."]}}


def test_a_bad_queue_filter_is_a_flat_translated_field_error(app, make):
    """GET /cases with a bad filter: the query is in the document, its errors flat."""
    client = app.test_client()
    api_login(client, make.user(Role.HANDLER))
    response = client.get("/api/v1/cases?unit_id=x&state=nowhere")
    assert response.status_code == 400
    assert response.get_json() == {
        "errors": {
            "unit_id": ["Skriv inn et helt tall."],
            "state": ["Velg ett av alternativene i listen."],
        }
    }


def test_the_queue_filters_are_in_the_document(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/cases"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"state", "track", "unit_id", "assigned"} <= names  # vocabulary: queue filter


def _marshmallow_messages() -> list[str]:
    """Every message marshmallow's fields and validators give, filled in as they are."""
    samples = [
        fields.Integer().error_messages["invalid"],
        fields.Integer().error_messages["too_large"],
        fields.Float().error_messages["special"],
        fields.String().error_messages["invalid_utf8"],
        fields.Nested({}).error_messages["type"],
        fields.NaiveDateTime()
        .error_messages["invalid_awareness"]
        .format(awareness="naive", obj_type="datetime"),
        fields.Time().error_messages["invalid"].format(obj_type="time"),
        fields.Url().error_messages["invalid"],
        fields.UUID().error_messages["invalid_uuid"],
    ]
    for kwargs in ({"min": 1}, {"max": 9}, {"min": 1, "min_inclusive": False}):
        samples.append(_range_message(**kwargs))
    samples.append(_range_message(max=9, max_inclusive=False))
    samples.append(validate.Length(equal=4).message_equal.format(equal=4))
    return samples


def _range_message(**kwargs) -> str:
    try:
        validate.Range(**kwargs)(-100 if "min" in kwargs else 100)
    except Exception as exc:  # noqa: BLE001 - marshmallow's ValidationError
        return str(exc.messages[0])  # type: ignore[attr-defined]
    raise AssertionError("the value was in range")


@pytest.mark.parametrize("message", _marshmallow_messages())
def test_every_marshmallow_message_is_translated(app, message):
    with app.test_request_context(headers={"Accept-Language": "nb"}):
        translated = translate_message(message)
    assert translated != message


BEYOND = 2**64  # past what SQLite and psycopg can bind: an OverflowError, a 500, before


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/cases/{BEYOND}",
        f"/api/v1/notifications/{BEYOND}/read",
        f"/api/v1/reports/{2**31}",
        # A path whose other method exists answered 405 when the route refused the id.
        f"/api/v1/cases/{2**40}/messages",
    ],
)
def test_an_id_in_the_path_past_any_row_is_a_json_404(app, make, path):
    client = app.test_client()
    api_login(client, make.user(Role.HANDLER, Role.EMPLOYEE))
    headers = {"X-CSRFToken": csrf_token(client)}
    method = "POST" if path.endswith(("read", "messages")) else "GET"
    response = client.open(path, method=method, headers=headers, json={"body": "Hei"})
    assert response.status_code == 404
    assert response.get_json() == {"errors": {"_request": ["Finnes ikke."]}}


def test_the_document_bounds_ids_in_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    (param,) = paths["/api/v1/reports/{report_id}"]["get"]["parameters"]
    assert param["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        (Role.ADMIN, "POST", "/api/v1/admin/routing-rules", {"group_id": BEYOND}),
        (Role.HANDLER, "GET", f"/api/v1/cases?unit_id={BEYOND}", None),
        (Role.MANAGER, "GET", f"/api/v1/trends?unit={BEYOND}", None),
    ],
)
def test_an_id_in_the_body_or_query_past_any_row_is_a_field_error(
    app, make, role, method, path, body
):
    client = app.test_client()
    api_login(client, make.user(role))
    response = client.open(
        path, method=method, json=body, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert response.status_code == 400, response.get_json()
    (field,) = response.get_json()["errors"]
    assert field in {"group_id", "unit_id", "unit"}
