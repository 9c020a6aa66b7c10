"""Appending to the chain: the queue in the session, and the append at commit.

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

import secrets
import weakref
from typing import Any

from sqlalchemy import bindparam, event, insert, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from trygg.audit.hashing import _next_seal, body_digest, digest, erasable_digest
from trygg.audit.models import GENESIS, AuditEntry, AuditHead
from trygg.extensions import db

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
