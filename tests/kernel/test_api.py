"""The JSON API: errors are always JSON, and the OpenAPI document matches the routes."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.factories import Factory, api_login, csrf_token
from trygg.roles import Role
from trygg.security import allow

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def assert_json_errors(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower()
    errors = response.get_json()["errors"]
    assert isinstance(errors, dict)
    assert errors
    for messages in errors.values():
        assert isinstance(messages, list)
        assert all(isinstance(m, str) and m for m in messages)
    return errors


@pytest.fixture
def api_app(make_app):
    """An app with a small request limit and an admin-only API route."""
    built = make_app(max_content_length=2_000)

    @allow(Role.ADMIN)
    def admins_only() -> dict:
        return {"ok": True}

    built.add_url_rule("/api/v1/test-only/admins", "admins_only", admins_only)
    return built


def post_json(client, path: str, **kwargs):
    return client.post(path, headers={"X-CSRFToken": csrf_token(client)}, **kwargs)


@pytest.mark.parametrize(
    ("status", "send"),
    [
        (
            400,
            lambda c: post_json(
                c, "/api/v1/session", data="{not json", content_type="application/json"
            ),
        ),
        (400, lambda c: post_json(c, "/api/v1/session", json=["a", "list"])),
        (400, lambda c: c.post("/api/v1/session", json={"email": "a@b.c", "password": "x"})),
        (401, lambda c: c.get("/api/v1/me")),
        (401, lambda c: c.get("/api/v1/test-only/admins")),
        (404, lambda c: c.get("/api/v1/no-such-thing")),
        (404, lambda c: c.get("/api/v2/me")),
        (405, lambda c: c.get("/api/v1/session")),
        (405, lambda c: c.put("/api/v1/me")),
        (
            413,
            lambda c: post_json(
                c, "/api/v1/session", json={"email": "a@b.c", "password": "x" * 3000}
            ),
        ),
        (415, lambda c: post_json(c, "/api/v1/session", data={"email": "a@b.c", "password": "x"})),
    ],
)
def test_api_errors_are_json(api_app, status, send):
    assert_json_errors(send(api_app.test_client()), status)


def test_api_refusal_for_a_role_is_json_403(api_app):
    user = Factory(api_app).user(Role.EMPLOYEE)
    client = api_app.test_client()
    api_login(client, user)
    errors = assert_json_errors(client.get("/api/v1/test-only/admins"), 403)
    assert "_request" in errors


def test_api_errors_follow_the_language(client):
    norwegian = client.get("/api/v1/no-such-thing")
    english = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})
    assert norwegian.get_json() == {"errors": {"_request": ["Finnes ikke."]}}
    assert english.get_json() == {"errors": {"_request": ["Not found."]}}


def test_unknown_field_in_the_login_body_is_a_field_error(client):
    # "admin" is a field the login does not take, not the role. vocabulary: JSON field
    body = {"email": "a@b.c", "password": "x", "admin": True}
    response = post_json(client, "/api/v1/session", json=body)
    errors = assert_json_errors(response, 400)
    assert list(errors) == ["admin"]  # vocabulary: JSON field


@pytest.mark.parametrize("chunked", [False, True], ids=["with length", "chunked"])
def test_every_json_body_is_capped_at_the_form_size(client, chunked):
    """Any JSON endpoint (here the public login) refuses a body past max_form_memory_size
    with a 413 that says what to send, also when no length is announced."""
    body = json.dumps({"email": "a@b.c", "password": "x" * 1_100_000}).encode()
    headers = {"X-CSRFToken": csrf_token(client), "Accept-Language": "en"}
    extra: dict = {}
    if chunked:
        # As a server that handles chunked transfer (gunicorn) hands the body to the app.
        headers["Transfer-Encoding"] = "chunked"
        extra["environ_overrides"] = {"wsgi.input_terminated": True}
    response = client.post(
        "/api/v1/session",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers=headers,
        **extra,
    )
    errors = assert_json_errors(response, 413)
    assert errors == {"_request": ["The body is too large: send at most 1000 kB of JSON."]}


def test_units_returns_the_tree_depth_first(app, make, client):
    root = make.unit("Sykehuset", headcount=600)
    psych = make.unit("Psykiatri", parent=root, headcount=120)
    acute = make.unit("Akutten", parent=root, headcount=80)
    night = make.unit("Akutten natt", parent=acute, headcount=9)
    other = make.unit("Administrasjonen", headcount=30)
    api_login(client, make.user(Role.EMPLOYEE))
    units = client.get("/api/v1/units").get_json()
    assert units == [
        {"id": other.id, "name": "Administrasjonen", "parent_id": None, "headcount": 30},
        {"id": root.id, "name": "Sykehuset", "parent_id": None, "headcount": 600},
        {"id": acute.id, "name": "Akutten", "parent_id": root.id, "headcount": 80},
        {"id": night.id, "name": "Akutten natt", "parent_id": acute.id, "headcount": 9},
        {"id": psych.id, "name": "Psykiatri", "parent_id": root.id, "headcount": 120},
    ]


# -- the OpenAPI document ---------------------------------------------------------------


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def resolve(document: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        assert part in node, f"unresolved {ref}"
        node = node[part]
    return node


def all_refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        for value in node.values():
            found += all_refs(value)
        return found
    if isinstance(node, list):
        return [ref for value in node for ref in all_refs(value)]
    return []


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_openapi_document_is_well_formed(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["info"]["version"]
    for ref in all_refs(document):
        resolve(document, ref)
    for path, operations in document["paths"].items():
        assert path.startswith("/")
        declared = set(re.findall(r"{([^}]+)}", path))
        for method, operation in operations.items():
            assert method in HTTP_METHODS, (path, method)
            assert operation["responses"], (path, method)
            for code, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", code)
                assert response["description"]
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert params == declared, (path, method)


def test_openapi_lists_every_api_route_of_the_app(app, document):
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }
    assert documented == routes


def test_documented_responses_have_the_shape_the_api_sends(app, make, client, document):
    api_login(client, make.user(Role.ADMIN))
    make.unit("Sykehuset")
    checked = 0
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None or "{" in path:
            continue
        content = operation["responses"]["200"].get("content")
        if not content:
            continue
        schema = content["application/json"]["schema"]
        response = client.get(path)
        if response.status_code != 200:
            continue  # needs a state this test does not set up (e.g. an anonymous session)
        body = response.get_json()
        items = [body]
        if schema.get("type") == "array":
            assert isinstance(body, list), path
            schema, items = schema["items"], body
        if "$ref" in schema:
            schema = resolve(document, schema["$ref"])
        for item in items:
            assert isinstance(item, dict), path
            assert set(item) <= set(schema["properties"]), path
            assert set(schema.get("required", [])) <= set(item), path
        checked += 1
    assert checked >= 2
