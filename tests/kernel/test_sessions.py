"""Sessions end on password change, "log out everywhere", deactivation and timeouts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import Factory, api_login, csrf_token, form_login, form_token
from trygg.roles import Role

NEW_PASSWORD = "another long passphrase"


def logged_in(client) -> bool:
    return client.get("/api/v1/me").status_code == 200


@pytest.fixture
def two_browsers(app, make):
    """One employee, logged in from two browsers."""
    user = make.user(Role.EMPLOYEE)
    first, second = app.test_client(), app.test_client()
    api_login(first, user)
    form_login(second, user)
    assert logged_in(first)
    assert logged_in(second)
    return user, first, second


def test_password_set_by_an_operator_ends_every_session(two_browsers, runner):
    user, first, second = two_browsers
    result = runner.invoke(
        args=["users", "set-password", user.email, "--password-stdin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert first.get("/api/v1/me").status_code == 401
    assert second.get("/account").status_code == 302


def test_changing_ones_own_password_ends_the_other_sessions_only(two_browsers):
    user, first, second = two_browsers
    response = second.post(
        "/account/password",
        data={
            "csrf_token": form_token(second, "/account"),
            "current_password": user.password,
            "new_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert not logged_in(first)
    assert logged_in(second)


def test_log_out_everywhere_ends_every_session(two_browsers):
    _user, first, second = two_browsers
    response = second.post(
        "/account/logout-everywhere", data={"csrf_token": form_token(second, "/account")}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert first.get("/api/v1/me").status_code == 401
    assert second.get("/api/v1/me").status_code == 401


def test_an_old_session_cookie_does_not_come_back_after_log_out_everywhere(app, make):
    user = make.user(Role.EMPLOYEE)
    client = app.test_client()
    api_login(client, user)
    stolen = client.get_cookie("trygg_session").value
    client.post("/account/logout-everywhere", data={"csrf_token": form_token(client, "/account")})
    replay = app.test_client()
    replay.set_cookie("trygg_session", stolen)
    assert replay.get("/api/v1/me").status_code == 401


def test_logging_out_ends_only_this_session(two_browsers):
    _user, first, second = two_browsers
    response = first.delete("/api/v1/session", headers={"X-CSRFToken": csrf_token(first)})
    assert response.status_code == 200
    assert not logged_in(first)
    assert logged_in(second)


def test_deactivated_user_is_logged_out_and_cannot_log_in(two_browsers, runner, app):
    user, first, second = two_browsers
    result = runner.invoke(args=["users", "deactivate", user.email])
    assert result.exit_code == 0, result.output
    assert not logged_in(first)
    assert not logged_in(second)
    fresh = app.test_client()
    response = fresh.post(
        "/api/v1/session",
        json={"email": user.email, "password": user.password},
        headers={"X-CSRFToken": csrf_token(fresh)},
    )
    assert response.status_code == 401


def shift(client, **minutes: float) -> None:
    """Move the session's login and last-seen stamps into the past."""
    with client.session_transaction() as session:
        for key, value in minutes.items():
            session[key] = session[key] - value * 60


@pytest.fixture
def browser(app, make):
    user = make.user(Role.EMPLOYEE, name="Kari Nordmann")
    client = app.test_client()
    form_login(client, user)
    return client


def test_session_survives_activity_within_the_idle_limit(browser):
    for _ in range(3):
        shift(browser, seen_at=29)
        assert logged_in(browser)
    with browser.session_transaction() as session:
        assert datetime.now(UTC).timestamp() - session["seen_at"] < 60


def test_idle_session_ends(browser):
    shift(browser, seen_at=31)
    assert browser.get("/api/v1/me").status_code == 401
    # and stays ended once the clock is no longer the reason
    assert browser.get("/api/v1/me").status_code == 401


def test_idle_session_sends_the_page_to_login(browser):
    shift(browser, seen_at=31)
    response = browser.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"


def test_idle_session_no_longer_shows_the_user_on_public_pages(browser):
    assert "Kari Nordmann" in browser.get("/").get_data(as_text=True)
    shift(browser, seen_at=31)
    response = browser.get("/")
    assert "Kari Nordmann" not in response.get_data(as_text=True)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_idle_limit_follows_the_setting(make_app):
    quick = make_app(session_idle_minutes=5)
    user = Factory(quick).user(Role.EMPLOYEE)
    client = quick.test_client()
    api_login(client, user)
    shift(client, seen_at=4)
    assert logged_in(client)
    shift(client, seen_at=6)
    assert not logged_in(client)


def test_session_ends_after_its_absolute_lifetime_despite_activity(browser):
    shift(browser, login_at=11 * 60 + 59)
    assert logged_in(browser)
    shift(browser, login_at=2)
    assert not logged_in(browser)


def test_session_without_stamps_is_not_accepted(browser):
    with browser.session_transaction() as session:
        del session["login_at"]
    assert not logged_in(browser)


# -- cost ---------------------------------------------------------------------------------


@pytest.fixture
def statements(app):
    """The SELECT statements the app runs, as they run."""
    from sqlalchemy import event

    from trygg.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_request_loads_its_user_roles_and_units_in_one_statement(app, make, statements):
    unit = make.unit()
    user = make.user(Role.EMPLOYEE, units=(unit,))
    client = app.test_client()
    api_login(client, user)
    statements.clear()
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.get_json()["roles"] == [Role.EMPLOYEE]
    assert [u["id"] for u in response.get_json()["units"]] == [unit.id]
    assert len(statements) == 1


# -- ended on the server ------------------------------------------------------------------


def _replay(app, cookie: str):
    """A new browser carrying a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie("trygg_session", cookie)
    return thief


def test_a_cookie_copied_before_logging_out_of_the_api_no_longer_works(app, make):
    user = make.user(Role.EMPLOYEE)
    client = app.test_client()
    api_login(client, user)
    copied = client.get_cookie("trygg_session").value
    assert _replay(app, copied).get("/api/v1/me").status_code == 200
    client.delete("/api/v1/session", headers={"X-CSRFToken": csrf_token(client)})
    assert _replay(app, copied).get("/api/v1/me").status_code == 401


def test_a_cookie_copied_before_logging_out_of_the_pages_no_longer_works(app, make):
    user = make.user(Role.HANDLER)
    client = app.test_client()
    form_login(client, user)
    copied = client.get_cookie("trygg_session").value
    assert _replay(app, copied).get("/account").status_code == 200
    response = client.post("/logout", data={"csrf_token": form_token(client, "/account")})
    assert response.status_code == 302
    replayed = _replay(app, copied).get("/account")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/login")


def test_logging_out_ends_the_session_that_logs_out_and_no_other(two_browsers, app):
    _user, first, second = two_browsers
    copied = second.get_cookie("trygg_session").value
    first.delete("/api/v1/session", headers={"X-CSRFToken": csrf_token(first)})
    assert _replay(app, copied).get("/api/v1/me").status_code == 200
