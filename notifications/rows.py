"""Writing a batch of notification rows: one statement, skipping any whose dedupe key
exists (the same event again). `service.notify_many` builds the rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text

from notifications.models import Notification
from trygg import privacy
from trygg.database import insert_or_ignore
from trygg.extensions import db


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
    statement = insert_or_ignore(table, key=["dedupe_key"])
    given = [r for r in rows if r["id"] is not None]
    generated = _without_ids([r for r in rows if r["id"] is None])
    written = 0
    if given:
        written += connection.execute(statement, given).rowcount or 0
    if generated:
        # PostgreSQL: the whole batch as one statement over one JSON parameter (a tick
        # may write thousands of rows; one INSERT per row costs ten times more, and
        # column arrays cost psycopg more to adapt, value by value, than the server
        # takes to insert them).
        payload = json.dumps(generated, default=_json_value, separators=(",", ":"))
        written += connection.execute(_RECORDSET, {"rows": payload}).rowcount or 0
    return written


_COLUMN_TYPES = {
    "dedupe_key": "varchar",
    "user_id": "integer",
    "kind": "varchar",
    "link": "varchar",
    "subject": "varchar",
    "created_at": "timestamptz",
    "mail_state": "varchar",
    "mail_key": "varchar",
    "attempts": "smallint",
    "next_attempt_at": "timestamptz",
}
# Built from the constant column names above, never from input.
_RECORDSET = text(
    f"INSERT INTO notification ({', '.join(_COLUMN_TYPES)}) "  # noqa: S608
    f"SELECT {', '.join(_COLUMN_TYPES)} FROM json_to_recordset(CAST(:rows AS json)) AS r("
    + ", ".join(f"{name} {kind}" for name, kind in _COLUMN_TYPES.items())
    + ") ON CONFLICT (dedupe_key) DO NOTHING"
)


_TIMESTAMPS = ("created_at", "next_attempt_at")


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without their id, timestamps as ISO text: a tick's rows share a handful
    of moments, so each is formatted once (per-value formatting was a fifth of a tick)."""
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
