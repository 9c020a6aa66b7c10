"""Route policies, session lifetime and security headers.

Every view states who may use it, with `@public` or `@allow(...)`. A request to a view
without a policy is refused (fail closed), and tests walk `app.url_map` to prove that no
route lacks one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from trygg.accounts.service import two_factor_required

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
    if endpoint == "static" or endpoint.endswith(".static"):
        return Policy(public=True)
    view = app.view_functions.get(endpoint)
    return getattr(view, "_trygg_policy", None)


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
    policy = policy_of(current_app, endpoint)
    if policy is None:
        current_app.logger.error("route %s has no access policy; refused", endpoint)
        abort(403)
    static = endpoint == "static" or endpoint.endswith(".static")
    # Expiry is checked on public pages too: the start page greets a logged-in user by
    # name, and must not do so for a session that has timed out.
    expired = not static and current_user.is_authenticated and _session_expired()
    if policy.public:
        return None
    if expired or not current_user.is_authenticated:
        return _deny_unauthenticated()
    if policy.roles and not current_user.has_role(*policy.roles):
        abort(403)
    if (
        endpoint not in ENROLMENT_ENDPOINTS
        and not current_user.totp_enabled
        and two_factor_required(current_user)
    ):
        if wants_json():
            response = jsonify(
                {"errors": {"otp": [_("Set up two-factor authentication on the website first.")]}}
            )
            response.status_code = 403
            return response
        return redirect(url_for("accounts.enrol_two_factor"))  # type: ignore[return-value]
    return None


def start_session() -> None:
    """Call right after login_user(): stamp the session for idle and absolute limits."""
    now = datetime.now(UTC).timestamp()
    session["login_at"] = now
    session["seen_at"] = now
    session.permanent = False


# Activity is stamped at most this often: re-signing the session cookie on every
# request costs more than a 15-second coarser idle timeout is worth.
SEEN_AT_STEP = 15


def _session_expired() -> bool:
    """End the session after idle time or its absolute lifetime."""
    cfg = current_app.config["TRYGG"]
    now = datetime.now(UTC).timestamp()
    login_at = session.get("login_at")
    seen_at = session.get("seen_at")
    idle = timedelta(minutes=cfg["session_idle_minutes"]).total_seconds()
    lifetime = timedelta(hours=cfg["session_lifetime_hours"]).total_seconds()
    if login_at is None or seen_at is None or now - seen_at > idle or now - login_at > lifetime:
        logout_user()
        session.clear()
        return True
    if now - seen_at >= SEEN_AT_STEP:
        session["seen_at"] = now
    return False


def set_security_headers(response: Response) -> Response:
    """after_request: the headers every response carries."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static" and not (request.endpoint or "").endswith(".static"):
        headers["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    """Install the policy check and the security headers."""
    app.before_request(enforce_policy)
    app.after_request(set_security_headers)
