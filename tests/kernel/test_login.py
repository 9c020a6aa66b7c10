"""Logging in: throttling, safe redirects, CSRF and password limits."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import update

from tests.factories import Factory, csrf_token, form_login, form_token
from trygg.accounts.models import LoginFailure
from trygg.extensions import db, utcnow
from trygg.roles import Role

WRONG = "not the right passphrase"


def api_attempt(client, email: str, password: str, **extra):
    return client.post(
        "/api/v1/session",
        json={"email": email, "password": password, **extra},
        headers={"X-CSRFToken": csrf_token(client)},
    )


def form_attempt(client, email: str, password: str, next_target: str | None = None):
    path = "/login" if next_target is None else "/login?next=" + quote(next_target, safe="")
    return client.post(
        path,
        data={"csrf_token": form_token(client, "/login"), "email": email, "password": password},
    )


# -- throttling -------------------------------------------------------------------------


def test_api_refuses_the_sixth_attempt_with_retry_after(client, make):
    user = make.user(Role.EMPLOYEE)
    for _ in range(5):
        assert api_attempt(client, user.email, WRONG).status_code == 401
    throttled = api_attempt(client, user.email, WRONG)
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60 + 1
    assert "_request" in throttled.get_json()["errors"]


def test_the_right_password_is_refused_too_while_throttled(client, make):
    user = make.user(Role.EMPLOYEE)
    for _ in range(5):
        api_attempt(client, user.email, WRONG)
    assert api_attempt(client, user.email, user.password).status_code == 429
    assert form_attempt(client, user.email, user.password).status_code == 429
    assert client.get("/api/v1/me").status_code == 401


def test_form_shows_a_429_page_when_throttled(client, make):
    user = make.user(Role.EMPLOYEE)
    for _ in range(5):
        response = form_attempt(client, user.email, WRONG)
        assert response.status_code == 401
        assert 'id="login-error"' in response.get_data(as_text=True)
    throttled = form_attempt(client, user.email, user.password)
    assert throttled.status_code == 429
    page = throttled.get_data(as_text=True)
    assert 'id="login-error"' in page
    assert "Vent 15 minutter" in page


def test_throttling_is_per_account(client, make):
    victim = make.user(Role.EMPLOYEE)
    other = make.user(Role.EMPLOYEE)
    for _ in range(5):
        api_attempt(client, victim.email, WRONG)
    assert api_attempt(client, victim.email, victim.password).status_code == 429
    assert api_attempt(client, other.email, other.password).status_code == 200
    assert client.get("/api/v1/me").get_json()["email"] == other.email


def test_throttle_counts_the_address_however_it_is_typed(client, make):
    user = make.user(Role.EMPLOYEE, email="kari@example.org")
    for typed in ["kari@example.org", "KARI@example.org", " Kari@Example.org ", "kari@EXAMPLE.ORG"]:
        api_attempt(client, typed, WRONG)
    api_attempt(client, "kari@example.org", WRONG)
    assert api_attempt(client, user.email, user.password).status_code == 429


def test_unknown_accounts_are_throttled_like_real_ones(client):
    for _ in range(5):
        assert api_attempt(client, "nobody@example.org", WRONG).status_code == 401
    assert api_attempt(client, "nobody@example.org", WRONG).status_code == 429


def test_failures_older_than_the_window_no_longer_count(app, client, make):
    user = make.user(Role.EMPLOYEE)
    for _ in range(5):
        api_attempt(client, user.email, WRONG)
    with app.app_context():
        db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    assert api_attempt(client, user.email, user.password).status_code == 200


def test_a_successful_login_clears_the_counter(client, make):
    user = make.user(Role.EMPLOYEE)
    for _ in range(4):
        api_attempt(client, user.email, WRONG)
    assert api_attempt(client, user.email, user.password).status_code == 200
    for _ in range(4):
        assert api_attempt(client, user.email, WRONG).status_code == 401
    assert api_attempt(client, user.email, user.password).status_code == 200


def test_the_limit_holds_across_app_objects_sharing_a_database(make_app, scratch_database):
    first = make_app(database_url=scratch_database)
    second = make_app(database_url=scratch_database)
    user = Factory(first).user(Role.EMPLOYEE)
    for app in (first, second, first, second, first):
        assert api_attempt(app.test_client(), user.email, WRONG).status_code == 401
    for app in (first, second):
        assert api_attempt(app.test_client(), user.email, user.password).status_code == 429


def test_limit_follows_the_settings(make_app):
    strict = make_app(login_max_failures=2)
    user = Factory(strict).user(Role.EMPLOYEE)
    client = strict.test_client()
    for _ in range(2):
        assert api_attempt(client, user.email, WRONG).status_code == 401
    assert api_attempt(client, user.email, user.password).status_code == 429


# -- messages and limits ----------------------------------------------------------------


def test_wrong_password_unknown_account_and_deactivated_user_look_the_same(client, make):
    user = make.user(Role.EMPLOYEE)
    gone = make.user(Role.EMPLOYEE, active=False)
    answers = [
        api_attempt(client, user.email, WRONG),
        api_attempt(client, "nobody@example.org", WRONG),
        api_attempt(client, gone.email, gone.password),
    ]
    assert {r.status_code for r in answers} == {401}
    assert answers[0].get_json() == answers[1].get_json() == answers[2].get_json()


def test_login_api_rejects_unknown_fields(client, make):
    user = make.user(Role.EMPLOYEE)
    response = api_attempt(client, user.email, user.password, remember_me=True)
    assert response.status_code == 400
    assert "remember_me" in response.get_json()["errors"]
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.org"}, "password"),
        ({"password": "x"}, "email"),
        ({"email": "a@example.org", "password": "x" * 1025}, "password"),
        ({"email": "a@example.org", "password": 12345}, "password"),
    ],
)
def test_login_api_names_the_wrong_field(client, body, field):
    response = client.post(
        "/api/v1/session", json=body, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert response.status_code == 400
    assert field in response.get_json()["errors"]


def test_over_long_password_is_refused_without_logging_in(client, make):
    user = make.user(Role.EMPLOYEE)
    response = api_attempt(client, user.email, user.password + "x" * 300)
    assert response.status_code == 401
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("x" * 11, False),
        ("x" * 12, True),
        ("x" * 256, True),
        ("x" * 257, False),
        (" " * 12, False),
        ("\t" * 8 + " " * 8, False),
    ],
)
def test_password_length_limits_when_changing_it(client, make, password, ok):
    user = make.user(Role.EMPLOYEE)
    form_login(client, user)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": form_token(client, "/account"),
            "current_password": user.password,
            "new_password": password,
        },
    )
    if ok:
        assert response.status_code == 302
        assert (
            api_attempt(client.application.test_client(), user.email, password).status_code == 200
        )
    else:
        assert response.status_code == 400
        assert 'id="e-new_password"' in response.get_data(as_text=True)
        fresh = client.application.test_client()
        assert api_attempt(fresh, user.email, user.password).status_code == 200


def test_changing_password_needs_the_current_one(client, make):
    user = make.user(Role.EMPLOYEE)
    form_login(client, user)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": form_token(client, "/account"),
            "current_password": WRONG,
            "new_password": "a completely new passphrase",
        },
    )
    assert response.status_code == 400
    assert 'id="e-current_password"' in response.get_data(as_text=True)
    fresh = client.application.test_client()
    assert api_attempt(fresh, user.email, user.password).status_code == 200


# -- where the login leads --------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/account", "/account"),
        ("/about/access?x=1", "/about/access?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
        ("", "/"),
    ],
)
def test_login_follows_only_same_site_next(client, make, target, lands_on):
    user = make.user(Role.EMPLOYEE)
    response = form_attempt(client, user.email, user.password, next_target=target)
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_two_factor_login_keeps_the_next_target(client, make):
    user = make.user(Role.HANDLER)
    first = form_attempt(client, user.email, user.password, next_target="/account")
    assert first.status_code == 302
    code_page = first.headers["Location"]
    assert code_page.startswith("/login/code")
    response = client.post(
        code_page, data={"csrf_token": form_token(client, code_page), "otp": user.otp()}
    )
    assert response.headers["Location"] == "/account"


def test_anonymous_visitor_is_sent_to_login_and_back(client, make):
    user = make.user(Role.EMPLOYEE)
    bounced = client.get("/account")
    assert bounced.status_code == 302
    assert bounced.headers["Location"] == "/login?next=/account"
    response = form_attempt(client, user.email, user.password, next_target="/account")
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/login", "/login#h-main"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
    ],
)
def test_language_switch_does_not_redirect_off_site(client, target, lands_on):
    """Another site's address goes to the start page, without the section of a page
    that is not the one it goes to."""
    response = client.post(
        "/language",
        data={"csrf_token": csrf_token(client), "lang": "en", "next": target}
        | {"fragment": "h-main"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


@pytest.mark.parametrize(
    ("fragment", "lands_on"),
    [
        ("h-messages", "/login?x=1#h-messages"),
        ("task_3", "/login?x=1#task_3"),
        ("", "/login?x=1"),
        ("#h-messages", "/login?x=1"),
        ("h-messages\r\nSet-Cookie: a=b", "/login?x=1"),
        ('"><script>alert(1)</script>', "/login?x=1"),
        ("h-messages/../../evil", "/login?x=1"),
        ("//evil.example", "/login?x=1"),
        ("a" * 65, "/login?x=1"),
        ("seksjon-ø", "/login?x=1"),
    ],
)
def test_language_switch_returns_to_the_section_and_only_to_an_id(client, fragment, lands_on):
    """The section the user was reading comes back after "#" when it is an element id;
    anything else is left out, so the address cannot carry text of its own."""
    response = client.post(
        "/language",
        data={"csrf_token": csrf_token(client), "lang": "en", "next": "/login?x=1"}
        | {"fragment": fragment},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_language_switch_replaces_a_fragment_sent_in_next(client):
    token = csrf_token(client)
    data = {"csrf_token": token, "lang": "en", "next": "/login#elsewhere"}
    assert client.post("/language", data=data).headers["Location"] == "/login"
    data["fragment"] = "h-form"
    assert client.post("/language", data=data).headers["Location"] == "/login#h-form"


# -- CSRF -------------------------------------------------------------------------------


def test_form_post_without_token_gets_the_friendly_page(client, make):
    user = make.user(Role.EMPLOYEE)
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert "Skjemaet er utløpt" in page
    assert client.get("/api/v1/me").status_code == 401


def test_api_post_without_token_gets_json(client, make):
    user = make.user(Role.EMPLOYEE)
    client.get("/api/v1/csrf")  # a session exists, but the header is missing
    response = client.post("/api/v1/session", json={"email": user.email, "password": user.password})
    assert response.status_code == 400
    assert response.is_json
    assert "csrf" in response.get_json()["errors"]
    assert client.get("/api/v1/me").status_code == 401


def test_api_post_with_a_token_from_another_session_is_refused(app, make):
    user = make.user(Role.EMPLOYEE)
    stolen = csrf_token(app.test_client())
    client = app.test_client()
    client.get("/api/v1/csrf")
    response = client.post(
        "/api/v1/session",
        json={"email": user.email, "password": user.password},
        headers={"X-CSRFToken": stolen},
    )
    assert response.status_code == 400
    assert "csrf" in response.get_json()["errors"]


def test_an_empty_set_password_form_says_each_field_is_required(client):
    """Not "Use from 1 to 254 characters.": the person has typed nothing yet."""
    token = form_token(client, "/account/set-password")
    empty = {"csrf_token": token, "email": "", "code": "", "new_password": ""}
    response = client.post("/account/set-password", data=empty)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field in ("email", "code", "new_password"):
        assert re.search(rf'id="e-{field}">\s*Du må fylle ut dette feltet\.', page), field
    assert "fra 1 til" not in page
