"""The floor to compare against: a bare WSGI function that stores the body in one row.

Served by gunicorn like the app. One psycopg connection per worker process, opened
after the fork on first use; each request is one INSERT and one COMMIT.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

_conn: psycopg.Connection[Any] | None = None

CREATE = "CREATE TABLE IF NOT EXISTS bench_row (id serial PRIMARY KEY, body text NOT NULL)"


def _connection() -> psycopg.Connection[Any]:
    global _conn  # noqa: PLW0603 - one connection per worker process
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BENCH_PG_DSN"])
    return _conn


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """POST: insert the body as one text row; answer 201 with its id."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length).decode("utf-8")
    conn = _connection()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO bench_row (body) VALUES (%s) RETURNING id", (body,))
        row = cur.fetchone()
    conn.commit()
    out = json.dumps({"id": row[0] if row else None}).encode()
    start_response(
        "201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))]
    )
    return [out]
