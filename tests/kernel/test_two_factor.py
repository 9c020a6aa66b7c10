"""Two-factor: forced enrolment for handlers and admins, and codes that work only once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy import select

from tests.factories import Factory, api_login, csrf_token, form_login, form_token
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.roles import Role
from trygg.security import ENROLMENT_ENDPOINTS, policy_of

ENROL = "/account/two-factor"


def enrolment_secret(client) -> str:
    page = client.get(ENROL)
    assert page.status_code == 200
    match = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.get_data(as_text=True))
    assert match
    return match.group(1)


def code_for(secret: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(datetime.now(UTC)) + steps_ahead)


def wrong_code(secret: str) -> str:
    right = {code_for(secret, offset) for offset in (-1, 0, 1)}
    candidate = 0
    while f"{candidate:06d}" in right:
        candidate += 1
    return f"{candidate:06d}"


def protected_get_routes(app, role: str):
    """Every argument-free GET route the role may use, except the enrolment ones."""
    for rule in app.url_map.iter_rules():
        policy = policy_of(app, rule.endpoint)
        if "GET" not in (rule.methods or ()) or rule.arguments or policy is None:
            continue
        if policy.public or rule.endpoint in ENROLMENT_ENDPOINTS:
            continue
        if policy.roles and role not in policy.roles:
            continue
        yield rule.rule


@pytest.mark.parametrize("role", [Role.HANDLER, Role.ADMIN])
def test_unenrolled_user_is_sent_to_enrolment_from_every_page(app, make, client, role):
    user = make.user(role, totp=False)
    form_login(client, user)
    pages = [path for path in protected_get_routes(app, role) if not path.startswith("/api/")]
    pages.append("/")  # public, but where every login lands
    assert "/account" in pages
    for path in pages:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == ENROL, path
    assert client.get(ENROL).status_code == 200


def test_unenrolled_handler_gets_403_json_from_the_api(app, make, client):
    user = make.user(Role.HANDLER, totp=False)
    api_login(client, user)
    api_routes = [
        path for path in protected_get_routes(app, Role.HANDLER) if path.startswith("/api/")
    ]
    assert "/api/v1/units" in api_routes
    for path in api_routes:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "otp" in response.get_json()["errors"]
    assert client.get("/api/v1/me").get_json()["two_factor_enabled"] is False


def test_enrolment_needs_the_right_code(app, make, client):
    user = make.user(Role.HANDLER, totp=False)
    form_login(client, user)
    secret = enrolment_secret(client)
    assert enrolment_secret(client) == secret  # reloading shows the same pending key

    refused = client.post(
        ENROL, data={"csrf_token": form_token(client, ENROL), "otp": wrong_code(secret)}
    )
    assert refused.status_code == 400
    assert 'id="e-otp"' in refused.get_data(as_text=True)
    assert client.get("/account").headers["Location"] == ENROL

    accepted = client.post(
        ENROL, data={"csrf_token": form_token(client, ENROL), "otp": code_for(secret)}
    )
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/account?enrolled=1"
    assert client.get("/account").status_code == 200
    assert client.get("/api/v1/units").status_code == 200
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.totp_enabled
        assert secret.encode() not in stored.totp_secret  # sealed, not stored in clear
        assert stored.totp_pending is None


def test_the_enrolment_code_cannot_be_used_again_to_log_in(app, make, client):
    user = make.user(Role.HANDLER, totp=False)
    form_login(client, user)
    secret = enrolment_secret(client)
    used = code_for(secret)
    client.post(ENROL, data={"csrf_token": form_token(client, ENROL), "otp": used})
    client.post("/logout", data={"csrf_token": form_token(client, "/account")})

    again = app.test_client()
    step_one = again.post(
        "/login",
        data={
            "csrf_token": form_token(again, "/login"),
            "email": user.email,
            "password": user.password,
        },
    )
    assert step_one.headers["Location"].startswith("/login/code")
    replay = again.post(
        "/login/code", data={"csrf_token": form_token(again, "/login/code"), "otp": used}
    )
    assert replay.status_code == 401
    assert again.get("/api/v1/me").status_code == 401
    fresh = again.post(
        "/login/code",
        data={"csrf_token": form_token(again, "/login/code"), "otp": code_for(secret, 1)},
    )
    assert fresh.status_code == 302
    assert again.get("/api/v1/me").status_code == 200


def test_a_code_logs_in_only_once(app, make):
    user = make.user(Role.HANDLER)
    first = app.test_client()
    api_login(first, user)
    with app.app_context():
        used_step = db.session.scalar(select(User.totp_last_step).where(User.id == user.id))
    used = pyotp.TOTP(user.totp_secret).generate_otp(used_step)
    second = app.test_client()
    response = second.post(
        "/api/v1/session",
        json={"email": user.email, "password": user.password, "otp": used},
        headers={"X-CSRFToken": csrf_token(second)},
    )
    assert response.status_code == 401
    assert second.get("/api/v1/me").status_code == 401


def test_api_login_asks_for_the_code(client, make):
    user = make.user(Role.HANDLER)
    response = client.post(
        "/api/v1/session",
        json={"email": user.email, "password": user.password},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 401
    assert "otp" in response.get_json()["errors"]
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_codes_count_towards_the_throttle(client, make):
    user = make.user(Role.HANDLER)
    for _ in range(5):
        response = client.post(
            "/api/v1/session",
            json={"email": user.email, "password": user.password, "otp": "000000"},
            headers={"X-CSRFToken": csrf_token(client)},
        )
        assert response.status_code in (401, 429)
    response = client.post(
        "/api/v1/session",
        json={"email": user.email, "password": user.password, "otp": user.otp()},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 429


def test_employees_are_not_forced_to_enrol(client, make):
    user = make.user(Role.EMPLOYEE)
    form_login(client, user)
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("role", "page"), [(Role.HANDLER, "/access-changes"), (Role.ADMIN, "/admin/")]
)
def test_no_roles_forced_when_the_setting_is_empty(make_app, role, page):
    relaxed = make_app(two_factor_roles=[])
    user = Factory(relaxed).user(role)
    assert user.totp_secret is None
    client = relaxed.test_client()
    form_login(client, user)
    assert client.get("/account").status_code == 200
    assert client.get(page).status_code == 200
    assert client.get("/api/v1/units").status_code == 200


def test_admin_reset_makes_the_user_enrol_again(app, make, inbox):
    admin = make.user(Role.ADMIN)
    handler = make.user(Role.HANDLER)
    admin_client, handler_client = app.test_client(), app.test_client()
    form_login(admin_client, admin)
    form_login(handler_client, handler)
    response = admin_client.post(
        f"/admin/users/{handler.id}/reset-two-factor",
        data={"csrf_token": form_token(admin_client, f"/admin/users/{handler.id}")},
    )
    assert response.status_code == 200  # the page says the code went by e-mail
    assert handler_client.get("/api/v1/me").status_code == 401  # its session ended
    # A handler's reset is a full one: a new password, by the code at their own address.
    code = inbox.code(handler.email)
    handler_client.post(
        "/account/set-password",
        data={
            "csrf_token": form_token(handler_client, "/account/set-password"),
            "email": handler.email,
            "code": code,
            "new_password": "a brand new passphrase",
        },
    )
    handler.totp_secret, handler.password = None, "a brand new passphrase"
    form_login(handler_client, handler)
    assert handler_client.get("/account").headers["Location"] == ENROL
