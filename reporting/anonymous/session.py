"""The anonymous follow-up session: one report, opened by its receipt code.

The browser's (signed) session cookie holds a random token and two times: when the
session began (it ends `anonymous_session_minutes` later however active) and when it
was last used (it ends after `anonymous_idle_minutes` idle). The server keeps an
`anonymous_session` row under a hash of the token, with the report sealed under a key
derived from the token: the cookie carries no report id, the database alone cannot
tell which report a session follows, and ending the session deletes the row, so a
copy of the cookie no longer works.

The helpers take the session mapping (Flask's session) as an argument, so this stays
a service: no request, redirects or flashing here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete

from reporting.models import AnonymousSession, Report
from trygg import crypto, keys, sealing, security
from trygg.accounts.service import sessions
from trygg.extensions import db, utcnow

SESSION_TOKEN = "anon_session"  # noqa: S105 - a session key's name, not a secret
SESSION_STARTED = "anon_started"
SESSION_SEEN = "anon_seen"


def _row_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link_key(token: str) -> crypto.DataKey:
    pepper = keys.keyring().derive("anonymous-session")
    return crypto.DataKey(crypto.key_from_secret(token, "anonymous-session:report", salt=pepper))


def _minutes(key: str) -> float:
    return timedelta(minutes=int(current_app.config["TRYGG"][key])).total_seconds()


def begin_session(store: MutableMapping[str, Any], report: Report) -> None:
    """Start an anonymous follow-up session in `store` (Flask's session).

    The session is cleared first: it grants the one report and nothing else, and no
    login or earlier state travels with it (a login in this browser ends, on the server
    too). The language choice is kept.
    """
    end_session(store)
    sessions.end(store.get(security.SESSION_TOKEN))
    lang = store.get("lang")
    store.clear()
    if lang:
        store["lang"] = lang
    token = secrets.token_urlsafe(32)
    row_id = _row_id(token)
    today = utcnow().date()
    link = sealing.seal(
        _link_key(token), AnonymousSession, "report_link", str(report.id), row=row_id
    )
    db.session.add(AnonymousSession(id=row_id, report_link=link, day=today))
    # A session lasts at most a day (settings.validate): older rows belong to sessions
    # that ended by themselves.
    db.session.execute(
        delete(AnonymousSession).where(AnonymousSession.day < today - timedelta(days=1))
    )
    db.session.flush()
    now = datetime.now(UTC).timestamp()
    store[SESSION_TOKEN] = token
    store[SESSION_STARTED] = now
    store[SESSION_SEEN] = now


def _live(store: MutableMapping[str, Any], now: float) -> bool:
    started, seen = store.get(SESSION_STARTED), store.get(SESSION_SEEN)
    return (
        isinstance(started, int | float)
        and isinstance(seen, int | float)
        and now - started <= _minutes("anonymous_session_minutes")
        and now - seen <= _minutes("anonymous_idle_minutes")
    )


def _followed(token: str) -> Report | None:
    row_id = _row_id(token)
    row = db.session.get(AnonymousSession, row_id)
    if row is None:
        return None  # ended, here or in the browser the cookie was copied from
    try:
        link = sealing.open_text(_link_key(token), row, "report_link", row.report_link)
    except crypto.CryptoError:
        return None
    report = db.session.get(Report, int(link))
    return report if report is not None and report.anonymous else None


def session_report(store: MutableMapping[str, Any]) -> Report | None:
    """The report of an active follow-up session; ends it when it has run out."""
    token = store.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    now = datetime.now(UTC).timestamp()
    report = _followed(token) if _live(store, now) else None
    if report is None:
        end_session(store)
        return None
    store[SESSION_SEEN] = now
    return report


def end_session(store: MutableMapping[str, Any]) -> None:
    """End the follow-up session, on the server too."""
    token = store.pop(SESSION_TOKEN, None)
    if isinstance(token, str):
        db.session.execute(delete(AnonymousSession).where(AnonymousSession.id == _row_id(token)))
    store.pop(SESSION_STARTED, None)
    store.pop(SESSION_SEEN, None)
