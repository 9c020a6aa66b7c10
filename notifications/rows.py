"""Writing a batch of notification rows, skipping any whose dedupe key exists (the same
event again). `service.notify_many` builds the rows.

Three ways, by engine and size, all with the same result:

- SQLite: one INSERT … ON CONFLICT DO NOTHING per batch (executemany).
- PostgreSQL, a request's few rows: one INSERT … ON CONFLICT DO NOTHING over the batch
  as one JSON parameter.
- PostgreSQL, a tick's batch (`COPY_FROM` rows or more): the keys that already exist are
  read in one statement and the rest go in with a binary COPY, which takes 3,000 rows
  in about half the JSON insert's time (`python -m bench.tick`). COPY has no ON
  CONFLICT: if another transaction commits one of the same keys between the read and
  the COPY, the unique key refuses it, the COPY is rolled back to a savepoint and the
  batch goes in as a request's rows do. Never a second row, never a failed batch.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text

from notifications.models import Notification
from trygg import privacy
from trygg.database import insert_or_ignore
from trygg.extensions import db

# Batches this large (a tick's) go in with COPY on PostgreSQL.
COPY_FROM = 200

# Each column's type, as SQL names it (for json_to_recordset) and as psycopg's binary
# COPY does (which must match the column exactly).
_COLUMN_TYPES = {
    "dedupe_key": ("varchar", "varchar"),
    "user_id": ("integer", "int4"),
    "kind": ("varchar", "varchar"),
    "link": ("varchar", "varchar"),
    "subject": ("varchar", "varchar"),
    "created_at": ("timestamptz", "timestamptz"),
    "mail_state": ("varchar", "varchar"),
    "mail_key": ("varchar", "varchar"),
    "attempts": ("smallint", "int2"),
    "next_attempt_at": ("timestamptz", "timestamptz"),
}
_COLUMNS = list(_COLUMN_TYPES)
_COPY_TYPES = [binary for _sql, binary in _COLUMN_TYPES.values()]


def insert_rows(rows: list[dict[str, Any]]) -> int:
    """INSERT the rows, skipping any whose dedupe key exists (the same event again)."""
    if not rows:
        return 0
    connection = db.session.connection()
    dialect = connection.dialect.name
    table = Notification.__table__
    if dialect == "sqlite":
        # SQLite would number a row after the highest id, random ones included (see
        # trygg.privacy.new_row_id): count on below the random range instead.
        highest = int(
            connection.scalar(
                select(func.max(table.c.id)).where(table.c.id < privacy.RANDOM_ID_MIN)
            )
            or 0
        )
        for row in rows:
            if row["id"] is None:
                highest += 1
                row["id"] = highest
    given = [r for r in rows if r["id"] is not None]
    generated = [r for r in rows if r["id"] is None]
    written = 0
    if given:
        statement = insert_or_ignore(table, key=["dedupe_key"])
        written += connection.execute(statement, given).rowcount or 0
    copied = _copy(generated) if len(generated) >= COPY_FROM else None
    if copied is not None:
        written += copied
    elif generated:
        # One statement over one JSON parameter: column arrays cost psycopg more to
        # adapt, value by value, than the server takes to insert them.
        payload = json.dumps(_without_ids(generated), default=_json_value, separators=(",", ":"))
        written += connection.execute(_RECORDSET, {"rows": payload}).rowcount or 0
    return written


def _copy(rows: list[dict[str, Any]]) -> int | None:
    """COPY the rows whose dedupe key is not stored yet (see the module's docstring);
    None, with nothing written, when another transaction stored one of them meanwhile."""
    from psycopg.errors import UniqueViolation

    connection = db.session.connection()
    keys = json.dumps([row["dedupe_key"] for row in rows])
    seen = set(connection.scalars(_STORED_KEYS, {"keys": keys}))
    new = []
    for row in rows:  # the first of a key, as ON CONFLICT DO NOTHING would keep
        if row["dedupe_key"] not in seen:
            seen.add(row["dedupe_key"])
            new.append(row)
    columns = ", ".join(_COLUMNS)
    driver: Any = connection.connection.driver_connection  # psycopg's, for its COPY
    savepoint = connection.begin_nested()
    try:
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY notification ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            # Binary: no text to format and parse (3,000 rows in about 70 % of the time).
            copy.set_types(_COPY_TYPES)
            for row in new:
                copy.write_row([row[name] for name in _COLUMNS])
    except UniqueViolation:
        savepoint.rollback()
        return None
    savepoint.commit()
    return len(new)


_STORED_KEYS = text(
    "SELECT n.dedupe_key FROM notification AS n "
    "JOIN json_array_elements_text(CAST(:keys AS json)) AS k(key) ON n.dedupe_key = k.key"
)
# Built from the constant column names above, never from input.
_RECORDSET = text(
    f"INSERT INTO notification ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"SELECT {', '.join(_COLUMNS)} FROM json_to_recordset(CAST(:rows AS json)) AS r("
    + ", ".join(f"{name} {kind}" for name, (kind, _binary) in _COLUMN_TYPES.items())
    + ") ON CONFLICT (dedupe_key) DO NOTHING"
)


_TIMESTAMPS = ("created_at", "next_attempt_at")


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without their id, timestamps as ISO text: a batch's rows share a handful
    of moments, so each is formatted once."""
    formatted: dict[datetime, str] = {}
    out = []
    for row in rows:
        row = {k: v for k, v in row.items() if k != "id"}
        for name in _TIMESTAMPS:
            value = row[name]
            if value is not None:
                text_value = formatted.get(value)
                if text_value is None:
                    text_value = formatted[value] = _json_value(value)
                row[name] = text_value
        out.append(row)
    return out


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    raise TypeError(f"{type(value).__name__} is not a notification column's type")
