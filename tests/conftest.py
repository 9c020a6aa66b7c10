"""Test fixtures: a migrated database per run, rolled back after each test.

The engine is SQLite by default. With TRYGG_TEST_ENGINE=postgres (set by `make test`
for its second pass when TEST_DATABASE_URL is set) the same suite runs on PostgreSQL,
each pytest-xdist worker in its own database created from TEST_DATABASE_URL's server.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from trygg import crypto
from trygg.app import create_app
from trygg.extensions import db

ENGINE = os.environ.get("TRYGG_TEST_ENGINE", "sqlite")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

# The cheapest argon2 costs: tests check behaviour, not hashing strength.
FAST_SETTINGS: dict[str, Any] = {
    "env": "testing",
    "argon2_memory_kib": 8,
    "argon2_time_cost": 1,
    "argon2_parallelism": 1,
    "log_level": "WARNING",
}


def pytest_report_header(config: pytest.Config) -> str:
    return f"trygg database engine: {ENGINE}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ENGINE == "postgres" and not TEST_DATABASE_URL:
        raise pytest.UsageError("TRYGG_TEST_ENGINE=postgres needs TEST_DATABASE_URL")
    # A long run (a state machine at length) only when asked for: `pytest -m long`.
    # Deselected, not skipped: a CI run must show no skips.
    if "long" not in (config.getoption("markexpr") or ""):
        long_runs = [item for item in items if item.get_closest_marker("long") is not None]
        if long_runs:
            config.hook.pytest_deselected(items=long_runs)
            items[:] = [item for item in items if item.get_closest_marker("long") is None]


def _worker() -> str:
    """A name unique to this test process within this run (databases are named by it).

    With xdist the controller's pid (the parent) tells runs apart; without it, our own.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{os.getppid()}_{worker}" if worker else f"{os.getpid()}_main"


def create_postgres_database(name: str) -> str:
    """(Re)create a database on the TEST_DATABASE_URL server; return its URL."""
    server = make_url(TEST_DATABASE_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    admin = create_engine(make_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def keyring_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keyring.json"
    crypto.create_keyring_file(path)
    return path


@pytest.fixture(scope="session")
def base_settings(keyring_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {
        **FAST_SETTINGS,
        "secret_key": secrets.token_urlsafe(32),
        "keyring_path": str(keyring_path),
        "instance_path": str(tmp_path_factory.mktemp("instance")),
    }


def migrated_database(settings: dict[str, Any], tmp_dir: Path, label: str) -> str:
    """A new database at the migrations' head, on the engine under test."""
    if ENGINE == "postgres":
        url = create_postgres_database(f"trygg_{label}_{_worker()}")
    else:
        url = f"sqlite:///{tmp_dir / (label + '.db')}"
    app = create_app({**settings, "database_url": url})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(
    base_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    url = migrated_database(base_settings, tmp_path_factory.mktemp("db"), "test")
    yield url
    if ENGINE == "postgres":
        drop_postgres_database(f"trygg_test_{_worker()}")


@pytest.fixture(scope="session")
def settings(base_settings: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**base_settings, "database_url": database_url}


@pytest.fixture(scope="session")
def base_app(settings: dict[str, Any]) -> Flask:
    return create_app(settings)


def bind_rolled_back(app: Flask) -> Iterator[None]:
    """Run everything in one outer transaction that is rolled back afterwards.

    Each request's commit only releases a SAVEPOINT, so tests see the committed state
    within the test and nothing survives it.
    """
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    transaction = connection.begin()
    factory = db.session.session_factory
    saved = dict(factory.kw)
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        # Restore the factory as it was ("conservative_savepoint" no longer exists in
        # SQLAlchemy 2.1, and unbound sessions made after this test must still work).
        factory.kw.clear()
        factory.kw.update(saved)
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(base_app: Flask) -> Iterator[Flask]:
    """The app, with the database rolled back after the test."""
    for _ in bind_rolled_back(base_app):
        yield base_app


@pytest.fixture
def make_app(settings: dict[str, Any]) -> Iterator[Any]:
    """Build an app with setting overrides.

    Apps on the test database share one rolled-back connection (the `app` fixture's when
    the test also uses it), so they see each other's and the factory's data; a second
    connection would wait forever on SQLite's write lock. With a `database_url` override
    (a scratch_database) the app commits for real.
    """
    contexts: list[Iterator[None]] = []

    def build(**overrides: Any) -> Flask:
        built = create_app({**settings, **overrides})
        bound = db.session.session_factory.kw.get("bind") is not None
        if "database_url" in overrides:
            assert not bound, "an app on a scratch database cannot share the test connection"
            return built
        if not bound:
            ctx = bind_rolled_back(built)
            next(ctx)
            contexts.append(ctx)
        return built

    yield build
    for ctx in reversed(contexts):
        with pytest.raises(StopIteration):
            next(ctx)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def make(app: Flask) -> Any:
    """Builders for users and units (tests/factories.py), each call committed."""
    from tests.factories import Factory

    return Factory(app)


@pytest.fixture
def scratch_database(base_settings: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """A separate, really committed database (for servers in other threads/processes)."""
    label = "scratch" + secrets.token_hex(3)
    url = migrated_database(base_settings, tmp_path, label)
    yield url
    if ENGINE == "postgres":
        drop_postgres_database(f"trygg_{label}_{_worker()}")


def copy_sqlite(url: str, target: Path) -> str:
    source = Path(make_url(url).database or "")
    shutil.copy(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every temporary file made during the test goes here, to be searched."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
