"""The start page's section for people who report: "Report an incident" first, then
their latest reports, marked when there is unread news about them."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from reporting import codes, news, service
from trygg.roles import Role

# How many of one's reports the start page lists (the rest are on "My reports").
LATEST = 5


# Roles whose start page is an overview (statistics, tasks): it must not touch the keyring
# (tests/risk/test_privacy.py), and finding one's own reports takes a keyed hash of the
# user, so they get the action and a link to "My reports" instead of the list.
OVERVIEW_ROLES = (Role.MANAGER, Role.SAFETY_REP, Role.AMU, Role.ADMIN)


def reporter_panel() -> dict[str, Any]:
    """The latest reports (no sealed field is opened) and the count of unread news.

    News about a report is deliberately not tied to one report in the notification
    (see handling/notices/case_events.py): which of the listed reports it is about is
    found for the reporter here (reporting/news.py), and marked on their row.
    """
    listed = not current_user.has_role(*OVERVIEW_ROLES)
    page = service.reports_of(current_user, limit=LATEST) if listed else None
    reports = page.items if page is not None else []
    unread = news.unread(current_user.id)
    return {
        "listed": listed,
        "reports": reports,
        "news": news.reports_with_news(
            current_user.id, [r.id for r in reports], unread_count=unread
        ),
        "unread": unread,
        "statuses": codes.STATUSES,
        "incident_types": codes.INCIDENT_TYPES,
    }
