"""Every route declares who may use it, and the declaration is what users get.

The walk reads `app.url_map` and each view's policy, so routes that other packages add
later are covered without changing this file.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.factories import Factory, api_login, csrf_token
from trygg.accounts.models import ROLES
from trygg.roles import Role
from trygg.security import Policy, allow, policy_of, public

EXPECTED_PUBLIC = {
    "accounts.login",  # the login page
    "api_accounts.login",  # POST /api/v1/session
    "accounts.login_code",  # the second step of a two-factor login
    "accounts.set_password",  # choosing one's password with a set-password code
    "web.healthz",
    "static",
    "api.csrf_token",
    "api.openapi",
    "web.set_language",
    # The anonymous whistleblower link: public by design, 404 while switched off.
    "anonymous.report_form",
    "anonymous.report_form_en",
    "anonymous_api.submit_report",
    # Following it up (handling: it shows the case).
    "anonymous_case.follow_up",
    "anonymous_case.follow_up_en",
    "anonymous_case_api.start_session",
    "anonymous_case_api.report_status",
    "anonymous_case_api.messages",
    "anonymous_case_api.post_message",
    "anonymous_case_api.end_session",
}
SAMPLE_ARGS = {
    "IntegerConverter": 1,
    "UUIDConverter": "00000000-0000-0000-0000-000000000001",
}


def rules(app: Flask, method: str) -> list[tuple[Rule, Policy]]:
    found = []
    for rule in app.url_map.iter_rules():
        policy = policy_of(app, rule.endpoint)
        assert policy is not None, rule.rule
        if method in (rule.methods or ()):
            found.append((rule, policy))
    return sorted(found, key=lambda pair: pair[0].rule)


def sample_url(rule: Rule) -> str:
    """The rule's path with sample values for its arguments."""

    def fill(match: re.Match[str]) -> str:
        arg = match.group(2)
        return str(SAMPLE_ARGS.get(type(rule._converters[arg]).__name__, "1"))  # noqa: SLF001

    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>", fill, rule.rule)


def call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, headers={"X-CSRFToken": csrf_token(client)})


def test_every_endpoint_declares_a_policy(app):
    missing = sorted(
        rule.endpoint for rule in app.url_map.iter_rules() if policy_of(app, rule.endpoint) is None
    )
    assert missing == []


def test_the_public_endpoints_are_exactly_the_expected_ones(app):
    public_endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if policy_of(app, rule.endpoint).public  # type: ignore[union-attr]
        # Blueprints' static files (CSS) are public like the app's own.
        and not rule.endpoint.endswith(".static")
    }
    assert public_endpoints == EXPECTED_PUBLIC


def test_anonymous_visitors_are_sent_to_login_or_get_401(app, client):
    wrong = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        for rule, policy in rules(app, method):
            if policy.public:
                continue
            url = sample_url(rule)
            response = call(client, method, url)
            if url.startswith("/api/"):
                ok = response.status_code == 401 and "errors" in (response.get_json() or {})
            else:
                location = response.headers.get("Location", "")
                ok = response.status_code == 302 and location.startswith("/login?next=")
            if not ok:
                wrong.append((method, url, response.status_code))
    assert wrong == []


def test_the_start_page_sends_anonymous_visitors_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_policies_say(app, make, role):
    user = make.user(role)
    client = app.test_client()
    api_login(client, user)
    wrong = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        for rule, policy in rules(app, method):
            if policy.public:
                continue
            allowed = not policy.roles or role in policy.roles
            if method != "GET" and allowed:
                continue  # allowed changes are the feature tests' business
            url = sample_url(rule)
            response = call(client, method, url)
            status = response.status_code
            if allowed:
                ok = status != 403 and status < 500
                if rule.rule.startswith("/admin") and not rule.arguments:
                    ok = status == 200
            else:
                ok = status == 403
            if url.startswith("/api/") and response.mimetype != "application/json":
                ok = False
            if not ok:
                wrong.append((method, url, status))
    assert wrong == []
    assert client.get("/api/v1/me").status_code == 200  # the walk did not log us out


@pytest.mark.parametrize("role", [r for r in ROLES if r != Role.ADMIN])
def test_only_admins_reach_admin_pages(app, make, role):
    user = make.user(role)
    client = app.test_client()
    api_login(client, user)
    admin_rules = [rule for rule, _ in rules(app, "GET") if rule.rule.startswith("/admin")]
    assert len(admin_rules) >= 4
    for rule in admin_rules:
        assert client.get(sample_url(rule)).status_code == 403, rule.rule


def test_a_view_without_a_policy_is_refused_to_everyone(make_app):
    built = make_app()

    def forgotten() -> str:
        return "secret"

    @allow(Role.ADMIN)
    def admins_only() -> str:
        return "admins"

    @public
    def open_page() -> str:
        return "open"

    built.add_url_rule("/test-only/forgotten", "forgotten", forgotten)
    built.add_url_rule("/test-only/admins", "admins_only", admins_only)
    built.add_url_rule("/test-only/open", "open_page", open_page)
    admin = Factory(built).user(Role.ADMIN)

    anonymous = built.test_client()
    assert anonymous.get("/test-only/forgotten").status_code == 403
    assert anonymous.get("/test-only/open").status_code == 200
    logged_in = built.test_client()
    api_login(logged_in, admin)
    assert logged_in.get("/test-only/forgotten").status_code == 403
    assert logged_in.get("/test-only/admins").get_data(as_text=True) == "admins"
