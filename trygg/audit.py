"""Append-only, hash-chained audit log.

Each entry records who did what to which object, and when; never content. Its hash
covers its own fields and the previous entry's hash, so altering or deleting any row
breaks the chain from there on; `trygg audit verify` finds the first broken entry.

Appends are serialised through the single `audit_head` row: the first statement of an
append is an UPDATE of that row, which takes a row lock on PostgreSQL and the write lock
on SQLite, so two transactions can never chain onto the same predecessor.

The head's hash is written lazily: an append remembers its entry's hash in the session,
and the next append's UPDATE (or one UPDATE just before commit) writes it. The
remembered hashes are keyed by sequence number and applied only where the head's
number still matches, so a savepoint rolled back in between cannot chain onto an
entry that no longer exists.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask import Flask, g, has_request_context
from flask.cli import AppGroup
from sqlalchemy import Integer, String, Text, case, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from trygg.extensions import UTCDateTime, db, utcnow

GENESIS = "0" * 64


class AuditEntry(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def detail_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.detail))


class AuditHead(db.Model):  # type: ignore[name-defined]
    """One row: the number and hash of the newest entry."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def _digest(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    body = json.dumps(
        [seq, at.isoformat(), actor, action, object_type, object_id, detail, prev_hash],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


# session.info key: {seq: hash} of entries appended in this transaction whose hash may
# not be in the head row yet.
_UNWRITTEN = "trygg.audit.unwritten_head"


def _head_hash(unwritten: dict[int, str]) -> Any:
    """The head's last_hash as it should be: the remembered hash of its current seq."""
    table = AuditHead.__table__
    if not unwritten:
        return table.c.last_hash
    return case(unwritten, value=table.c.seq, else_=table.c.last_hash)


def write_head(session: Session | None = None) -> None:
    """Write the remembered hash of the newest entry into the head row (before commit)."""
    session = db.session() if session is None else session
    unwritten = session.info.pop(_UNWRITTEN, None)
    if unwritten:
        table = AuditHead.__table__
        session.execute(
            update(table).where(table.c.id == 1).values(last_hash=_head_hash(unwritten))
        )


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_head(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (and written) or rolled back: forget
        session.info.pop(_UNWRITTEN, None)


def actor_label(user: Any) -> str:
    """How an actor is named in the log: a user id, never a name or e-mail."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"user:{user.id}"


def leave_out_of_chain() -> None:
    """before_request for the anonymous link: this request writes nothing to the chain.

    The chain is sequential: an entry's place among staff entries with exact times would
    date an anonymous reporter's action within the day, which the link promises never
    to keep. What they do is recorded in the case's own timeline instead, dated to the
    day and under random ids. Staff actions never run inside such a request.
    """
    g.audit_left_out = True


def record(
    action: str,
    *,
    actor: str,
    object_type: str,
    object_id: object = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry | None:
    """Append one entry in the current transaction.

    `detail` is for identifiers and codes only (a role name, a field name), never for
    content. `at` lets callers set the time (coarsened for anonymous reports). Inside a
    request marked by `leave_out_of_chain` nothing is written and None is returned.
    """
    if has_request_context() and g.get("audit_left_out"):
        return None
    session = db.session()
    unwritten: dict[int, str] = session.info.get(_UNWRITTEN) or {}
    # One round trip, through the table (Core), not the ORM's bulk-update path: the head
    # stays locked from here to commit, and every submission waits for it. The same
    # UPDATE writes the previous append's hash, if this transaction made one.
    table = AuditHead.__table__
    head = session.execute(
        update(table)
        .where(table.c.id == 1)
        .values(seq=table.c.seq + 1, last_hash=_head_hash(unwritten))
        .returning(table.c.seq, table.c.last_hash)
    ).one_or_none()
    if head is None:
        session.execute(insert(AuditHead).values(id=1, seq=1, last_hash=GENESIS))
        seq, prev_hash = 1, GENESIS
    else:
        seq, prev_hash = head
    when = (at or utcnow()).replace(microsecond=0)
    detail_json = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"))
    oid = None if object_id is None else str(object_id)
    digest = _digest(seq, when, actor, action, object_type, oid, detail_json, prev_hash)
    entry = AuditEntry(
        seq=seq,
        at=when,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=oid,
        detail=detail_json,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(entry)
    # Outside a savepoint nothing can roll the head back to an earlier entry, so only
    # the newest hash need be remembered; inside one, keep the earlier ones too.
    if not session.in_nested_transaction():
        unwritten = {}
    unwritten[seq] = digest
    session.info[_UNWRITTEN] = unwritten
    return entry


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify(batch: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain; return (entries checked, the first break or None)."""
    write_head()
    expected_seq = 1
    prev = GENESIS
    checked = 0
    last_seen = 0
    while True:
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seen)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return checked, ChainBreak(expected_seq, "entry is missing (deleted)")
            if row.prev_hash != prev:
                return checked, ChainBreak(row.seq, "does not chain to the previous entry")
            digest = _digest(
                row.seq,
                row.at,
                row.actor,
                row.action,
                row.object_type,
                row.object_id,
                row.detail,
                row.prev_hash,
            )
            if digest != row.hash:
                return checked, ChainBreak(row.seq, "was altered (hash mismatch)")
            prev = row.hash
            expected_seq += 1
            checked += 1
        last_seen = rows[-1].seq
    head = db.session.get(AuditHead, 1, populate_existing=True)  # record() updates via Core
    if head is not None and head.seq >= expected_seq:
        return checked, ChainBreak(expected_seq, "entry is missing (deleted)")
    if head is not None and head.seq and head.last_hash != prev:
        return checked, ChainBreak(head.seq, "head does not match the last entry")
    return checked, None


def for_object(object_type: str, object_id: object, limit: int = 200) -> list[AuditEntry]:
    """The newest entries about one object, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
    )


audit_cli = AppGroup("audit", help="Inspect the audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check the hash chain; exit 1 naming the first broken entry."""
    checked, broken = verify()
    if broken:
        click.echo(f"audit chain broken at entry {broken.seq}: {broken.reason}", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {checked} entries")


def init_app(app: Flask) -> None:
    """Register the `audit` CLI group."""
    app.cli.add_command(audit_cli)
