"""Engine set-up: SQLite pragmas and transactions, and the one-commit-per-request rule."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from typing import Any, TypeVar

from flask import Flask, Response
from sqlalchemy import event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

from trygg.extensions import db


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy, not the sqlite3 module, issue BEGIN (see _sqlite_begin); this also
    # makes SAVEPOINTs work, which tests rely on.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted content is overwritten with zeros (retention: deletion that really deletes).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_create_private(engine: Engine) -> None:
    """Create a new SQLite database file readable by its owner only (mode 0600).

    SQLite would create it under the process's umask (often 0644), and gives its
    write-ahead log and shared-memory files the mode of the database file.
    """
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return

    def create(*_args: Any) -> None:
        if not os.path.exists(path):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass  # another connection made it first
            except OSError:
                return  # e.g. a missing folder: let SQLite say what is wrong

    event.listen(engine, "do_connect", create)


def _sqlite_begin(conn: Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock at the start of each transaction. Readers are
    # not blocked (WAL), and writers queue on busy_timeout instead of failing with
    # SQLITE_BUSY when a read transaction later tries to write. SQLite is the single-host
    # default; PostgreSQL is the engine to scale out on.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        _sqlite_create_private(engine)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)


def commit_on_success(response: Response) -> Response:
    """after_request: one commit per request, only for successful responses.

    A 4xx or 5xx response leaves nothing half-stored; views that must keep something on
    a refusal (a failed-login counter) commit explicitly before answering.

    A request that never used the database session, or whose session has no transaction
    in progress (nothing read or written since its last commit, nothing pending: adding
    an object begins one), has nothing to commit or roll back, and is left alone.
    """
    if not db.session.registry.has():
        return response
    session = db.session()
    if not session.in_transaction():
        return response
    if response.status_code < 400:
        session.commit()
    else:
        session.rollback()
    return response


def _int32(text_value: str) -> int:
    return int.from_bytes(hashlib.sha256(text_value.encode()).digest()[:4], "big", signed=True)


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:purpose, :key)")


def lock_until_commit(purpose: str, key: str) -> None:
    """Serialise the transactions that lock the same (purpose, key), until they end.

    For check-then-count limits (failed logins, receipt guesses): with the lock taken
    before the count is read, a parallel attempt waits until this transaction has
    committed its own count, so N attempts at once cannot all pass a check of N - 1.
    PostgreSQL: a transaction-scoped advisory lock on two 32-bit hashes (two keys that
    share a hash only wait for each other). SQLite: BEGIN IMMEDIATE has already
    serialised every writing transaction, so there is nothing more to do.
    """
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADVISORY_LOCK, {"purpose": _int32(purpose), "key": _int32(key)})


def insert_or_ignore(table: Any, *, key: list[str]) -> Any:
    """An INSERT into `table` that skips a row whose `key` columns already exist
    (ON CONFLICT DO NOTHING, in the bound engine's dialect): for rows that two processes
    may write at once, such as a scheduler's once-a-day mark, where the second simply
    finds the first's row."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=key)


_M = TypeVar("_M")


def stored(model: type[_M], row: dict[str, Any]) -> _M:
    """An object for a row just INSERTed with Core, as if loaded by a query.

    For hot paths that skip the unit of work: its attributes are filled directly (no
    change events: there is nothing to write), and make_transient_to_detached gives it
    its identity, so adding it to the session makes it persistent without an INSERT.
    Columns left out of `row` and relationships load from the database when first used
    (or are set with set_committed_value).
    """
    obj: _M = sa_inspect(model).class_manager.new_instance()
    instance_dict(obj).update(row)
    make_transient_to_detached(obj)
    return obj


def init_app(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and configure its engine."""
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    app.after_request(commit_on_success)
