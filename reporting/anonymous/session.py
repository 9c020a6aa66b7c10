"""The anonymous follow-up session: one report, opened by its receipt code.

The helpers take the session mapping (Flask's session) as an argument, so this stays
a service: no request, redirects or flashing here.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from reporting.models import Report
from trygg.extensions import db

SESSION_REPORT = "anon_report"
SESSION_SEEN = "anon_seen"


def begin_session(store: MutableMapping[str, Any], report: Report) -> None:
    """Start an anonymous follow-up session in `store` (Flask's session).

    The session is cleared first: it grants the one report and nothing else, and no
    login or earlier state travels with it. The language choice is kept.
    """
    lang = store.get("lang")
    store.clear()
    if lang:
        store["lang"] = lang
    store[SESSION_REPORT] = report.id
    store[SESSION_SEEN] = datetime.now(UTC).timestamp()


def session_report(store: MutableMapping[str, Any]) -> Report | None:
    """The report of an active follow-up session; ends it after the idle time."""
    report_id = store.get(SESSION_REPORT)
    seen = store.get(SESSION_SEEN)
    if report_id is None:
        return None
    now = datetime.now(UTC).timestamp()
    idle_minutes = int(current_app.config["TRYGG"]["anonymous_idle_minutes"])
    idle = timedelta(minutes=idle_minutes).total_seconds()
    if not isinstance(seen, int | float) or now - seen > idle:
        end_session(store)
        return None
    report = db.session.get(Report, report_id)
    if report is None or not report.anonymous:
        end_session(store)
        return None
    store[SESSION_SEEN] = now
    return report


def end_session(store: MutableMapping[str, Any]) -> None:
    """End the follow-up session."""
    store.pop(SESSION_REPORT, None)
    store.pop(SESSION_SEEN, None)
