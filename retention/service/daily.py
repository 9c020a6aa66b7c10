"""The scheduler's daily retention run: once a day, however many processes tick."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from notifications.scheduler import TickContext
from retention.models import RetentionDay, Tombstone
from retention.service.deletion import (
    checkpoint,
    due_items,
    erase_due_case,
    expire_receipts,
    month_of,
)
from retention.service.warnings import warn_upcoming
from trygg.database import insert_or_ignore
from trygg.extensions import db

OSLO = ZoneInfo("Europe/Oslo")


def today(ctx: TickContext) -> date:
    return ctx.now.astimezone(OSLO).date()


def daily_job(ctx: TickContext) -> int:
    """A tick's share of today's run: a batch of due cases (fewer when the tick's time
    is up), each in its own committed transaction; when fewer than a batch were left and
    all of them are done, the receipts, the warnings and the day's mark. A day with its
    mark is skipped by every process."""
    day = today(ctx)
    if db.session.get(RetentionDay, day) is not None:
        return 0
    items = [i for i in due_items(ctx.now) if i.is_due(ctx.now)][: ctx.batch]
    db.session.commit()
    for done, item in enumerate(items, start=1):
        erase_due_case(item, now=ctx.now, actor="scheduler")
        db.session.commit()
        if ctx.out_of_time() and done < len(items):
            # The tick's time is up (about 25 ms a case): the rest in the next ticks,
            # and the day is not over.
            return done
    if len(items) < ctx.batch:
        expire_receipts(ctx.now)
        warn_upcoming(ctx.now)
        deleted = _deleted_since_last_mark(day, month_of(ctx.now))
        db.session.execute(
            insert_or_ignore(RetentionDay.__table__, key=["day"]).values(
                day=day, finished_at=ctx.now, owner=ctx.owner, deleted=deleted
            )
        )
        db.session.commit()
        if deleted:
            checkpoint()
    return len(items)


def _deleted_since_last_mark(day: date, month: date) -> int:
    """How many cases were deleted since the last day's mark: the day's run may have
    taken several ticks (each only knows its own batch), so it is counted from the
    month's tombstones less what earlier days of the month counted."""
    this_month = db.session.scalar(
        select(func.count()).select_from(Tombstone).where(Tombstone.deleted_month == month)
    )
    counted = db.session.scalar(
        select(func.coalesce(func.sum(RetentionDay.deleted), 0)).where(
            RetentionDay.day >= month, RetentionDay.day < day
        )
    )
    return max(int(this_month or 0) - int(counted or 0), 0)
