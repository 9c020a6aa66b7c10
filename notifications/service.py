"""Asking for notifications, and the outbox's admin operations (the in-app list is
`notifications.inbox`).

`notify` (and `notify_many`, the same for a batch) writes one row per event and
recipient in the caller's transaction: the caller commits once, so nothing is sent
before the change is stored and a rolled-back request leaves no row. It decides, per
recipient, whether the e-mail goes at once, waits for the daily digest or is not sent
(the in-app list always has the row), from the recipient's preferences; a recipient who
is away also has the notification go to their substitute, where the caller says the
substitute may hear of the matter (`audience`).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, exists, func, select, update

from notifications.kinds import (
    ALWAYS_MAILED,
    DIGEST_BY_DEFAULT,
    MANDATORY_FOR_HANDLERS,
    Delivery,
    Kind,
    MailState,
)
from notifications.models import Notification, NotificationPreference, NotificationProfile
from notifications.rows import insert_rows
from trygg import crypto, keys, privacy
from trygg.accounts.models import User, UserRole
from trygg.extensions import db, utcnow
from trygg.roles import Role

OSLO = ZoneInfo("Europe/Oslo")


class NotificationNotFound(Exception):
    """No such notification for this user."""


@dataclass(frozen=True)
class Event:
    """One thing that happened, to be told to `recipients` (user ids).

    `key` names the event ("case:17:new"): with the recipient it is the row's unique
    dedupe key. `link` is the path to read it at. `discreet`: the row must not tie the
    recipient to the matter in clear (a reporter) or date it more precisely than the
    day (something an anonymous reporter did): the key is stored as a keyed hash, the
    time as the day and the id is random. `audience`: who may stand in for an away
    recipient (None: no one).
    """

    kind: Kind
    recipients: Collection[int]
    key: str
    link: str
    subject: str | None = None
    audience: Collection[int] | None = None
    discreet: bool = False


def notify(
    kind: Kind,
    recipients: Iterable[int],
    *,
    key: str,
    link: str,
    subject: str | None = None,
    audience: Collection[int] | None = None,
    discreet: bool = False,
    now: datetime | None = None,
) -> int:
    """Notify `recipients` of one event (see Event). Returns the rows written."""
    event = Event(kind, frozenset(recipients), key, link, subject, audience, discreet)
    return notify_many([event], now=now)


@dataclass
class _Recipient:
    active: bool
    handler: bool
    away: bool
    substitute_id: int | None


def _recipients(
    user_ids: set[int], kinds: set[str], prefs: dict[tuple[int, str], str]
) -> dict[int, _Recipient]:
    """Who the users are as far as delivery cares, and their preferences for `kinds`
    (added to `prefs`): one query."""
    if not user_ids:
        return {}
    is_handler = exists().where(UserRole.user_id == User.id, UserRole.role == Role.HANDLER)
    preference = NotificationPreference
    rows = db.session.execute(
        select(
            User.id,
            User.active,
            is_handler,
            NotificationProfile.away,
            NotificationProfile.substitute_id,
            preference.kind,
            preference.delivery,
        )
        .outerjoin(NotificationProfile, NotificationProfile.user_id == User.id)
        .outerjoin(
            preference,
            and_(preference.user_id == User.id, preference.kind.in_(sorted(kinds))),
        )
        .where(User.id.in_(sorted(user_ids)))
    )
    found: dict[int, _Recipient] = {}
    for uid, active, handler, away, substitute, kind, delivery in rows:
        found[uid] = _Recipient(bool(active), bool(handler), bool(away), substitute)
        if kind is not None:
            prefs[(uid, kind)] = delivery
    return found


def mail_state_for(kind: str, delivery: str | None, *, handler: bool, away: bool) -> MailState:
    """What happens to the e-mail: the one rule, used for every notification."""
    if kind in ALWAYS_MAILED:
        return MailState.PENDING
    if kind in MANDATORY_FOR_HANDLERS and handler and not away:
        return MailState.PENDING
    if delivery == Delivery.OFF:
        return MailState.SKIPPED
    if delivery == Delivery.DIGEST or (delivery is None and kind in DIGEST_BY_DEFAULT):
        return MailState.DIGEST
    return MailState.PENDING


def mailed_at_once(user_id: int, kind: Kind, audience: Collection[int] | None = None) -> bool:
    """Whether a notification of `kind` reaches this user by e-mail at once (their
    preference and the rules above), rather than in a digest, or not by e-mail; and,
    where they are away, their substitute too when the event's `audience` lets the
    substitute hear of it (`_with_substitutes`)."""
    prefs: dict[tuple[int, str], str] = {}
    who = _recipients({user_id}, {str(kind)}, prefs)
    person = who.get(user_id)
    if person is None or not person.active:
        return False
    told = [user_id]
    substitute = person.substitute_id
    if person.away and substitute and audience and substitute in audience:
        who.update(_recipients({substitute}, {str(kind)}, prefs))
        told.append(substitute)
    for uid in told:
        someone = who.get(uid)
        if someone is None or not someone.active:
            continue  # told nothing, of this or of what is held back
        state = mail_state_for(
            str(kind), prefs.get((uid, str(kind))), handler=someone.handler, away=someone.away
        )
        if state != MailState.PENDING:
            return False
    return True


def start_of_day(moment: datetime) -> datetime:
    """Midnight (Oslo) of the moment's day, in UTC."""
    local = moment.astimezone(OSLO)
    return datetime(local.year, local.month, local.day, tzinfo=OSLO).astimezone(UTC)


def _dedupe_key(event_key: str, user_id: int, *, discreet: bool) -> str:
    """The row's unique key: the event's and the recipient's; hashed for a discreet row."""
    key = f"{event_key}:u{user_id}"
    if discreet:
        return "h:" + crypto.keyed_hash(keys.keyring().derive("notification-key"), key)
    return key


def already_told(event_key: str, user_ids: Collection[int], *, discreet: bool) -> set[int]:
    """Of these users, those who have a row of this event written `discreet` (or not):
    its key is another when hashed, so the unique dedupe key cannot say it."""
    by_key = {_dedupe_key(event_key, uid, discreet=discreet): uid for uid in set(user_ids)}
    if not by_key:
        return set()
    found = db.session.scalars(
        select(Notification.dedupe_key).where(Notification.dedupe_key.in_(sorted(by_key)))
    )
    return {by_key[key] for key in found}


def _with_substitutes(event: Event, who: dict[int, _Recipient]) -> list[int]:
    """The recipients, and the substitutes of those away, where they may hear of it."""
    out = sorted(set(event.recipients))
    if not event.audience:
        return out
    substitutes = [
        person.substitute_id
        for uid in out
        if (person := who.get(uid)) is not None and person.away and person.substitute_id
    ]
    if substitutes:
        allowed = set(event.audience)
        out += [s for s in dict.fromkeys(substitutes) if s in allowed and s not in out]
    return out


def notify_many(events: list[Event], *, now: datetime | None = None) -> int:
    """Write the rows of several events at once (a tick's batch): two statements."""
    now = now or utcnow()
    wanted = {uid for e in events for uid in e.recipients}
    kinds = {str(e.kind) for e in events}
    prefs: dict[tuple[int, str], str] = {}
    who = _recipients(wanted, kinds, prefs)
    substitutes = {p.substitute_id for p in who.values() if p.away and p.substitute_id}
    if substitutes - set(who):
        who.update(_recipients(substitutes - set(who), kinds, prefs))
    rows: list[dict[str, Any]] = []
    for event in events:
        # A tick's batch is thousands of rows: what is the same for the event, once.
        kind, discreet = str(event.kind), event.discreet
        created = start_of_day(now) if discreet else now
        subject = None if discreet else event.subject
        for uid in _with_substitutes(event, who):
            person = who.get(uid)
            if person is None or not person.active:
                continue
            state = mail_state_for(
                kind, prefs.get((uid, kind)), handler=person.handler, away=person.away
            )
            pending = state == MailState.PENDING
            dedupe = _dedupe_key(event.key, uid, discreet=event.discreet)
            rows.append(
                {
                    "id": privacy.random_row_id(Notification) if discreet else None,
                    "dedupe_key": dedupe,
                    "user_id": uid,
                    "kind": kind,
                    "link": event.link,
                    "subject": subject,
                    "created_at": created,
                    "mail_state": state.value,
                    "mail_key": dedupe if pending else None,
                    "attempts": 0,
                    "next_attempt_at": now if pending else None,
                }
            )
    return insert_rows(rows)


def password_code(user: User) -> None:
    """E-mail the user the set-password code waiting for them (always, at once). The
    row holds no code: it is read, sealed, from the user's account when the e-mail is
    composed (notifications.mail.compose)."""
    notify(
        Kind.PASSWORD_CODE,
        [user.id],
        key=f"password_code:{user.id}:{secrets.token_hex(8)}",
        link="/account/set-password",
    )


# -- the outbox, for admins (never content) ---------------------------------------------


def outbox_counts() -> dict[str, int]:
    """Rows by e-mail state (every state, zero where there are none)."""
    counts = dict.fromkeys((str(s) for s in MailState), 0)
    for state, n in db.session.execute(
        select(Notification.mail_state, func.count()).group_by(Notification.mail_state)
    ):
        counts[state] = int(n)
    return counts


def backlog(now: datetime | None = None) -> dict[str, Any]:
    """What waits to be sent: how many, and the oldest's age in seconds."""
    now = now or utcnow()
    count, oldest = db.session.execute(
        select(func.count(), func.min(Notification.next_attempt_at)).where(
            Notification.mail_state == MailState.PENDING
        )
    ).one()
    age = 0
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = max(0, int((now - oldest).total_seconds()))
    return {"pending": int(count), "oldest_due_seconds": age}


def failed_rows(limit: int = 100) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.mail_state == MailState.FAILED)
            .order_by(Notification.id)
            .limit(limit)
        )
    )


def outbox_rows(state: str | None = None, limit: int = 100) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if state:
        query = query.where(Notification.mail_state == state)
    return list(db.session.scalars(query))


def retry(notification_id: int, *, now: datetime | None = None) -> Notification:
    """Send a failed row again from the next tick, with a fresh count of attempts."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.mail_state != MailState.FAILED:
        raise NotificationNotFound()
    row.mail_state = MailState.PENDING
    row.mail_key = row.mail_key or row.dedupe_key
    row.attempts = 0
    row.next_attempt_at = now or utcnow()
    row.last_error = None
    db.session.flush()
    return row


def purge_sent(older_than_days: int, *, now: datetime | None = None) -> int:
    """Delete notifications whose e-mail is done (sent, skipped, withdrawn) and that are
    older than the given number of days; they leave the in-app list too."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    result = db.session.execute(
        delete(Notification).where(
            Notification.mail_state.in_([MailState.SENT, MailState.SKIPPED, MailState.WITHDRAWN]),
            Notification.created_at < cutoff,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def forget(subjects: Collection[str], links: Collection[str]) -> int:
    """Delete every notification about these subjects or linking to these pages or a
    section of them (a case deleted under retention): the in-app entry and its e-mail,
    sent or not. A discreet row has no subject: an anonymous reporter's message is
    found by its link, "/cases/17#h-messages"."""
    if not subjects and not links:
        return 0
    condition = Notification.subject.in_(sorted(subjects)) | Notification.link.in_(sorted(links))
    for link in sorted(links):
        condition |= Notification.link.startswith(f"{link}#", autoescape=True)
    result = db.session.execute(delete(Notification).where(condition))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def forget_discreet(
    event_keys: Collection[str], kinds: Collection[Kind], users: Collection[int] | None = None
) -> int:
    """Delete the discreet rows of these events (`Event.discreet`: a hashed key, no
    subject), which `forget` cannot find when they link elsewhere than the case (an
    anonymous report's § 5-2, told to those who cannot open it; a reporter's news, at
    /my-reports). Their keys are hashed with the recipient: `users` when the caller
    knows them (the reporter), else the recipients of discreet rows of these kinds."""
    if not event_keys or not kinds:
        return 0
    if users is None:
        users = set(
            db.session.scalars(
                select(Notification.user_id)
                .where(
                    Notification.kind.in_(sorted(str(k) for k in kinds)),
                    Notification.id >= privacy.RANDOM_ID_MIN,
                )
                .distinct()
            )
        )
    hashed = sorted(
        _dedupe_key(key, uid, discreet=True) for key in set(event_keys) for uid in users
    )
    removed = 0
    for start in range(0, len(hashed), 500):
        result = db.session.execute(
            delete(Notification).where(Notification.dedupe_key.in_(hashed[start : start + 500]))
        )
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed


def forget_user(user_id: int) -> int:
    """Delete a user's notifications, preferences and profile (their data is erased)."""
    removed = 0
    for model in (Notification, NotificationPreference, NotificationProfile):
        result = db.session.execute(delete(model).where(model.user_id == user_id))
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    db.session.execute(
        update(NotificationProfile)
        .where(NotificationProfile.substitute_id == user_id)
        .values(substitute_id=None)
    )
    return removed
