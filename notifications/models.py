"""The outbox and in-app list (one row per event and recipient), preferences, reminder
lead times and the tick's heartbeat.

A `Notification` row is both the entry in the recipient's in-app list and the outbox
entry for its e-mail: written in the transaction of the change that caused it, with a
unique `dedupe_key`, so an event can never be notified twice to the same person. Rows
hold no content: a kind, a link (a path) and delivery state. `mail_key` names the
e-mail a row goes out in (its own key, or a digest's); the Message-ID is derived from it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from trygg.extensions import UTCDateTime, db, utcnow


class Notification(db.Model):  # type: ignore[name-defined]
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_mail_due", "mail_state", "next_attempt_at"),
        Index("ix_notification_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The event and the recipient: unique, so a second row for one event cannot exist.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # A path under base_url: the page where the user logs in to read what happened.
    link: Mapped[str] = mapped_column(String(200))
    # What the event is about, as "type:id" (never for a reporter: that would link them).
    subject: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # pending (to send), digest (waits for the user's digest), sent, failed, skipped
    # (no e-mail: turned off), withdrawn (no longer true when its turn came).
    mail_state: Mapped[str] = mapped_column(String(10), default="pending")
    mail_key: Mapped[str | None] = mapped_column(String(160))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A short code for admins ("connect", "smtp 550"); never an address or content.
    last_error: Mapped[str | None] = mapped_column(String(80))


class NotificationPreference(db.Model):  # type: ignore[name-defined]
    """How a user wants one kind: at once (immediate), in the daily digest, or off."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10), default="immediate")


class NotificationProfile(db.Model):  # type: ignore[name-defined]
    """A user's language for e-mail, digest time (Oslo), and away flag with substitute."""

    __tablename__ = "notification_profile"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(5), default="nb")
    # Minutes after midnight, Oslo time, when the daily digest goes out.
    digest_minute: Mapped[int] = mapped_column(SmallInteger, default=7 * 60)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    substitute_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ReminderPolicy(db.Model):  # type: ignore[name-defined]
    """How long before a deadline of a kind its reminder goes out (admin-editable)."""

    __tablename__ = "reminder_policy"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    lead_minutes: Mapped[int] = mapped_column(Integer)


class SchedulerBeat(db.Model):  # type: ignore[name-defined]
    """The tick's last run, per scheduler process (for /healthz and the admin page)."""

    __tablename__ = "scheduler_beat"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How long that tick took, in milliseconds.
    last_ms: Mapped[int] = mapped_column(Integer, default=0)
