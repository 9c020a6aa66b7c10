"""The audit log's two tables: the entries and the one-row head."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trygg.extensions import UTCDateTime, db, utcnow

GENESIS = "0" * 64
# Written as the seal when an append finds the head's seal broken: a value no HMAC has,
# so the break is carried forward instead of being sealed over.
BROKEN_SEAL = "broken"


class AuditEntry(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_entry"
    # One object's history (a case's access history) without walking the whole log.
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Entries written since retention (0013) are *erasable*: the hash covers `body`, a
    # salted SHA-256 of actor and detail, instead of actor and detail themselves.
    # Erasing (retention) replaces actor and detail and drops the salt; the chain
    # still verifies through `body`, and without the salt the erased values cannot be
    # guessed back from it.
    salt: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(String(64))

    def detail_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.detail))


class AuditHead(db.Model):  # type: ignore[name-defined]
    """One row: the number and hash of the newest entry, and their seal."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    # HMAC of (seq, last_hash) under a key from the keyring; None before the first entry
    # (and in a database upgraded from before seals, until `trygg audit seal`).
    seal: Mapped[str | None] = mapped_column(String(64))


# The actor of an erased entry (its detail is "{}" and its salt gone).
ERASED_ACTOR = "erased"
