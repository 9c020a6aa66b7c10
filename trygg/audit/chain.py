"""Append-only, hash-chained audit log with a sealed head.

Each entry records who did what to which object, and when; never content. Its hash
covers its own fields and the previous entry's hash, so altering or deleting any row
breaks the chain from there on; `trygg audit verify` (trygg/audit_check.py) finds the
first broken entry.

The head (the newest entry's number and hash) carries a *seal*: an HMAC under a key
derived from the keyring, which is not in the database. Someone who can write to the
database but has no keyring can neither cut entries off the end nor rewrite the tail
with fresh hashes without the seal showing it; an append never seals a head whose seal
did not match (it carries the break forward). What the seal cannot show is the head put
back as it was at an earlier moment (row and seal copied then), with the later entries
deleted: for that the operator logs `trygg audit head` elsewhere, and `trygg audit verify
--anchor SEQ:HASH` checks the chain still holds that entry. README.md ("The audit log")
lists what is and is not detected.

Entries are queued in the session and appended together just before commit (or
before a query in the same transaction reads the log). The append is serialised
through the single `audit_head` row: an UPDATE of that row takes a row lock on
PostgreSQL and the write lock on SQLite, so two transactions never chain onto the same
predecessor, and the lock is held only for the last statements of the transaction.
On PostgreSQL the entries and the head's new hash go out in one statement; a batch costs
two round trips whatever its size.

A savepoint rolled back drops the entries queued inside it, so the chain never records
work that was undone; releasing a savepoint appends nothing. Entries are numbered in
commit order and carry the time they were recorded, so within a busy second `at` need
not rise along the chain. A query of AuditEntry or AuditHead through the ORM in the same
transaction appends the queue first; raw SQL on the tables does not.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import weakref
from datetime import datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import (
    Index,
    Integer,
    String,
    Text,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, mapped_column

from trygg import crypto, keys
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


def digest(
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


def body_digest(salt: str, actor: str, detail: str) -> str:
    """An erasable entry's actor and detail, salted: what its hash covers instead."""
    body = json.dumps([salt, actor, detail], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(body.encode()).hexdigest()


def erasable_digest(
    seq: int,
    at: datetime,
    action: str,
    object_type: str,
    object_id: str | None,
    body: str,
    prev_hash: str,
) -> str:
    """The hash of an erasable entry (see AuditEntry.body)."""
    text_ = json.dumps(
        ["v2", seq, at.isoformat(), action, object_type, object_id, body, prev_hash],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(text_.encode()).hexdigest()


def entry_hash(row: Any) -> str:
    """The hash an entry (a row of audit_entry) should have: erasable or not."""
    body = getattr(row, "body", None)
    if body is None:
        return digest(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.object_type,
            row.object_id,
            row.detail,
            row.prev_hash,
        )
    return erasable_digest(
        row.seq, row.at, row.action, row.object_type, row.object_id, body, row.prev_hash
    )


def body_matches(row: Any) -> bool:
    """Whether an erasable entry's actor and detail are those its hash covers (an
    erased entry has no salt: nothing left to compare)."""
    salt = getattr(row, "salt", None)
    body = getattr(row, "body", None)
    if body is None:
        return True
    if salt is None:  # erased: nothing may stand in the place of what was erased
        return bool(row.actor == ERASED_ACTOR and row.detail == "{}")
    return body_digest(salt, row.actor, row.detail) == body


ERASED_ACTOR = "erased"


def erase(object_type: str, object_id: object) -> int:
    """Erase actor and detail of every erasable entry about one object (retention).

    The entries stay, with action, object and time, so the chain still verifies and
    still shows that something happened; who did it and the details are gone. Returns
    the number of entries erased.
    """
    write_pending()
    table = AuditEntry.__table__
    result = db.session.execute(
        update(table)
        .where(
            table.c.object_type == object_type,
            table.c.object_id == str(object_id),
            table.c.body.is_not(None),
            table.c.salt.is_not(None),
        )
        .values(actor=ERASED_ACTOR, detail="{}", salt=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def unerasable(object_type: str, object_id: object) -> int:
    """Entries about an object written before entries were erasable (kept whole)."""
    write_pending()
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.object_type == object_type,
                AuditEntry.object_id == str(object_id),
                AuditEntry.body.is_(None),
                AuditEntry.actor != ERASED_ACTOR,
            )
        )
        or 0
    )


_SEAL_KEYS: dict[bytes, bytes] = {}


def _seal_key() -> bytes:
    """The key of the head's seal, derived from the keyring's lookup secret (never
    rotated, so key rotation leaves seals valid). Cached: deriving costs more than
    sealing."""
    secret = keys.keyring().lookup_secret
    key = _SEAL_KEYS.get(secret)
    if key is None:
        key = _SEAL_KEYS[secret] = keys.keyring().derive("audit-head")
    return key


def head_seal(seq: int, last_hash: str, key: bytes | None = None) -> str:
    """The seal of a head: HMAC-SHA256 under a key the database does not hold."""
    return crypto.keyed_hash(key or _seal_key(), f"audit-head:{seq}:{last_hash}")


def seal_matches(seq: int, last_hash: str, seal: str | None, key: bytes | None = None) -> bool:
    """Whether a head is sealed as it should be (an empty chain needs no seal)."""
    if seq == 0 and last_hash == GENESIS:
        return True
    return seal is not None and crypto.constant_time_equals(seal, head_seal(seq, last_hash, key))


def _next_seal(old: tuple[int, str, str | None], seq: int, last_hash: str) -> str | None:
    """The new head's seal: a fresh one only if the old head's seal held.

    Otherwise the break is carried forward (no seal stays no seal, for a database that
    was never sealed), so appending can never make a tampered chain look whole.
    """
    key = _seal_key()
    if seal_matches(*old, key=key):
        return head_seal(seq, last_hash, key)
    return None if old[2] is None else BROKEN_SEAL


# session.info keys: the entries queued in this transaction (dicts without seq and
# hashes), how many of them are appended already (a reader of the log in the same
# transaction appends early), and for each open savepoint both numbers when it began.
# Only the outermost commit appends the rest: releasing a savepoint is not a commit.
_PENDING = "trygg.audit.pending"
_WRITTEN = "trygg.audit.written"
_MARKS = "trygg.audit.savepoint_marks"


def write_pending(session: Session | None = None) -> None:
    """Append the queued entries to the chain now (commit and readers call this)."""
    session = db.session() if session is None else session
    queue: list[dict[str, Any]] | None = session.info.get(_PENDING)
    written: int = session.info.get(_WRITTEN, 0)
    if not queue or written >= len(queue):
        return
    pending = queue[written:]
    session.info[_WRITTEN] = len(queue)
    connection = session.connection()
    append(connection, pending, erasable=_has_erasable_entries(connection))


# Engines whose audit_entry has salt and body (0013). Only the answer yes is kept: a
# database is upgraded, never downgraded, under a running app.
_ERASABLE_ENGINES: weakref.WeakSet[Any] = weakref.WeakSet()


def _has_erasable_entries(connection: Connection) -> bool:
    """Whether the schema has erasable entries: always, at the migrations' head; a
    database at an older revision (a test, an upgrade half done) gets entries as before."""
    engine = connection.engine
    if engine in _ERASABLE_ENGINES:
        return True
    columns = {c["name"] for c in sa_inspect(connection).get_columns("audit_entry")}
    if "body" not in columns:
        return False
    _ERASABLE_ENGINES.add(engine)
    return True


def append(connection: Connection, pending: list[dict[str, Any]], *, erasable: bool = True) -> None:
    """Append entries (dicts as `record` queues them) to the chain over `connection`,
    numbered, hashed and sealed. write_pending uses it; so does a migration that must
    record what it changed (`erasable=False` before the table had salt and body)."""
    head = connection.execute(_BUMP_HEAD, {"count": len(pending)}).one_or_none()
    if head is None:  # the migration creates the row; a hand-made database may lack it
        table = AuditHead.__table__
        connection.execute(insert(table).values(id=1, seq=len(pending), last_hash=GENESIS))
        last, prev, old_seal = len(pending), GENESIS, None
    else:
        last, prev, old_seal = head
    seq = last - len(pending)
    old = (seq, prev, old_seal)
    rows = []
    for entry in pending:
        seq += 1
        if erasable:
            salt = secrets.token_hex(16)
            body = body_digest(salt, entry["actor"], entry["detail"])
            at, kind, oid = entry["at"], entry["object_type"], entry["object_id"]
            new_hash = erasable_digest(seq, at, entry["action"], kind, oid, body, prev)
            rows.append({**entry, "seq": seq, "prev_hash": prev, "hash": new_hash})
            rows[-1].update(salt=salt, body=body)
        else:
            new_hash = digest(
                seq,
                entry["at"],
                entry["actor"],
                entry["action"],
                entry["object_type"],
                entry["object_id"],
                entry["detail"],
                prev,
            )
            rows.append({**entry, "seq": seq, "prev_hash": prev, "hash": new_hash})
        prev = new_hash
    head_values = {"head_hash": prev, "head_seal": _next_seal(old, seq, prev)}
    if connection.dialect.name == "postgresql" and erasable:
        # One round trip, one statement whatever the batch size (so it is prepared once):
        # a data-modifying CTE inserts the entries from arrays, the UPDATE sets the head.
        columns = {key: [row[key] for row in rows] for key in rows[0]}
        connection.execute(_APPEND_POSTGRESQL, {**columns, **head_values})
    else:
        statement = _INSERT_ENTRIES if erasable else insert(table_without_body(connection))
        connection.execute(statement, rows)
        connection.execute(_SET_HEAD_HASH, head_values)


# Built once: reused statement objects skip SQLAlchemy's per-call construction and keys.
_BUMP_HEAD = (
    update(AuditHead.__table__)
    .where(AuditHead.__table__.c.id == 1)
    .values(seq=AuditHead.__table__.c.seq + bindparam("count"))
    .returning(
        AuditHead.__table__.c.seq, AuditHead.__table__.c.last_hash, AuditHead.__table__.c.seal
    )
)
_SET_HEAD_HASH = (
    update(AuditHead.__table__)
    .where(AuditHead.__table__.c.id == 1)
    .values(last_hash=bindparam("head_hash"), seal=bindparam("head_seal"))
)
_INSERT_ENTRIES = insert(AuditEntry.__table__)


def table_without_body(connection: Connection) -> Any:
    """audit_entry as it was before entries were erasable (for older migrations)."""
    from sqlalchemy import MetaData, Table

    return Table("audit_entry", MetaData(), autoload_with=connection)


_APPEND_POSTGRESQL = text(
    "WITH new_entries AS ("
    " INSERT INTO audit_entry"
    " (seq, at, actor, action, object_type, object_id, detail, prev_hash, hash, salt, body)"
    " SELECT * FROM unnest("
    "CAST(:seq AS integer[]), CAST(:at AS timestamptz[]), CAST(:actor AS varchar[]),"
    " CAST(:action AS varchar[]), CAST(:object_type AS varchar[]),"
    " CAST(:object_id AS varchar[]), CAST(:detail AS text[]), CAST(:prev_hash AS varchar[]),"
    " CAST(:hash AS varchar[]), CAST(:salt AS varchar[]), CAST(:body AS varchar[])))"
    " UPDATE audit_head SET last_hash = :head_hash, seal = :head_seal WHERE id = 1"
)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # releasing a savepoint: the outermost commit appends
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _before_reading_the_log(state: ORMExecuteState) -> None:
    # A query in the same transaction sees the entries queued so far.
    if (
        state.is_select
        and _PENDING in state.session.info
        and any(m.class_ in (AuditEntry, AuditHead) for m in state.all_mappers)
    ):
        write_pending(state.session)


@event.listens_for(Session, "after_transaction_create")
def _savepoint_began(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_MARKS, {})
        marks[transaction] = (len(session.info.get(_PENDING) or ()), session.info.get(_WRITTEN, 0))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    marks = session.info.get(_MARKS) or {}
    if previous_transaction in marks:  # a savepoint: drop what was queued inside it
        queued_before, written_before = marks.pop(previous_transaction)
        pending = session.info.get(_PENDING)
        if pending is not None:
            del pending[queued_before:]
        # What was appended inside the savepoint was undone with it: append it again.
        session.info[_WRITTEN] = min(session.info.get(_WRITTEN, 0), written_before)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (and written) or rolled back: forget
        session.info.pop(_PENDING, None)
        session.info.pop(_WRITTEN, None)
        session.info.pop(_MARKS, None)


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
) -> None:
    """Queue one entry, to be appended to the chain when the transaction commits.

    `detail` is for identifiers and codes only (a role name, a field name), never for
    content. `at` lets callers set the time (coarsened for anonymous reports). Inside a
    request marked by `leave_out_of_chain` nothing is written.
    """
    if has_request_context() and g.get("audit_left_out"):
        return
    session = db.session()
    if not session.in_transaction():
        # Begin (no database work yet), so that a rollback before anything else is done
        # also drops this entry.
        session.begin()
    when = (at or utcnow()).replace(microsecond=0)
    session.info.setdefault(_PENDING, []).append(
        {
            "at": when,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "detail": json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        }
    )


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
