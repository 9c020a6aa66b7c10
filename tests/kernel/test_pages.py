"""Pages: security headers, cookies, languages, error pages and the health check."""

from __future__ import annotations

import pytest

from tests.factories import csrf_token
from trygg.crypto import CryptoError
from trygg.security import CSP, public


def html_lang(response) -> str:
    text = response.get_data(as_text=True)
    start = text.index('<html lang="') + len('<html lang="')
    return text[start : text.index('"', start)]


REQUESTS = [
    ("GET", "/login"),
    ("GET", "/"),
    ("GET", "/account"),
    ("GET", "/no-such-page"),
    ("GET", "/static/css/app.css"),
    ("GET", "/healthz"),
    ("GET", "/api/v1/csrf"),
    ("GET", "/api/v1/me"),
    ("POST", "/login"),
]


@pytest.mark.parametrize(("method", "path"), REQUESTS)
def test_every_response_carries_the_security_headers(client, method, path):
    response = client.open(path, method=method)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "default-src 'self'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers


def test_pages_are_not_cached_but_static_files_may_be(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/csrf").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def session_cookie_header(client) -> str:
    response = client.get("/login")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("trygg_session=")]
    assert len(cookies) == 1
    return cookies[0]


def test_session_cookie_is_http_only_and_same_site_lax(client):
    flags = [part.strip().lower() for part in session_cookie_header(client).split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags
    assert not any(flag.startswith(("expires", "max-age")) for flag in flags)  # a browser session


@pytest.mark.parametrize(
    "overrides",
    [{"secure_cookies": True}, {"env": "production", "base_url": "https://trygg.example.org"}],
)
def test_cookie_is_secure_when_configured_or_in_production(make_app, overrides):
    built = make_app(**overrides)
    client = built.test_client()
    flags = [part.strip().lower() for part in session_cookie_header(client).split(";")]
    assert "secure" in flags
    assert "httponly" in flags
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


# -- languages --------------------------------------------------------------------------


def test_not_found_page_is_norwegian_by_default(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert html_lang(response) == "nb"
    assert "Fant ikke siden" in response.get_data(as_text=True)


@pytest.mark.parametrize("accept", ["en", "en-GB,en;q=0.9", "nb-NO", "sv-SE", "de, en;q=0.5"])
def test_the_browser_language_does_not_choose_the_page_language(client, make_app, accept):
    """A page is in the installation's default_locale until the user picks a language:
    a shared computer set to English does not decide for the employer."""
    response = client.get("/no-such-page", headers={"Accept-Language": accept})
    assert response.status_code == 404
    assert html_lang(response) == "nb"
    assert "Fant ikke siden" in response.get_data(as_text=True)
    english = make_app(default_locale="en").test_client()
    assert html_lang(english.get("/login", headers={"Accept-Language": accept})) == "en"


def test_chosen_language_sticks_and_beats_the_browser(client):
    switched = client.post(
        "/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/login"}
    )
    assert switched.status_code == 302
    assert switched.headers["Location"] == "/login"
    response = client.get("/no-such-page", headers={"Accept-Language": "nb"})
    assert html_lang(response) == "en"
    assert "Page not found" in response.get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "nb"})
    assert html_lang(client.get("/login")) == "nb"


def test_switching_language_on_a_form_sent_back_returns_to_its_page(client):
    """A form sent back with errors (a 400 to its POST) is shown at the form's address,
    which takes only posts: the switch went there and got a 405. It goes to the page
    the form is on, the nearest address above it that is a page; a page with its query
    stays as it is; an address that is no page at all goes home."""

    def switch(target: str) -> str:
        token = csrf_token(client)
        answer = client.post("/language", data={"csrf_token": token, "lang": "en", "next": target})
        assert answer.status_code == 302
        return answer.headers["Location"]

    assert switch("/account/password") == "/account"
    assert client.get("/account/password").status_code == 405  # why it cannot go there
    assert switch("/login?next=%2Faccount") == "/login?next=%2Faccount"
    assert switch("/no/such/page") == "/"


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "xx"})
    assert html_lang(client.get("/login")) == "nb"


def test_english_default_locale_setting(make_app):
    built = make_app(default_locale="en")
    assert html_lang(built.test_client().get("/login")) == "en"


# -- error pages ------------------------------------------------------------------------


@pytest.fixture
def failing_app(make_app):
    """An app with routes that fail, as a bug or corrupt data would."""
    built = make_app()
    built.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production

    @public
    def boom() -> str:
        raise RuntimeError("internal detail: password=hunter2")

    @public
    def corrupt() -> str:
        raise CryptoError("sealed report.narrative of row 5 failed authentication")

    built.add_url_rule("/test-only/boom", "boom", boom)
    built.add_url_rule("/test-only/corrupt", "corrupt", corrupt)
    built.add_url_rule("/api/v1/test-only/boom", "api_boom", boom)
    return built


@pytest.mark.parametrize("path", ["/test-only/boom", "/test-only/corrupt"])
def test_server_error_page_reveals_nothing(failing_app, path):
    response = failing_app.test_client().get(path)
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Noe gikk galt" in text
    for leak in ("Traceback", "RuntimeError", "hunter2", "internal detail", "narrative", "row 5"):
        assert leak not in text
    assert response.headers["Content-Security-Policy"]


def test_server_error_on_the_api_is_json(failing_app):
    response = failing_app.test_client().get("/api/v1/test-only/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert "hunter2" not in response.get_data(as_text=True)
    assert list(response.get_json()["errors"]) == ["_request"]


@pytest.mark.parametrize(
    ("overrides", "content_type"),
    [
        # Werkzeug applies the form memory limit to multipart text fields only.
        ({"max_form_memory_size": 1_000}, "multipart/form-data"),
        ({"max_content_length": 1_000}, "application/x-www-form-urlencoded"),
    ],
)
def test_too_large_form_gets_an_error_page(make_app, overrides, content_type):
    built = make_app(**overrides)
    client = built.test_client()
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": "x" * 5_000, "password": "x"},
        content_type=content_type,
    )
    assert response.status_code == 413
    assert html_lang(response) == "nb"
    assert "Feilkode: 413" in response.get_data(as_text=True)


# -- health -----------------------------------------------------------------------------


def test_health_check_answers_503_without_a_usable_key(make_app):
    built = make_app()
    built.extensions["trygg.keyring"].keys.clear()
    response = built.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert {k: body[k] for k in ("db", "keyring")} == {"db": "ok", "keyring": "unavailable"}


# -- header rules -------------------------------------------------------------------------


@pytest.fixture
def header_app(make_app):
    """An app with routes that set some security headers themselves."""
    built = make_app()

    @public
    def own_headers():
        return (
            "x",
            200,
            {
                "Content-Security-Policy": "sandbox",
                "x-frame-options": "SAMEORIGIN",
                "Cache-Control": "public, max-age=60",
            },
        )

    @public
    def twice_cached():
        response = built.make_response("x")
        response.headers.add("Cache-Control", "max-age=1")
        response.headers.add("X-Other", "kept")
        response.headers.add("Cache-Control", "max-age=2")
        return response

    built.add_url_rule("/test-only/own-headers", "own_headers", own_headers)
    built.add_url_rule("/test-only/twice-cached", "twice_cached", twice_cached)
    return built


SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
]


def test_headers_a_view_sets_are_kept_except_cache_control(header_app):
    response = header_app.test_client().get("/test-only/own-headers")
    names = [key for key, _value in response.headers]
    # Each header once: a view's own value is kept (case-insensitively), no default added.
    assert len(names) == len({name.lower() for name in names})
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    # Pages are never cached, whatever the view said; the header keeps its place.
    assert response.headers["Cache-Control"] == "no-store"
    assert names.index("Cache-Control") < names.index("X-Content-Type-Options")
    # The defaults the view did not set follow, in their fixed order.
    added = [(k, v) for k, v in response.headers if k in dict(SECURITY_HEADERS)]
    assert added == SECURITY_HEADERS


def test_cache_control_given_twice_is_replaced_by_one(header_app):
    response = header_app.test_client().get("/test-only/twice-cached")
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    assert response.headers["X-Other"] == "kept"


def test_the_security_headers_and_their_order(client):
    response = client.get("/api/v1/csrf")
    assert [
        (k, v)
        for k, v in response.headers
        if k not in {"Content-Type", "Content-Length", "Vary", "Set-Cookie"}
    ] == [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        *SECURITY_HEADERS[2:],
        ("Cache-Control", "no-store"),
    ]
