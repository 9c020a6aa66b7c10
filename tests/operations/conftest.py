"""Fixtures for the operations proofs: PostgreSQL's client programs, empty databases.

Tests that need pg_dump and pg_restore check that they are installed and new enough for
the server; without them they skip with one line, unless REQUIRE_PG_TOOLS=1 (CI), where
they fail.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import (
    ENGINE,
    TEST_DATABASE_URL,
    _worker,
    create_postgres_database,
    drop_postgres_database,
)


def _major(program: str) -> int | None:
    out = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"\d+", out.stdout)
    return int(match.group(0)) if match else None


@functools.cache
def pg_tools_problem() -> str | None:
    """Why pg_dump/pg_restore cannot back up the test server, or None."""
    engine = create_engine(make_url(TEST_DATABASE_URL))
    try:
        with engine.connect() as connection:
            server = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()
    for name in ("pg_dump", "pg_restore"):
        path = shutil.which(name)
        if path is None:
            return f"{name} is not installed (apt-get install postgresql-client-{server})"
        major = _major(path)
        if major is None or major < server:
            return f"{name} {major} is older than the PostgreSQL {server} server"
    return None


@pytest.fixture
def pg_tools() -> None:
    """On PostgreSQL: pg_dump and pg_restore that can handle the server, or skip/fail."""
    if ENGINE != "postgres":
        return
    problem = pg_tools_problem()
    if problem is None:
        return
    if os.environ.get("REQUIRE_PG_TOOLS") == "1":
        pytest.fail(f"{problem} (REQUIRE_PG_TOOLS=1)")
    pytest.skip(f"{problem}; REQUIRE_PG_TOOLS=1 turns this skip into a failure")


def empty_database_url(tmp_path: Path, label: str) -> str:
    """A new database with nothing in it, on the engine under test."""
    if ENGINE == "postgres":
        return create_postgres_database(f"trygg_{label}_{_worker()}")
    return f"sqlite:///{tmp_path / (label + '.db')}"


def drop_database(url: str) -> None:
    if ENGINE == "postgres":
        drop_postgres_database(make_url(url).database or "")
    else:
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def recreate_empty(url: str) -> None:
    """Wipe a database completely: as if the server or disk had been lost."""
    drop_database(url)
    if ENGINE == "postgres":
        create_postgres_database(make_url(url).database or "")


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    url = empty_database_url(tmp_path, "empty" + secrets.token_hex(3))
    yield url
    drop_database(url)
