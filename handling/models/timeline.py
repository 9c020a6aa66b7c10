"""A case's conversation (messages and internal notes) and its timeline of events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from trygg.extensions import UTCDateTime, db, utcnow


class CaseMessage(db.Model):  # type: ignore[name-defined]
    """A message between handler and reporter, or a handler's internal note."""

    __tablename__ = "case_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    # "handler" or "reporter"
    author_kind: Mapped[str] = mapped_column(String(10))
    # The handler who wrote it; never set for the reporter (that would link them).
    # Indexed: deleting an account sets it to NULL in every message it wrote.
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # The reporter says who they are in this message (an anonymous reporter may choose
    # to, later; it cannot be taken back).
    identity: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An anonymous reporter's messages are dated to the day and have random ids, so
    # nothing places them among the handlers' timed messages; this numbers them among
    # their own (1, 2, ...), which is all the order a conversation needs.
    reporter_seq: Mapped[int | None] = mapped_column(SmallInteger)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseEvent(db.Model):  # type: ignore[name-defined]
    """One line of a case's timeline: what happened, as codes; never content."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    codes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # An audit-style label: "user:42", "reporter", "system".
    actor: Mapped[str] = mapped_column(String(64))
