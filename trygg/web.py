"""Kernel pages: the start page, the language switch, health, and error pages; the
registers of menu links and panels that packages add to them. Which language a request
is in is `trygg.language`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import LazyString
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers.response import Response as BaseResponse

from trygg import api, crypto, forms, keys
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.language import LANGUAGES, current_lang
from trygg.security import LANG_CHOSEN, allow, public
from trygg.validation import storable, unstorable_message

bp = Blueprint("web", __name__)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: LazyString
    roles: frozenset[str]
    menu: str
    # A count shown beside the link (e.g. unread notifications): (count, words for
    # screen readers), or None for nothing.
    badge: Callable[[], tuple[int, str] | None] | None = None
    # A role's primary action ranks its link (lower first) and may shorten its label.
    primary: int | None = None
    short: LazyString | None = None


_NAV: list[NavItem] = []


def register_nav(
    endpoint: str,
    label: LazyString,
    *roles: str,
    menu: str = "main",
    badge: Callable[[], tuple[int, str] | None] | None = None,
    primary: int | None = None,
    short: LazyString | None = None,
) -> None:
    """Add a link to a menu ("main", "admin", or "user": the header's account menu),
    shown to holders of `roles`.

    No roles: every logged-in user. Domain packages call this when they register their
    blueprints, so the kernel's layout never imports them. `primary` makes the link a
    primary action (see primary_nav), `short` its label beside the folded menu.
    """
    if all(item.endpoint != endpoint for item in _NAV):
        _NAV.append(NavItem(endpoint, label, frozenset(roles), menu, badge, primary, short))


@dataclass(frozen=True)
class HomePanel:
    template: str
    context: Callable[[], Any]
    roles: frozenset[str]
    order: int = 50


_PANELS: list[HomePanel] = []


def register_home_panel(
    template: str, context: Callable[[], Any], *roles: str, order: int = 50
) -> None:
    """Add a section to the start page for holders of `roles` (a domain package's
    overview, such as a manager's trends): `template` is included with `panel` set to
    what `context()` returns, and skipped when that is empty. Sections come by `order`
    (lower first; then as registered): what a role must act on comes before overviews."""
    if all(panel.template != template for panel in _PANELS):
        _PANELS.append(HomePanel(template, context, frozenset(roles), order))
        _PANELS.sort(key=lambda panel: panel.order)


_LANDINGS: list[tuple[str, frozenset[str]]] = []


def register_landing(endpoint: str, *roles: str) -> None:
    """Make `endpoint` the page that holders of `roles` land on after login.

    The first registered landing whose roles the user holds wins; everyone else lands
    on the start page, whose panels (register_home_panel) show what their roles need.
    """
    if all(found != endpoint for found, _roles in _LANDINGS):
        _LANDINGS.append((endpoint, frozenset(roles)))


def landing_url(user: Any) -> str:
    """Where `user` lands after login when no page was asked for."""
    for endpoint, roles in _LANDINGS:
        if endpoint in current_app.view_functions and user.has_role(*roles):
            return url_for(endpoint)
    return url_for("web.index")


@dataclass(frozen=True)
class CasePanel:
    template: str
    context: Callable[[int], Any]
    roles: frozenset[str]


_CASE_PANELS: list[CasePanel] = []


def register_case_panel(template: str, context: Callable[[int], Any], *roles: str) -> None:
    """Add a section to the handler's case page for holders of `roles` (such as risk's
    "link this case to a risk item"), so handling never imports the package: `template`
    is included with `panel` set to what `context(case_id)` returns, and skipped when
    that is empty. The case page calls `case_panels` only for a user who may handle the
    case; `context` must still check access itself."""
    if all(panel.template != template for panel in _CASE_PANELS):
        _CASE_PANELS.append(CasePanel(template, context, frozenset(roles)))


def case_panels(case_id: int) -> list[tuple[str, Any]]:
    """The registered case page sections for the current user: (template, panel)."""
    out = []
    for panel in _CASE_PANELS:
        if panel.roles and not current_user.has_role(*panel.roles):
            continue
        found = panel.context(case_id)
        if found:
            out.append((panel.template, found))
    return out


def nav_items(menu: str = "main") -> list[dict[str, Any]]:
    """A menu for the current user: only links their roles may use. A page that shows
    the menu twice (the header and the start page) counts each badge once."""
    items = []
    badges: dict[str, tuple[int, str] | None] = g.setdefault("_trygg_nav_badges", {})
    for item in _NAV:
        if item.menu != menu or item.endpoint not in current_app.view_functions:
            continue
        if item.roles and not current_user.has_role(*item.roles):
            continue
        url = url_for(item.endpoint)
        if item.badge is not None and item.endpoint not in badges:
            badges[item.endpoint] = item.badge()
        badge = badges.get(item.endpoint)
        items.append(
            {
                "url": url,
                "label": item.label,
                "current": request.path == url,
                "badge": badge,
                "primary": item.primary,
                "short": item.short or item.label,
            }
        )
    return items


def primary_nav(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The current user's primary action, kept in the header when its menu is folded: of
    their main menu's links (`nav_items()`, as the header has them) registered with
    `primary`, the lowest; else None."""
    ranked = [item for item in items if item["primary"] is not None]
    return min(ranked, key=lambda item: item["primary"], default=None)


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    return {
        "nav_items": nav_items,
        "primary_nav": primary_nav,
        "admin_links": lambda: nav_items("admin"),
        "current_lang": current_lang,
        # Lets a package link to another's page only when that package is installed.
        "has_endpoint": lambda endpoint: endpoint in current_app.view_functions,
    }


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths may be used as a redirect target."""
    if not target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )


@bp.get("/")
@allow()
def index() -> str:
    """The start page: what the user can do, by role.

    Not public: the policy check sends visitors to the login page, and sends a handler or
    admin who has not set up two-factor yet to enrolment first.
    """
    panels = []
    for panel in _PANELS:
        if not panel.roles or current_user.has_role(*panel.roles):
            found = panel.context()
            if found:
                panels.append((panel.template, found))
    return render_template("index.html", panels=panels)


# A part of a page the language switch may return to: an element id as the app writes
# them ("h-messages", "task-3"). Anything else sent as the fragment is left out.
SECTION_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


@bp.post("/language")
@public
def set_language() -> BaseResponse:
    """Switch the interface language and go back to the page the user was on, to the
    section they were reading: the form's `fragment`, which only a script can fill
    (a browser never sends the part of the address after "#")."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang  # committed with the request
        else:
            session[LANG_CHOSEN] = True  # log_in keeps it on the account
    target = request.form.get("next")
    if not target or not is_safe_next(target):
        return redirect(url_for("web.index"))
    page = _page_of(target).split("#", 1)[0]
    fragment = request.form.get("fragment", "")
    if SECTION_ID.fullmatch(fragment):
        page = f"{page}#{fragment}"
    return redirect(page)


def _page_of(target: str) -> str:
    """`target` if it is a page (answers GET), else the nearest page above it.

    A page sent back after a failed form (a 400 to a POST) has the form's address,
    which only takes posts: going back there gave a "405 Method Not Allowed". The page
    the form was on is above it (/risk/assessments/3/comments → /risk/assessments/3).
    """
    adapter = current_app.url_map.bind("localhost")
    parts = urlsplit(target)
    path = parts.path
    while path not in ("", "/"):
        try:
            adapter.match(path, method="GET")
        except RequestRedirect:
            pass  # a page under another spelling (a slash added): it answers GET
        except HTTPException:
            path = path.rsplit("/", 1)[0]
            continue
        return target if path == parts.path else path
    return url_for("web.index")


@bp.get("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """200 when the database answers and the keyring opens its data, else 503 naming
    what is wrong."""
    status: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        status["db"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not healthy"; the log has it
        current_app.logger.exception("health check: database unavailable")
        status["db"] = "unavailable"
    try:
        ring = keys.keyring()
        probe, wrapped = ring.new_data_key()
        ring.unwrap(wrapped)
        # The data's keys, not only a key: checked once per keyring file, then remembered.
        status["keyring"] = "does_not_open_data" if keys.data_problem() else "ok"
    except (crypto.CryptoError, KeyError):
        status["keyring"] = "unavailable"
    healthy = all(v == "ok" for v in status.values())
    body: dict[str, Any] = dict(status)
    for name, report in _HEALTH_EXTRAS.items():
        try:
            body[name] = report()
        except Exception:  # noqa: BLE001 - a report that fails must not fail the check
            db.session.rollback()
            current_app.logger.exception("health check: %s unavailable", name)
            body[name] = "unavailable"
    return jsonify(body), 200 if healthy else 503


_HEALTH_EXTRAS: dict[str, Callable[[], Any]] = {}


def register_health(name: str, probe: Callable[[], Any]) -> None:
    """Add `name` to /healthz's answer (informative: it does not decide the status)."""
    _HEALTH_EXTRAS[name] = probe


@bp.get("/about/access")
@allow()
def my_access() -> str:
    """What the logged-in user's roles let them see (a plain-language overview)."""
    return render_template("my_access.html")


def _render_error(
    code: int, title: str, message: str, headers: dict[str, str] | None = None
) -> tuple[str, int, dict[str, str]]:
    html = render_template("error.html", code=code, title=title, message=message)
    return html, code, headers or {}


def http_error(
    exc: HTTPException,
) -> Response | tuple[str, int, dict[str, str]] | HTTPException:
    """Translated error pages that reveal nothing; JSON on /api/ paths."""
    if request.path.startswith("/api/"):
        return api.json_http_error(exc)
    code = exc.code or 500
    pages = {
        400: (_("The request could not be understood."), _("Go back and try again.")),
        403: (
            _("You do not have access"),
            _("Your role does not give access to this page. Ask an administrator if you need it."),
        ),
        404: (_("Page not found"), _("The page does not exist, or you do not have access to it.")),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        413: (
            _("Too large"),
            _("What you sent is larger than allowed. Make texts shorter or attach smaller files."),
        ),
        429: (_("Too many attempts"), _("Wait a little and try again.")),
    }
    title, message = pages.get(code, (_("Something went wrong."), _("Try again later.")))
    return _render_error(code, title, message, api.error_headers(exc))


def answer_not_found(blueprint: Blueprint, *errors: type[Exception]) -> None:
    """Answer `errors` (a domain's "not found, or not yours") raised in `blueprint`'s
    views as 404: the error page, or the JSON error on /api/ paths. The one place a
    loader's refusal becomes a response, so no view catches it."""
    for error in errors:
        blueprint.register_error_handler(error, not_found)


def not_found(_exc: Exception | None = None) -> Response | tuple[str, int, dict[str, str]]:
    """The 404 answer, as `abort(404)` gives it (page or JSON)."""
    answer = http_error(NotFound())
    assert not isinstance(answer, HTTPException)  # noqa: S101 - 404 always has an answer
    return answer


def csrf_error(exc: CSRFError) -> Response | tuple[str, int, dict[str, str]]:
    """An expired or missing form token: explain it kindly; nothing was stored."""
    json_response = api.csrf_error(exc)
    if json_response is not None:
        return json_response
    return _render_error(
        400,
        _("The form had expired"),
        _(
            "For your security the form expired, and nothing was stored. Go back, copy "
            "anything you wrote, reload the page and send it again."
        ),
    )


def server_error(exc: Exception) -> Response | tuple[str, int, dict[str, str]]:
    """Unexpected errors: logged with a stack trace, shown as a generic page."""
    original = getattr(exc, "original_exception", exc)
    if isinstance(original, crypto.CryptoError):
        current_app.logger.error("sealed data could not be opened: %s", original)
    if request.path.startswith("/api/"):
        return api.error_response(500, {"_request": [_("Something went wrong. Try again later.")]})
    return _render_error(500, _("Something went wrong."), _("Try again later."))


def refuse_unstorable() -> Response | tuple[str, int, dict[str, str]] | None:
    """before_request: a character no text can hold (`validation.storable`: NUL) in the
    path, the query string or a form is refused with a 400 that says so, before any
    view reads it.

    JSON bodies are checked where they are read (`api.load_json`), within their size
    limit; files are not looked at (their names are cleaned where they are stored). A
    form page marked `forms.flags_nul` gets its form without NUL instead, and names the
    fields that held one itself, with the form kept.
    """
    fields = request.args.items(multi=True)
    form_ok = True
    if request.mimetype in FORM_TYPES:
        if forms.flagging_nul(current_app.view_functions.get(request.endpoint or "")):
            form_ok = forms.drop_nul()
        else:
            fields = itertools.chain(fields, request.form.items(multi=True))
    if form_ok and storable(request.path) and all(storable(k) and storable(v) for k, v in fields):
        return None
    if request.path.startswith("/api/"):
        return api.error_response(400, {"_request": [unstorable_message()]})
    return _render_error(400, _("The request could not be understood."), unstorable_message())


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def init_app(app: Flask) -> None:
    """Register the kernel pages and the error handlers."""
    app.before_request(refuse_unstorable)
    app.register_blueprint(bp)
    register_nav("web.index", _l("Home"))
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, server_error)
