"""E-mail delivery: claim due outbox rows with a lease, send them with smtplib, mark them.

Sending happens outside any database transaction: rows are claimed (a lease of a few
minutes, taken under `FOR UPDATE SKIP LOCKED` on PostgreSQL, in SQLite's immediate
transaction), sent, then marked sent or given their next attempt. Each e-mail carries a
Message-ID derived from its `mail_key`, so if a process dies after the server accepted a
message and before marking it, the retry after the lease repeats the same Message-ID:
never a different message. Failures wait with exponential backoff and jitter; after
`outbox_max_attempts` the rows are marked failed and shown to admins.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update

from notifications.kinds import MailState
from notifications.mail import MailSettings, compose, current_settings, message_id, smtp_connection
from notifications.models import Notification, NotificationProfile
from notifications.preferences import email_language
from notifications.service import start_of_day
from trygg import privacy
from trygg.accounts.models import User
from trygg.extensions import db, utcnow

log = logging.getLogger("trygg.mail")

LEASE = timedelta(minutes=5)
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 3600


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 1, 2, 4 … minutes, at most about an hour."""
    base = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    jitter = 0.75 + secrets.randbelow(501) / 1000  # 0.75 … 1.25
    return timedelta(seconds=base * jitter)


# -- claiming, sending, marking ---------------------------------------------------------


def _due(now: datetime) -> Any:
    return and_(
        Notification.mail_state == MailState.PENDING,
        Notification.next_attempt_at <= now,
        or_(Notification.lease_until.is_(None), Notification.lease_until < now),
    )


def claim(owner: str, now: datetime, limit: int) -> list[Notification]:
    """Lease up to `limit` due rows, whole e-mails only, and commit the lease."""
    query = (
        select(Notification.id, Notification.mail_key)
        .where(_due(now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    picked = db.session.execute(query).all()
    ids = {row_id for row_id, _key in picked}
    keys_ = {key for _id, key in picked}
    if keys_:
        # An e-mail (a digest) is sent whole or not at all in this tick: leave any whose
        # rows were not all picked (the limit, or another process's lease).
        split = set(
            db.session.scalars(
                select(Notification.mail_key)
                .where(_due(now), Notification.mail_key.in_(keys_), Notification.id.not_in(ids))
                .distinct()
            )
        )
        ids = {row_id for row_id, key in picked if key not in split}
    if ids:
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(ids))
            .values(lease_owner=owner, lease_until=now + LEASE)
        )
    db.session.commit()
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
        )
    )


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def _addressees(user_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Each user's address and e-mail language: the one they chose in their settings,
    else the language they use Trygg in, else the default (preferences.email_language)."""
    default = current_app.config["TRYGG"]["default_locale"]
    rows = db.session.execute(
        select(User.id, User.email, NotificationProfile.language, User.locale)
        .outerjoin(NotificationProfile, NotificationProfile.user_id == User.id)
        .where(User.id.in_(sorted(user_ids)))
    )
    return {
        uid: (email, email_language(chosen, interface, default))
        for uid, email, chosen, interface in rows
    }


def _send_all(
    groups: dict[str, list[Notification]], cfg: MailSettings, now: datetime
) -> dict[str, str | None]:
    """Send each e-mail; mail_key → None (sent) or a short error code."""
    people = _addressees({rows[0].user_id for rows in groups.values()})
    outcome: dict[str, str | None] = {}
    if not cfg.host:
        for key, rows in groups.items():
            mid = message_id(key, cfg.domain)
            log.info("mail: no smtp_host; would send %s to user %s", mid, rows[0].user_id)
            outcome[key] = None
        return outcome
    try:
        with smtp_connection(cfg) as client:
            for key, rows in groups.items():
                address, language = people.get(rows[0].user_id, ("", "nb"))
                try:
                    client.send_message(compose(rows, address, language, cfg, now))
                    outcome[key] = None
                except smtplib.SMTPRecipientsRefused as exc:
                    codes = {c for c, _m in exc.recipients.values()}
                    outcome[key] = f"refused {min(codes) if codes else ''}".strip()
                except smtplib.SMTPResponseException as exc:
                    outcome[key] = f"smtp {exc.smtp_code}"
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail: SMTP server unavailable (%s)", type(exc).__name__)
    for key in groups:
        outcome.setdefault(key, "connect")
    return outcome


def _mark(
    groups: dict[str, list[Notification]],
    outcome: dict[str, str | None],
    owner: str,
    now: datetime,
    max_attempts: int,
) -> DeliveryResult:
    """Mark each e-mail's rows sent, or give them their next attempt (failed after the
    last), only where this process still holds the lease; commit."""
    result = DeliveryResult()
    sent_rows: list[dict[str, Any]] = []
    retry_rows: list[dict[str, Any]] = []
    for key, rows in groups.items():
        error = outcome[key]
        if error is None:
            sent_rows += [_sent_row(row, now) for row in rows]
            result.sent += 1
            continue
        retry_rows += [_retry_row(row, error, now, max_attempts) for row in rows]
        if rows[0].attempts + 1 >= max_attempts:
            result.failed += 1
        else:
            result.retried += 1
        result.errors[key] = error
    _write_marks(owner, sent_rows, retry_rows)
    db.session.commit()
    return result


def _sent_row(row: Notification, now: datetime) -> dict[str, Any]:
    """A sent row's marks; a discreet row's time is only its day."""
    discreet = row.id >= privacy.RANDOM_ID_MIN
    return {"b_id": row.id, "b_at": start_of_day(now) if discreet else now}


def _retry_row(row: Notification, error: str, now: datetime, max_attempts: int) -> dict[str, Any]:
    """A row not sent: its next attempt after a backoff, or failed after the last."""
    attempts = row.attempts + 1
    failed = attempts >= max_attempts
    return {
        "b_id": row.id,
        "b_attempts": attempts,
        "b_state": MailState.FAILED if failed else MailState.PENDING,
        "b_next": None if failed else now + retry_delay(attempts),
        "b_error": error,
    }


def _write_marks(
    owner: str, sent_rows: list[dict[str, Any]], retry_rows: list[dict[str, Any]]
) -> None:
    """Two executemany UPDATEs (Core), each row only while its lease is this owner's."""
    mine = and_(Notification.id == bindparam("b_id"), Notification.lease_owner == owner)
    connection = db.session.connection()
    if sent_rows:
        connection.execute(
            update(Notification.__table__)
            .where(mine)
            .values(
                mail_state=MailState.SENT,
                sent_at=bindparam("b_at"),
                next_attempt_at=None,
                lease_owner=None,
                lease_until=None,
                last_error=None,
            ),
            sent_rows,
        )
    if retry_rows:
        connection.execute(
            update(Notification.__table__)
            .where(mine)
            .values(
                mail_state=bindparam("b_state"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                lease_owner=None,
                lease_until=None,
            ),
            retry_rows,
        )


def _withdraw(
    rows: list[Notification], settled: Callable[[list[str]], set[str]] | None
) -> list[Notification]:
    """Drop (and mark withdrawn) rows about something settled since they were written."""
    subjects = sorted({r.subject for r in rows if r.subject})
    gone = settled(subjects) if settled is not None and subjects else set()
    if not gone:
        return rows
    stale = [r.id for r in rows if r.subject in gone]
    db.session.execute(
        update(Notification)
        .where(Notification.id.in_(stale))
        .values(
            mail_state=MailState.WITHDRAWN, next_attempt_at=None, lease_owner=None, lease_until=None
        )
    )
    db.session.commit()
    return [r for r in rows if r.subject not in gone]


def deliver_due(
    owner: str,
    *,
    now: datetime | None = None,
    limit: int = 500,
    settled: Callable[[list[str]], set[str]] | None = None,
) -> DeliveryResult:
    """Send every e-mail that is due, in batches, until none is left or SMTP fails.

    `settled` names the subjects that are no longer true; their e-mails are withdrawn.
    """
    cfg = current_settings()
    max_attempts = int(current_app.config["TRYGG"]["outbox_max_attempts"])
    total = DeliveryResult()
    while True:
        moment = now or utcnow()
        claimed = claim(owner, moment, limit)
        if not claimed:
            return total
        rows = _withdraw(claimed, settled)
        if not rows:
            continue
        groups: dict[str, list[Notification]] = defaultdict(list)
        for row in rows:
            groups[row.mail_key or row.dedupe_key].append(row)
        outcome = _send_all(groups, cfg, moment)
        result = _mark(groups, outcome, owner, moment, max_attempts)
        total.sent += result.sent
        total.retried += result.retried
        total.failed += result.failed
        total.errors.update(result.errors)
        if result.retried or result.failed or len(claimed) < limit:
            return total
