"""Leaving no trace: a log filter without client addresses, and ids that reveal no order.

Some routes (the anonymous whistleblower link) promise to keep nothing that points back
to the person using them. Domain packages register those routes' path prefixes with
`register_untraced`; then:

* `ClientAddressFilter` (installed on the app's and the servers' loggers by
  trygg/app.py) removes IPv4 and IPv6 addresses from every record it sees, including
  tracebacks, and drops the access-log lines of untraced paths altogether: such a line
  would date a visit to the second.
* `no_trace(blueprint)` makes every response of a blueprint uncacheable, without a
  referrer and with a session cookie that ends when the browser closes.
* `new_row_id(model, unordered=True)` gives a row a random primary key, so its id does
  not tell which rows were stored before or after it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, session
from sqlalchemy import func, select

from trygg import audit
from trygg.extensions import db

# Random ids come from a range that sequences do not reach in practice; on SQLite,
# sequential ids are taken below it (see new_row_id).
RANDOM_ID_MIN = 1_000_000_000
RANDOM_ID_MAX = 2**31 - 1

_UNTRACED: set[str] = set()


def register_untraced(*prefixes: str) -> None:
    """Declare path prefixes (e.g. "/varsle") whose requests must leave no trace."""
    for prefix in prefixes:
        _UNTRACED.add(prefix.rstrip("/"))


def is_untraced(path: str) -> bool:
    """Whether a request path (query string allowed) falls under an untraced prefix."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    return any(path == p or path.startswith(p + "/") for p in _UNTRACED)


# -- logs -------------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d)(?!\.\d)")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[\w.]+)?")
_REQUEST_LINE = re.compile(r'"[A-Z]+ (\S+) HTTP/[\d.]+"')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its access lines on a terminal


def _replace_if_address(match: re.Match[str]) -> str:
    text = match.group(0)
    bare = text.split("%", 1)[0]
    # A trailing dot or colon may be punctuation ("from 10.0.0.1.", "addr:"), kept.
    for candidate, tail in ((bare, ""), (bare.rstrip(".:"), text[len(bare.rstrip(".:")) :])):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return "-" + (tail if "%" not in text else "")
    return text


def scrub(text: str) -> str:
    """The text with every IPv4 and IPv6 address replaced by "-"."""
    return _IPV4.sub(_replace_if_address, _IPV6.sub(_replace_if_address, text))


# The method may follow a terminal colour code ("\x1b[33mGET"): werkzeug colours the
# access lines of redirects and errors, and "mGET" has no word boundary.
# A request line may name the whole address ("GET http://host/cases?q=… HTTP/1.1").
# The query runs to " HTTP/1.1", or, in a request line the server could not parse (sent
# with raw spaces, or without a version: werkzeug's "Bad request syntax ('GET /cases?q=
# Ola Nordmann')"), to the end of the quoted line.
# A quote inside the query (sent raw) does not end it: the quoted request line ends
# where the line's own layout says, before an access line's status code or at the end
# of an error line, past any colour code.
_REQUEST_LINE_END = r'(?=(?:\x1b\[[\d;]*m)*(?:"\s\d{3}\b|[\'"]\)$|$))'
_QUERY_IN_REQUEST_LINE = re.compile(
    r'((?<![A-Z])[A-Z]{3,7} (?:[a-z][a-z0-9+.-]*://[^/\s"\']*)?/[^\s?"\']*)\?'
    r"(?:[^\n]*?( HTTP/[\d.]+)|[^\n]*?" + _REQUEST_LINE_END + ")",
    re.MULTILINE,
)


# "GET /cases?q=Ola Nordmann" (three words): the server takes "Nordmann" for the HTTP
# version and quotes only that, with no "?" before it to cut at: the quote goes.
_UNPARSED_VERSION = re.compile(r"(Bad request version) \(.*\)$", re.MULTILINE)


def without_query(text: str) -> str:
    """An access line with its request's query string cut to "?": a queue searched by a
    person's name (`/cases?q=…`) must not leave the name in a server's log."""
    text = _UNPARSED_VERSION.sub(r"\1", text)
    return _QUERY_IN_REQUEST_LINE.sub(lambda m: f"{m.group(1)}?{m.group(2) or ''}", text)


def _path_of(record: logging.LogRecord, message: str) -> str | None:
    """The request path of an access-log record (werkzeug's or gunicorn's), if any."""
    if isinstance(record.args, Mapping) and isinstance(record.args.get("U"), str):
        return str(record.args["U"])  # gunicorn's access log atoms
    match = _REQUEST_LINE.search(_ANSI.sub("", message))
    return match.group(1) if match else None


def _is_server_start(record: logging.LogRecord, message: str) -> bool:
    """The development server's start lines (werkzeug logs them with no arguments;
    access and error lines always have the client's address as one)."""
    return record.name == "werkzeug" and not record.args and " * Running on " in message


class ClientAddressFilter(logging.Filter):
    """Remove client addresses from log records; drop access lines of untraced paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if _is_server_start(record, message):
            return True  # the development server's own address, where to open it
        path = _path_of(record, message)
        if path is not None and is_untraced(path):
            return False
        # Every line of the servers' own loggers may hold a request line (an access
        # line, or an error quoting a request it could not parse): its query is cut.
        server = record.name.startswith(("werkzeug", "gunicorn"))
        record.msg = scrub(without_query(message) if path is not None or server else message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


# Loggers whose records may carry a client address: the development server's access
# log, gunicorn's access and error logs, and Flask-WTF's CSRF messages.
SERVER_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask_wtf.csrf")


def install_log_filter(*loggers: logging.Logger) -> None:
    """Attach the filter (once) to the given loggers and the servers' loggers."""
    targets = [*loggers, *(logging.getLogger(name) for name in SERVER_LOGGERS)]
    for logger in targets:
        if not any(isinstance(f, ClientAddressFilter) for f in logger.filters):
            logger.addFilter(ClientAddressFilter())


# -- responses --------------------------------------------------------------------------


def _untraced_response(response: Response) -> Response:
    # The same values the global security headers give every page, set here without
    # setdefault so that no view can loosen them on an untraced route.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    # The session cookie (CSRF token, anonymous follow-up) ends with the browser.
    # Only touched when needed: touching it would send a cookie with every response.
    if session.permanent:
        session.permanent = False
    return response


def no_trace(bp: Blueprint) -> None:
    """Make every response of a blueprint uncacheable, referrer-free and cookie-short.

    Its requests also stay out of the sequential audit chain (see audit.leave_out_of_chain).
    """
    bp.before_request(audit.leave_out_of_chain)
    bp.after_request(_untraced_response)


# -- ids --------------------------------------------------------------------------------


def random_row_id(model: Any) -> int:
    """An unused random primary key for `model`: it reveals no order of creation."""
    while True:
        candidate = RANDOM_ID_MIN + secrets.randbelow(RANDOM_ID_MAX - RANDOM_ID_MIN + 1)
        if db.session.get(model, candidate) is None:
            return candidate


def new_row_id(model: Any, *, unordered: bool) -> int | None:
    """The primary key to give a new row, or None to let the database choose.

    `unordered` rows get a random id. SQLite gives an ordinary row the highest id in
    the table plus one, which after a random id would place it right after that row and
    so date the random one; there, ordinary rows count on from the highest id below the
    random range instead. PostgreSQL's sequences are not affected by explicit ids.
    """
    if unordered:
        return random_row_id(model)
    if db.session.get_bind().dialect.name != "sqlite":
        return None
    pk = model.__mapper__.primary_key[0]
    highest = int(db.session.scalar(select(func.max(pk)).where(pk < RANDOM_ID_MIN)) or 0)
    # Rows given ids but not yet flushed are not in the table: count on from them too.
    issued: dict[str, int] = db.session.info.setdefault("trygg_issued_ids", {})
    table = model.__table__.name
    next_id = max(highest, issued.get(table, 0)) + 1
    issued[table] = next_id
    return next_id
