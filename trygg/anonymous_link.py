"""The anonymous whistleblower link's shared page mechanics (kernel).

The link spans two packages: reporting serves the form and the receipt page, handling
the follow-up (enter the receipt code, then the case and its messages), which reporting
knows nothing of. What both need — the addresses, the on/off switch, hiding every page
of the link while it is off, leaving no trace, English addresses, the page links and the
Retry-After header — lives here, so neither package imports the other's views.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, request, session, url_for
from flask_babel import refresh
from flask_login import current_user
from werkzeug.wrappers.response import Response

from trygg import privacy, site_settings
from trygg.api import ApiError
from trygg.i18n import gettext as _

# Every anonymous route lives under one of these; they leave no trace and all answer
# 404 when the link is off.
PREFIXES = ("/varsle", "/en/whistleblow", "/api/v1/anonymous")
# Where a reporter comes back with the receipt code (served by handling).
FOLLOW_UP_PATH = "/varsle/folg-opp"
FOLLOW_UP_PATH_EN = "/en/whistleblow/follow-up"


def enabled() -> bool:
    """Whether the anonymous link is open (the admin's choice, else the configuration)."""
    return bool(site_settings.effective("anonymous_enabled"))


def hide_when_off(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """App-wide URL preprocessor: a plain 404 on every anonymous path when switched off.

    A URL value preprocessor runs before every before_request hook, so the CSRF check
    cannot answer first, and it runs for wrong methods too (405 would reveal the route).
    """
    # startswith is the cheap test; is_untraced also checks the path boundary.
    path = request.path
    if path.startswith(PREFIXES) and privacy.is_untraced(path) and not enabled():
        abort(404)


def hide_blueprint_when_off(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Blueprint URL preprocessor: each of the blueprint's routes is a 404 while off.

    The app-wide hide_when_off already covers the link's paths (and wrong methods); this
    keeps a blueprint of the link hidden wherever its routes are mounted.
    """
    if not enabled():
        abort(404)


def part_of_the_link(blueprint: Blueprint) -> None:
    """Make a blueprint part of the anonymous link: no trace, and hidden while off."""
    privacy.no_trace(blueprint)
    blueprint.url_value_preprocessor(hide_blueprint_when_off)


def english_entry() -> None:
    """/en/... addresses show the pages in English (and the rest of the visit too)."""
    if request.path.startswith("/en/") and session.get("lang") != "en":
        session["lang"] = "en"
        refresh()


def page_context() -> dict[str, Any]:
    """What every page of the link shows: its links, in the language of the address."""
    english = request.path.startswith("/en/")
    return {
        "form_url": url_for("anonymous.report_form_en" if english else "anonymous.report_form"),
        "follow_up_url": FOLLOW_UP_PATH_EN if english else FOLLOW_UP_PATH,
        "logged_in": current_user.is_authenticated,
    }


def with_retry_after(page: tuple[str, int], retry_after: int) -> Response:
    """A throttled page with its Retry-After header (seconds)."""
    response = make_response(page)
    response.headers["Retry-After"] = str(retry_after)
    return response


def throttled(retry_after: int) -> ApiError:
    """429 for the link's API, with one message and Retry-After (submissions and receipt
    attempts alike)."""
    return ApiError(
        429,
        {"_request": [_("Too many attempts from your network. Wait a little and try again.")]},
        headers={"Retry-After": str(retry_after)},
    )
