"""A character no text can hold, anywhere in what is sent (path, query, form, JSON, a page
cursor), is a translated 400 that says what to fix, and nothing is stored. NUL:
PostgreSQL cannot hold it in text, so a search or a name with one was a 500 there (and
SQLite stored it). Half of a surrogate pair (JSON's "\\ud800"): it has no UTF-8, so a
log-in with one was a 500 on both engines."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from reporting.models import Report
from tests.factories import api_login, choose_language, csrf_token, form_login, form_token
from tests.reporting.support import post_report, valid_report
from trygg.extensions import db
from trygg.org import Unit
from trygg.roles import Role

EN = "What you sent contains a character that text cannot hold"
NB = "Det du sendte, inneholder et tegn som tekst ikke kan inneholde"


@pytest.fixture
def admin_client(app: Flask, make: Any) -> Any:
    client = app.test_client()
    form_login(client, make.user(Role.ADMIN))
    return client


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    "path",
    ["/admin/users?q=kari%00", "/admin/units?q=%00", "/admin/users?after=%00", "/admin/%00"],
)
def test_a_nul_in_the_address_is_a_translated_400(admin_client: Any, path: str) -> None:
    response = admin_client.get(path)
    assert response.status_code == 400
    assert NB in response.get_data(as_text=True)  # Norwegian by default
    choose_language(admin_client, "en")
    response = admin_client.get(path)
    assert response.status_code == 400
    assert EN in response.get_data(as_text=True)


def test_a_nul_in_a_form_stores_nothing(app: Flask, admin_client: Any) -> None:
    choose_language(admin_client, "en")
    before = count(app, Unit)

    def new_unit(name: str) -> Any:
        token = form_token(admin_client, "/admin/units/new")
        form = {"csrf_token": token, "name": name, "headcount": "10"}
        return admin_client.post("/admin/units/new", data=form)

    response = new_unit("Akutt\x00mottaket")
    assert response.status_code == 400
    assert EN in response.get_data(as_text=True)
    assert count(app, Unit) == before
    # The same form without it is stored.
    assert new_unit("Akuttmottaket").status_code == 302
    assert count(app, Unit) == before + 1


def test_a_nul_in_json_is_refused_in_the_api_s_error_shape(
    app: Flask, client: Any, make: Any
) -> None:
    unit = make.unit("Akuttmottaket")
    api_login(client, make.user(Role.EMPLOYEE, units=(unit,)))
    choose_language(client, "en")
    before = count(app, Report)
    for body, field in (
        (valid_report(unit.id, narrative="He shouted\x00 at me."), "narrative"),
        (valid_report(unit.id, narrative="He shouted\ud800 at me."), "narrative"),
        (valid_report(unit.id, exposed=[{"name": "Kari\x00"}]), "exposed.0.name"),
        ({**valid_report(unit.id), "unknown\x00": 1}, "_request"),
    ):
        response = post_report(client, body)
        assert response.status_code == 400
        assert response.get_json()["errors"] == {field: [response.get_json()["errors"][field][0]]}
        assert EN in response.get_json()["errors"][field][0]
    assert count(app, Report) == before
    assert post_report(client, valid_report(unit.id)).status_code == 201


def test_a_nul_in_a_json_query_is_refused_before_the_view(client: Any, make: Any) -> None:
    unit = make.unit("Akuttmottaket")
    api_login(client, make.user(Role.HANDLER, units=(unit,)))
    response = client.get("/api/v1/cases?q=ab%00cd", headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 400
    assert NB in response.get_json()["errors"]["_request"][0]


def test_a_cursor_holding_nul_is_not_a_cursor(admin_client: Any) -> None:
    """The page cursor is base64 of JSON: a NUL inside it passes the address check, and
    the list refuses it as it refuses any cursor it did not give."""
    cursor = base64.urlsafe_b64encode(json.dumps(["Kari\x00", 1]).encode()).decode()
    choose_language(admin_client, "en")
    response = admin_client.get(f"/admin/users?after={cursor.rstrip('=')}")
    assert response.status_code == 400
    assert EN not in response.get_data(as_text=True)
    good = base64.urlsafe_b64encode(json.dumps(["Kari", 1]).encode()).decode()
    assert admin_client.get(f"/admin/users?after={good.rstrip('=')}").status_code == 200


def test_half_a_surrogate_pair_at_the_log_in_is_a_400(client: Any, make: Any) -> None:
    """JSON may spell a lone surrogate ("\\ud800"); the log-in hashed the address with it
    and failed with a 500, before anyone was logged in."""
    user = make.user(Role.EMPLOYEE)
    for email in ("a\\ud800@example.org", "a\\udc80@example.org"):
        response = client.post(
            "/api/v1/session",
            data='{"email": "' + email + '", "password": "x"}',
            content_type="application/json",
            headers={"X-CSRFToken": csrf_token(client)},
        )
        assert response.status_code == 400
        assert NB in response.get_json()["errors"]["email"][0]
    api_login(client, user)  # the log-in itself still works


def test_a_cursor_holding_half_a_surrogate_pair_is_not_a_cursor(admin_client: Any) -> None:
    raw = json.dumps(["Kari\ud800", 1]).encode()  # json.dumps escapes it: valid bytes
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert admin_client.get(f"/admin/users?after={cursor}").status_code == 400
