"""The in-app list of a user's notifications: what is unread, a page of them, and
marking them read (one, all, those of some events, those that lead to a page opened)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from notifications.models import Notification
from notifications.service import NotificationNotFound, _dedupe_key, start_of_day
from trygg import paging
from trygg.extensions import db, utcnow


def unread_count(user_id: int, kinds: Collection[str] = ()) -> int:
    """How many of the user's notifications are unread (of these kinds, if given)."""
    query = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    if kinds:
        query = query.where(Notification.kind.in_(sorted(kinds)))
    return int(db.session.scalar(query) or 0)


def page_for(
    user_id: int, *, limit: int = paging.DEFAULT_PAGE_SIZE, after: tuple[Any, ...] | None = None
) -> paging.Page[Notification]:
    """A page of the user's notifications, newest first; `after` is the last one's
    (created_at, id)."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        created_at, row_id = after
        query = query.where(
            (Notification.created_at < created_at)
            | ((Notification.created_at == created_at) & (Notification.id < row_id))
        )
    rows = list(db.session.scalars(query))
    return paging.page_of(rows, limit, lambda row: (row.created_at, row.id))


def get_for(user_id: int, notification_id: int) -> Notification:
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotificationNotFound()
    return row


def mark_read(user_id: int, notification_id: int, *, now: datetime | None = None) -> Notification:
    """Mark one of the user's notifications read (again: nothing changes).

    Kept to the day: when someone read what is not worth knowing to the second.
    """
    row = get_for(user_id, notification_id)
    if row.read_at is None:
        row.read_at = start_of_day(now or utcnow())
        db.session.flush()
    return row


def unread_events(user_id: int, keys: Iterable[str], *, discreet: bool = False) -> set[str]:
    """Of these event keys, those the user has an unread notification of (`discreet` as
    when they were written): one query."""
    by_dedupe = {_dedupe_key(key, user_id, discreet=discreet): key for key in keys}
    if not by_dedupe:
        return set()
    found = db.session.scalars(
        select(Notification.dedupe_key).where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            Notification.dedupe_key.in_(sorted(by_dedupe)),
        )
    )
    return {by_dedupe[dedupe] for dedupe in found}


def mark_read_events(
    user_id: int, keys: Iterable[str], *, discreet: bool = False, now: datetime | None = None
) -> int:
    """Mark the user's notifications of these events read: the page that shows what they
    told of was opened. `discreet` as when they were written (their keys are hashed)."""
    dedupe = [_dedupe_key(key, user_id, discreet=discreet) for key in keys]
    if not dedupe:
        return 0
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            Notification.dedupe_key.in_(dedupe),
        )
        .values(read_at=start_of_day(now or utcnow()))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_read_leading_to(user_id: int, path: str, *, now: datetime | None = None) -> int:
    """The page at `path` was opened: the user's unread notifications that lead there
    (to the page itself or to one of its sections, `path#…`) are read. One statement."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            or_(
                Notification.link == path,
                Notification.link.startswith(path + "#", autoescape=True),
            ),
        )
        .values(read_at=start_of_day(now or utcnow()))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_all_read(user_id: int, kinds: Collection[str] = (), *, now: datetime | None = None) -> int:
    """Mark the user's unread notifications read (of these kinds, if given)."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if kinds:
        query = query.where(Notification.kind.in_(sorted(kinds)))
    result = db.session.execute(query.values(read_at=start_of_day(now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
