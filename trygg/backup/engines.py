"""Copying a database out and in: pg_dump/pg_restore on PostgreSQL, the online backup
API on SQLite (never a file copy of a live database: it can catch a write half done).

Each `dump_*` measures the database (facts.gather) on exactly the state it copies: on
PostgreSQL the facts are read in a transaction whose snapshot pg_dump is given
(`--snapshot`); on SQLite they are read from the copy.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine

from trygg.backup.facts import Facts, gather

DUMP_FILE = {"postgresql": "database.dump", "sqlite": "trygg.db"}
# pg_dump and pg_restore may take long on a large database, but not forever.
TOOL_TIMEOUT = 6 * 3600


class BackupError(Exception):
    """The backup or restore cannot go on; the message says what to do."""


# -- PostgreSQL ---------------------------------------------------------------------------


def tool(name: str) -> str:
    """The path of a PostgreSQL client program; BackupError if it is not installed."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client programs of the server's "
            "version (Debian: postgresql-client-<major>) or put them on PATH"
        )
    return found


def tool_version(path: str) -> tuple[int, str]:
    """(major version, full version) of pg_dump or pg_restore."""
    out = subprocess.run(  # noqa: S603 - a program found on PATH, no shell
        [path, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if match is None:
        raise BackupError(f"cannot tell the version of {path} from {out.strip()!r}")
    return int(match.group(1)), match.group(0)


def server_version(connection: Connection) -> tuple[int, str]:
    number = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    return number // 10000, str(connection.execute(text("SHOW server_version")).scalar_one())


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - arguments built here, no shell
            command, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{Path(command[0]).name} did not finish in time") from None
    if result.returncode != 0:
        detail = " ".join(result.stderr.strip().splitlines()[-3:])
        raise BackupError(f"{Path(command[0]).name} failed: {detail}")


def dump_postgres(engine: Engine, out_file: Path) -> tuple[Facts, dict[str, str]]:
    """pg_dump in custom format of the snapshot the facts were read in."""
    pg_dump = tool("pg_dump")
    major, version = tool_version(pg_dump)
    uri, env = _libpq(engine.url)
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        server_major, server = server_version(connection)
        if major < server_major:
            raise BackupError(
                f"pg_dump {version} cannot dump PostgreSQL {server}: install pg_dump "
                f"{server_major} or newer"
            )
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = gather(connection)
        command = [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"]
        _run([*command, f"--file={out_file}", f"--dbname={uri}"], env)
    return facts, {"pg_dump": version, "server": server}


def restore_postgres(engine: Engine, dump_file: Path, dumped_by: str) -> None:
    """pg_restore into the (empty) database, in one transaction: all or nothing."""
    pg_restore = tool("pg_restore")
    major, version = tool_version(pg_restore)
    wanted = int(dumped_by.split(".")[0]) if dumped_by else 0
    if major < wanted:
        raise BackupError(
            f"pg_restore {version} cannot read a dump made by pg_dump {dumped_by}: install "
            f"pg_restore {wanted} or newer"
        )
    uri, env = _libpq(engine.url)
    # Owned by the user restoring (the new server's), all or nothing.
    command = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--single-transaction", "--no-password", f"--dbname={uri}", str(dump_file)]
    _run(command, env)


# -- SQLite -------------------------------------------------------------------------------


def sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> None:
    """The online backup API: one consistent copy, even while others write."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # The copy is one self-contained file (the source's WAL mode would need two).
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def dump_sqlite(engine: Engine, out_file: Path) -> tuple[Facts, dict[str, str]]:
    """Copy the database with the backup API, then read the facts from the copy."""
    _copy_sqlite(sqlite_path(engine), out_file)
    copy = create_engine(f"sqlite:///{out_file}")
    try:
        with copy.connect() as connection:
            facts = gather(connection)
    finally:
        copy.dispose()
    return facts, {"sqlite": sqlite3.sqlite_version}


def restore_sqlite(engine: Engine, backup_file: Path) -> None:
    engine.dispose()
    target = sqlite_path(engine)
    if not target.exists():
        # Private from the start: it holds users' names in clear.
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    _copy_sqlite(backup_file, target)


# -- either -------------------------------------------------------------------------------


def is_empty(engine: Engine) -> bool:
    """No tables at all (a database just created, or an SQLite file not there yet)."""
    if engine.dialect.name == "sqlite" and not sqlite_path(engine).exists():
        return True
    with engine.connect() as connection:
        return not inspect(connection).get_table_names()


def wipe(engine: Engine) -> None:
    """Empty a database a failed restore wrote into, so it is as it was before."""
    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = sqlite_path(engine)
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    with engine.begin() as connection:
        preparer = connection.dialect.identifier_preparer
        for name in inspect(connection).get_table_names():
            connection.execute(text(f"DROP TABLE IF EXISTS {preparer.quote(name)} CASCADE"))
        for name in inspect(connection).get_sequence_names():
            connection.execute(text(f"DROP SEQUENCE IF EXISTS {preparer.quote(name)}"))
