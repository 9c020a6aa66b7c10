"""The keyring in use does not open the stored data: another instance's keyring beside a
restored backup, say. Every case page would otherwise fail with "Something went wrong",
and every report sent meanwhile would be sealed with keys the right keyring lacks.

So from the first request on (`keys.data_problem`, checked once per keyring, then a
cached answer), pages and the API answer 503 with a plain explanation; /healthz says
`"keyring": "does_not_open_data"`, and the log has one line naming the keys.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request

from trygg import api, crypto, keys, web
from trygg.i18n import gettext as _

# Health, and the language the explanation is read in, still answer.
ANSWERING = frozenset({"web.healthz", "web.set_language"})
HEALTH_CODE = "does_not_open_data"
RETRY = {"Retry-After": "300"}


def unreadable() -> Response | tuple[str, int, dict[str, str]]:
    """The 503 page (or JSON) shown while the keyring does not open the data."""
    title = _("Trygg cannot read its data right now")
    message = _(
        "This is a fault in how Trygg is set up, not something you did. The administrators "
        "can see it. Try again later."
    )
    if request.path.startswith("/api/"):
        return api.error_response(503, {"_request": [title]}, RETRY)
    html = render_template("error.html", code=503, title=title, message=message)
    return html, 503, RETRY


def refuse_while_unreadable() -> Response | tuple[str, int, dict[str, str]] | None:
    """before_request: the 503 answer while the keyring does not open the data."""
    endpoint = request.endpoint or ""
    if not endpoint or endpoint in ANSWERING or endpoint.rsplit(".", 1)[-1] == "static":
        return None
    return unreadable() if keys.data_problem() else None


def crypto_error(exc: crypto.CryptoError) -> Response | tuple[str, int, dict[str, str]]:
    """Sealed data that does not open: the 503 answer if the keyring is the cause (it
    was replaced under the running process), else the 500 of a damaged value."""
    if keys.data_problem():
        return unreadable()
    return web.server_error(exc)


def init_app(app: Flask) -> None:
    app.before_request(refuse_while_unreadable)
    app.register_error_handler(crypto.CryptoError, crypto_error)
