"""Who sees statistics for which unit, on the page and in the API; refusals explained."""

from __future__ import annotations

import pytest

from tests.factories import form_login, form_token
from tests.handling.conftest import Api
from trygg.roles import Role


def _token(client):
    return form_token(client, "/")


def _units(client: Api) -> set[int]:
    body = client.get("/api/v1/trends/dimensions").get_json()
    return {u["id"] for u in body["units"]}


def test_scopes_by_role(app, trends_org):
    o = trends_org
    assert _units(Api(app, o.amu)) == {0, o.root.id, o.big.id, o.outside.id}
    assert _units(Api(app, o.admin)) == {0, o.root.id, o.big.id, o.outside.id}
    assert _units(Api(app, o.manager)) == {o.root.id, o.big.id}
    assert _units(Api(app, o.safety_rep)) == {o.big.id}


# role → units it may ask for (others in the list answer 404; small ones 400)
MATRIX = {
    Role.AMU: {"org", "root", "big", "outside"},
    Role.ADMIN: {"org", "root", "big", "outside"},
    Role.MANAGER: {"root", "big"},
    Role.SAFETY_REP: {"big"},
}


@pytest.mark.parametrize(
    "role", [Role.AMU, Role.ADMIN, Role.MANAGER, Role.SAFETY_REP, Role.HANDLER, Role.EMPLOYEE]
)
def test_api_answers_only_inside_the_scope(app, trends_org, role):
    o = trends_org
    client = Api(app, getattr(o, role))
    ids = {"org": 0, "root": o.root.id, "big": o.big.id, "outside": o.outside.id}
    for name, unit_id in ids.items():
        response = client.get("/api/v1/trends", query_string={"unit": unit_id})
        if role not in MATRIX:
            assert response.status_code == 403, (role, name)
        elif name in MATRIX[role]:
            assert response.status_code == 200, (role, name, response.get_json())
        else:
            assert response.status_code == 404, (role, name)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.EMPLOYEE])
def test_the_page_is_forbidden_to_roles_without_statistics(app, trends_org, role):
    client = app.test_client()
    form_login(client, getattr(trends_org, role))
    assert client.get("/trends").status_code == 403
    assert client.get("/trends/export.csv").status_code == 403


def test_a_manager_cannot_open_another_unit_on_the_page(app, trends_org):
    client = app.test_client()
    form_login(client, trends_org.manager)
    page = client.get(f"/trends?unit={trends_org.outside.id}")
    assert page.status_code == 404
    assert "Andre" not in page.get_data(as_text=True)
    assert client.get(f"/trends/export.csv?unit={trends_org.outside.id}").status_code == 404


def test_a_small_unit_is_refused_with_the_reason(app, trends_org):
    client = Api(app, trends_org.manager)
    # Seks (6 people) is in the manager's subtree but merged: the rest of Tjenesten
    # would be Fire's 4 people.
    response = client.get(
        "/api/v1/trends",
        query_string={"unit": trends_org.six.id},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    message = response.get_json()["errors"]["unit"][0]
    assert "shown only as part of the unit above it" in message
    assert "Tjenesten" in message
    small = Api(app, trends_org.small_manager)
    refused = small.get(
        "/api/v1/trends",
        query_string={"unit": trends_org.four.id},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 400
    assert "too few people" in refused.get_json()["errors"]["unit"][0]
    assert small.get("/api/v1/trends/dimensions").get_json()["units"] == []
    # A unit outside the scope is not found, small or not.
    assert client.get("/api/v1/trends", query_string={"unit": 999999}).status_code == 404


def test_the_small_units_manager_is_told_why_on_the_page(app, trends_org):
    client = app.test_client()
    form_login(client, trends_org.small_manager)
    client.post("/language", data={"lang": "en", "csrf_token": _token(client)})
    page = client.get("/").get_data(as_text=True)
    assert "Fire" in page
    assert "too few people for its own statistics" in page


def test_bad_parameters_are_400_with_a_message_per_field(app, trends_org):
    client = Api(app, trends_org.amu)
    cases = {
        "period": {"period": "week"},
        "from": {"from": "2020-13"},
        "by": {"by": "narrative"},
        "unit": {"unit": "x"},
        "surprise": {"surprise": "1"},
    }
    for field, args in cases.items():
        response = client.get("/api/v1/trends", query_string=args)
        assert response.status_code == 400, (field, response.get_json())
        assert field in response.get_json()["errors"], response.get_json()
    too_early = client.get("/api/v1/trends", query_string={"from": "1999-01"})
    assert too_early.status_code == 400
    assert "from" in too_early.get_json()["errors"]
