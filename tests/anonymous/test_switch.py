"""Switching the link: a plain 404 everywhere when off; the admin's choice wins."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import csrf_token, form_login, form_token
from tests.factories import submit_anonymous as submit
from trygg import site_settings
from trygg.anonymous_link import PREFIXES
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def without_token(page: bytes) -> bytes:
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token" value=""', page)


def anonymous_rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIXES)]
    # 4 pages (form and follow-up, nb and en) and 6 API routes on 4 paths
    assert len(rules) >= 10
    assert {"/varsle/folg-opp", "/api/v1/anonymous/messages"} <= {r.rule for r in rules}
    return rules


def test_every_anonymous_route_is_a_plain_404_when_off(app, client):
    token = csrf_token(client)
    client.get("/no-such-page")  # Flask-Login marks the session not fresh once; not compared
    for rule in anonymous_rules(app):
        for method in METHODS:
            for headers in ({}, {"X-CSRFToken": token}):
                response = client.open(rule.rule, method=method, json={}, headers=headers)
                assert response.status_code == 404, (rule.rule, method)
                missing = (
                    "/api/v1/no-such-page" if rule.rule.startswith("/api/") else "/no-such-page"
                )
                expected = client.open(missing, method=method, json={}, headers=headers)
                # The same page as for any missing path (the language switch names the path;
                # its CSRF token carries the second it was made).
                body = response.get_data().replace(rule.rule.encode(), missing.encode())
                assert without_token(body) == without_token(expected.get_data()), (
                    rule.rule,
                    method,
                )
                assert "Retry-After" not in response.headers
                assert sorted(response.headers.keys()) == sorted(expected.headers.keys())


def test_the_link_is_off_by_default_and_on_by_configuration(app, make_app):
    assert app.test_client().get("/varsle").status_code == 404
    assert make_app(anonymous_enabled=True).test_client().get("/varsle").status_code == 200


def test_the_admin_switches_the_link_and_the_change_is_audited(app, client, make):
    admin = make.user(Role.ADMIN)
    form_login(client, admin)
    page = client.get("/admin/anonymous")
    assert page.status_code == 200
    assert client.get("/varsle").status_code == 404
    token = form_token(client, "/admin/anonymous")
    switched = client.post("/admin/anonymous", data={"csrf_token": token, "enabled": "on"})
    assert switched.status_code == 302
    assert client.get("/varsle").status_code == 200
    assert client.get("/en/whistleblow").status_code == 200
    assert submit(client).status_code == 201
    token = form_token(client, "/admin/anonymous")
    client.post("/admin/anonymous", data={"csrf_token": token, "enabled": "off"})
    assert client.get("/varsle").status_code == 404
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "setting.change")
        ).all()
        assert [e.detail_dict() for e in entries] == [
            {"before": False, "after": True},
            {"before": True, "after": False},
        ]
        assert {e.actor for e in entries} == {f"user:{admin.id}"}
        assert {e.object_id for e in entries} == {"anonymous_enabled"}


def test_the_admin_page_refuses_a_missing_choice(client, make):
    form_login(client, make.user(Role.ADMIN))
    token = form_token(client, "/admin/anonymous")
    assert client.post("/admin/anonymous", data={"csrf_token": token}).status_code == 400


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.HANDLER, Role.MANAGER, Role.SAFETY_REP])
def test_only_admins_may_switch_it(client, make, role):
    form_login(client, make.user(role))
    assert client.get("/admin/anonymous").status_code == 403


def test_the_stored_choice_wins_over_the_configuration(app, make_app):
    configured_on = make_app(anonymous_enabled=True)
    with configured_on.app_context():
        site_settings.change("anonymous_enabled", False, actor="test")
        db.session.commit()
    assert configured_on.test_client().get("/varsle").status_code == 404
    with configured_on.app_context():
        site_settings.forget("anonymous_enabled", actor="test")
        db.session.commit()
    assert configured_on.test_client().get("/varsle").status_code == 200


def test_only_known_settings_can_be_stored(app):
    with app.app_context():
        with pytest.raises(KeyError):
            site_settings.change("secret_key", "x", actor="test")
        with pytest.raises(TypeError):
            site_settings.change("anonymous_enabled", "yes", actor="test")
