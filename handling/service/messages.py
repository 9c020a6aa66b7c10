"""Messages between handlers and the reporter, and internal notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
)

from handling import notices
from handling.errors import CaseError
from handling.models import (
    Case,
    CaseMessage,
    CaseReading,
)
from handling.service.base import TEXT_MAX, _audit, _event, _key, _now, _row_id, oslo_day
from handling.states import Side
from reporting import service as reporting
from trygg import crypto, keys, sealing
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.formatting import format_count
from trygg.i18n import lazy_gettext as _l

# -- messages ---------------------------------------------------------------------------


@dataclass
class MessageView:
    id: int
    author_kind: str
    author_user_id: int | None
    author_name: str | None
    internal: bool
    identity: bool
    body: str
    created_at: datetime

    @property
    def day(self) -> date:
        """The Oslo day it was written: all an anonymous reporter's messages keep."""
        return oslo_day(self.created_at)


def _store_message(
    case: Case,
    author: User | None,
    body: str,
    *,
    internal: bool,
    now: datetime,
    identity: bool = False,
) -> CaseMessage:
    anonymous = author is None and case.report.anonymous
    message = CaseMessage(
        # An anonymous reporter's messages are numbered among their own only.
        id=_row_id(case, CaseMessage, unordered=anonymous),
        case_id=case.id,
        author_kind=Side.REPORTER if author is None else Side.HANDLER,
        author_user_id=None if author is None else author.id,
        internal=internal,
        identity=identity,
        reporter_seq=_next_reporter_seq(case) if anonymous else None,
        body_sealed=b"",
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    message.body_sealed = sealing.seal(_key(case), message, "body", body)
    db.session.flush()
    return message


def _next_reporter_seq(case: Case) -> int:
    highest = db.session.scalar(
        select(func.max(CaseMessage.reporter_seq)).where(CaseMessage.case_id == case.id)
    )
    return int(highest or 0) + 1


def _message_text(body: str | None) -> str:
    """The message as it is kept; CaseError when empty or too long."""
    text = (body or "").strip()
    if not text:
        raise CaseError(_l("Write a message."), "body")
    if len(text) > TEXT_MAX:
        raise CaseError(_l("Use at most %(n)s characters.", n=format_count(TEXT_MAX)), "body")
    return text


def post_message(
    case: Case,
    author: User | None,
    body: str,
    internal: bool = False,
    *,
    actor: str | None = None,
    now: datetime | None = None,
    identity: bool = False,
) -> CaseMessage:
    """A message from a handler (`author`) or, with author None, from the reporter.

    Internal notes are for handlers only; the reporter cannot write one. `actor` labels
    the reporter in the log (reporting.service.reporter_actor); default "reporter".
    `identity`: the reporter says who they are in it (see post_anonymous_message).
    """
    text = _message_text(body)
    if author is None and internal:
        raise CaseError(_l("Only case handlers can write internal notes."), "internal")
    if author is not None and identity:
        raise CaseError(_l("Only the reporter can say who they are."), "identity")
    now = _now(now)
    anonymous = author is None and case.report.anonymous
    if anonymous:
        # When an anonymous reporter is active says something about who they are.
        now = reporting.start_of_day_utc(now)
    label = actor_label(author) if author is not None else (actor or "reporter")
    message = _store_message(case, author, text, internal=internal, now=now, identity=identity)
    kind = Side.HANDLER if author is not None else Side.REPORTER
    flags: dict[str, Any] = {"identity": True} if identity else {}
    _event(case, "message", label, now, author=kind, internal=internal, message=message.id, **flags)
    _audit(
        "case.message",
        label,
        case,
        at=now,
        message=message.id,
        author=kind,
        internal=internal,
        **flags,
    )
    # The day must not move the case's last change back to midnight.
    case.updated_at = max(case.updated_at, now) if anonymous else now
    db.session.flush()
    if author is None:
        notices.reporter_wrote(case, f"message:{message.id}", section="h-messages")
    elif not internal:
        notices.reporter_has_news(case, f"message:{message.id}")
    return message


def _conversation_order(message: CaseMessage) -> tuple[Any, ...]:
    """Reading order of an anonymous case's messages.

    The reporter's messages keep only their day, so within a day they come after the
    handlers' (an answer usually follows the question), in the order they were written.
    """
    day = oslo_day(message.created_at)
    by_reporter = message.author_kind == Side.REPORTER
    return (day, by_reporter, message.reporter_seq or 0, message.created_at, message.id)


def public_message_id(case: Case, message_id: int) -> int:
    """The id a reporter sees for a message: keyed-hash, stable, and unrelated to the
    row id, so gaps between the reporter's messages cannot tell that internal notes
    (which share the id sequence) were written between them."""
    digest = crypto.keyed_hash(
        keys.keyring().derive("message-public-id"), f"{case.id}:{message_id}"
    )
    return int(digest[:12], 16)


def _message_views(case: Case, *, viewer: str) -> list[MessageView]:
    """The case's messages opened, each with its author's name (read with the messages,
    not one query per author)."""
    query = (
        select(CaseMessage, User.name)
        .outerjoin(User, User.id == CaseMessage.author_user_id)
        .where(CaseMessage.case_id == case.id)
        .order_by(CaseMessage.id)
    )
    if viewer != Side.HANDLER:
        query = query.where(CaseMessage.internal.is_(False))
    key = _key(case)
    out = []
    rows = list(db.session.execute(query).all())
    if case.report.anonymous:
        rows.sort(key=lambda row: _conversation_order(row[0]))
    for message, name in rows:
        author_id = message.author_user_id if viewer == Side.HANDLER else None
        out.append(
            MessageView(
                id=message.id if viewer == Side.HANDLER else public_message_id(case, message.id),
                author_kind=message.author_kind,
                author_user_id=author_id,
                author_name=(name or "") if author_id is not None else None,
                internal=message.internal,
                identity=message.identity,
                body=sealing.open_text(key, message, "body", message.body_sealed),
                created_at=message.created_at,
            )
        )
    return out


def record_read(case: Case, actor: str, *, part: str, level: str) -> None:
    """A response carries decrypted case content (an echo of what was just stored, a
    task's note): the same "case.read" entry as opening the case, in its access history.
    An anonymous reporter's reading keeps only its day."""
    at = reporting.start_of_day_utc() if level == "reporter" and case.report.anonymous else None
    _audit("case.read", actor, case, at=at, part=part, level=level)


def messages_for(
    case: Case, viewer: str, *, actor: str, reader: User | None = None
) -> list[MessageView]:
    """The case's messages as "handler" (with internal notes) or "reporter" sees them.

    Writes a "case.read" audit entry (part "messages"). The caller has checked access.
    A handler `reader` has now seen the reporter's messages (the queue's unread count).
    """
    if viewer not in {Side.HANDLER, Side.REPORTER}:
        raise ValueError(viewer)
    at = reporting.start_of_day_utc() if viewer == Side.REPORTER and case.report.anonymous else None
    _audit("case.read", actor, case, at=at, part="messages", level=viewer)
    views = _message_views(case, viewer=viewer)
    if reader is not None and viewer == Side.HANDLER:
        mark_read(case, reader, views)
    return views


def mark_read(case: Case, reader: User, views: list[MessageView]) -> None:
    """The handler has seen every reporter message in `views` (the queue's unread count)."""
    seen = sum(1 for v in views if v.author_kind == Side.REPORTER)
    row = db.session.get(CaseReading, (case.id, reader.id))
    if row is None:
        db.session.add(CaseReading(case_id=case.id, user_id=reader.id, reporter_messages_seen=seen))
    elif row.reporter_messages_seen != seen:
        row.reporter_messages_seen = seen
