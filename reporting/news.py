"""Which of a reporter's reports have news they have not read (a case handler's message,
the feedback when the case was closed, a question): their lists mark those reports.

The package that handles cases knows what its news is and registers how to find it
(handling/setup.py): reporting does not import it. The notifications themselves stay
discreet (tied to no report); only the reporter's own page puts the two together.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from notifications import inbox as notifications
from notifications.kinds import Kind

Source = Callable[[int, Collection[int]], set[int]]
_SOURCES: list[Source] = []


def register(source: Source) -> None:
    """`source(user_id, report_ids)` → the ids of those reports with unread news."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def unread(user_id: int) -> int:
    """How many notifications of news about their reports the user has not read."""
    return notifications.unread_count(user_id, (Kind.REPORT_UPDATE,))


def settle(user_id: int, report_ids: Collection[int], unread_count: int) -> bool:
    """When none of the user's reports (`report_ids`: all of them) has the unread news
    their notifications speak of (its case was erased under retention since, with its
    messages), those notifications are marked read: "unread updates" does not stay for
    good. True when it did so."""
    if not unread_count or reports_with_news(user_id, report_ids, unread_count=unread_count):
        return False
    notifications.mark_all_read(user_id, (Kind.REPORT_UPDATE,))
    return True


def reports_with_news(
    user_id: int, report_ids: Collection[int], *, unread_count: int | None = None
) -> set[int]:
    """Of these reports (the user's own), the ids of those with news the user has not
    read: one query when there is none, as there mostly is (none when `unread_count`,
    the user's `unread()`, is known already)."""
    if unread_count is None:
        unread_count = unread(user_id) if report_ids else 0
    if not report_ids or not unread_count:
        return set()
    found: set[int] = set()
    for source in _SOURCES:
        found |= source(user_id, report_ids)
    return found
