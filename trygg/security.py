"""Route policies, session lifetime and security headers.

Every view states who may use it, with `@public` or `@allow(...)`. A request to a view
without a policy is refused (fail closed), and tests walk `app.url_map` to prove that no
route lacks one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from trygg.accounts.models import User
from trygg.accounts.service import sessions, two_factor_required
from trygg.i18n import gettext as _

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints a logged-in user who must still enrol two-factor may reach.
ENROLMENT_ENDPOINTS = {
    "accounts.enrol_two_factor",
    "accounts.logout",
    "web.set_language",
    "api_accounts.logout",
    "api_accounts.me",
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Policy:
    """Who may use a view: anyone, any logged-in user, or holders of given roles."""

    public: bool = False
    roles: frozenset[str] = frozenset()

    def describe(self) -> str:
        if self.public:
            return "public"
        return "any logged-in user" if not self.roles else ", ".join(sorted(self.roles))


def public(view: F) -> F:
    """Anyone may use this view, logged in or not."""
    view._trygg_policy = Policy(public=True)  # type: ignore[attr-defined]
    return view


def allow(*roles: str) -> Callable[[F], F]:
    """Only logged-in users holding one of `roles` (any logged-in user if none given)."""

    def decorate(view: F) -> F:
        view._trygg_policy = Policy(roles=frozenset(roles))  # type: ignore[attr-defined]
        return view

    return decorate


def policy_of(app: Flask, endpoint: str) -> Policy | None:
    """The declared policy of an endpoint; static files are public."""
    if _is_static(endpoint):
        return _STATIC_POLICY
    view = app.view_functions.get(endpoint)
    return getattr(view, "_trygg_policy", None)


_STATIC_POLICY = Policy(public=True)


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def _endpoint_policy(app: Flask, endpoint: str) -> tuple[Policy | None, bool]:
    """policy_of() and whether the endpoint serves static files, looked up once per app.

    Flask refuses new routes once the app has handled a request, so an endpoint's view,
    and with it its policy, never changes after the first look-up.
    """
    cache: dict[str, tuple[Policy | None, bool]] = app.extensions["trygg.policies"]
    try:
        return cache[endpoint]
    except KeyError:
        entry = cache[endpoint] = (policy_of(app, endpoint), _is_static(endpoint))
        return entry


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _deny_unauthenticated() -> Response:
    if wants_json():
        response = jsonify({"errors": {"_request": [_("Log in first.")]}})
        response.status_code = 401
        return response
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]


def enforce_policy() -> Response | None:
    """before_request: apply the view's policy, timeouts and two-factor enrolment."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route: the 404 handler answers
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001
    policy, static = _endpoint_policy(app, endpoint)
    if policy is None:
        app.logger.error("route %s has no access policy; refused", endpoint)
        abort(403)
    if static:
        return None  # static files are public; no session or user to check
    # The user behind the proxy, loaded once (each attribute read through current_user
    # would look it up again).
    user = current_user._get_current_object()  # noqa: SLF001
    # Expiry is checked on public pages too: the start page greets a logged-in user by
    # name, and must not do so for a session that has timed out.
    expired = user.is_authenticated and _session_expired(app)
    if policy.public:
        return None
    if expired or not user.is_authenticated:
        return _deny_unauthenticated()
    if policy.roles and not user.has_role(*policy.roles):
        abort(403)
    if endpoint not in ENROLMENT_ENDPOINTS and not user.totp_enabled and two_factor_required(user):
        if wants_json():
            response = jsonify(
                {"errors": {"otp": [_("Set up two-factor authentication on the website first.")]}}
            )
            response.status_code = 403
            return response
        return redirect(url_for("accounts.enrol_two_factor"))  # type: ignore[return-value]
    return None


# The session key that marks a language chosen before logging in (trygg/web.py): the
# login keeps it on the account.
LANG_CHOSEN = "lang_chosen"

# The session cookie's key for the token of the server's record of the session.
SESSION_TOKEN = "sid"  # noqa: S105 - a session key's name, not a secret


def fresh_session() -> None:
    """Start a new cookie session, keeping only the chosen language.

    Someone who switched to English on the login page should not be switched back (and
    the choice is still theirs to keep on the account when the login completes, after
    a second step).
    """
    lang = session.get("lang")
    chosen = session.get(LANG_CHOSEN)
    session.clear()
    if lang:
        session["lang"] = lang
        if chosen:
            session[LANG_CHOSEN] = True


def log_in(user: User) -> None:
    """Log `user` in in this browser: a fresh session, stamped for the idle and absolute
    limits, recorded on the server (accounts.service.sessions) so logging out ends it.

    A language chosen before logging in is kept on the account; otherwise the account's
    language (if it has one) becomes this browser's."""
    chosen = session.get("lang") if session.get(LANG_CHOSEN) else None
    fresh_session()
    session.pop(LANG_CHOSEN, None)
    if chosen:
        user.locale = chosen
    elif user.locale:
        session["lang"] = user.locale
    login_user(user)
    now = datetime.now(UTC).timestamp()
    session["login_at"] = now
    session["seen_at"] = now
    session[SESSION_TOKEN] = sessions.begin(user)
    session.permanent = False


def log_out() -> None:
    """End this browser's session, on the server too: a copy of its cookie stops working."""
    sessions.end(session.get(SESSION_TOKEN))
    logout_user()
    fresh_session()


def session_token() -> str | None:
    """The token of this browser's session (for the user loader)."""
    token = session.get(SESSION_TOKEN)
    return token if isinstance(token, str) else None


# Activity is stamped at most this often: re-signing the session cookie on every
# request costs more than a 15-second coarser idle timeout is worth.
SEEN_AT_STEP = 15


def _session_expired(app: Flask) -> bool:
    """End the session after idle time or its absolute lifetime."""
    cfg = app.config["TRYGG"]
    now = datetime.now(UTC).timestamp()
    login_at = session.get("login_at")
    seen_at = session.get("seen_at")
    idle = cfg["session_idle_minutes"] * 60
    lifetime = cfg["session_lifetime_hours"] * 3600
    if login_at is None or seen_at is None or now - seen_at > idle or now - login_at > lifetime:
        logout_user()
        session.clear()
        return True
    if now - seen_at >= SEEN_AT_STEP:
        session["seen_at"] = now
    return False


# Added to every response that does not set them itself, in this order.
DEFAULT_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def set_security_headers(response: Response) -> Response:
    """after_request: the headers every response carries.

    Each header in DEFAULT_HEADERS is added unless the response has it already (like
    Headers.setdefault, but with one pass over the response's headers instead of one
    per default); pages are not cached; HSTS when cookies are secure.
    """
    headers = response.headers
    present = {key.lower() for key, _value in headers}
    for key, value in DEFAULT_HEADERS:
        if key.lower() not in present:
            headers.add(key, value)
    if not _is_static(request.endpoint):
        if "cache-control" in present:
            headers["Cache-Control"] = "no-store"  # replaces the view's own value
        else:
            headers.add("Cache-Control", "no-store")
    secure = current_app.config.get("SESSION_COOKIE_SECURE")
    if secure and "strict-transport-security" not in present:
        headers.add(*HSTS)
    return response


def init_app(app: Flask) -> None:
    """Install the policy check and the security headers."""
    app.extensions["trygg.policies"] = {}
    app.before_request(enforce_policy)
    app.after_request(set_security_headers)
