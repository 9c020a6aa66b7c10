"""The app's PostgreSQL connections run without JIT and parallel workers (issue 17).

Both cost a page more than they saved on a million reports (README, "Running on
PostgreSQL"): JIT compiled the queue's counters for seconds per request, and a parallel
worker made a department's queue page half again as slow. On the PostgreSQL run of the
suite the settings are read back from a connection of the app itself.
"""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import ENGINE
from trygg.app import _engine_options
from trygg.extensions import db


def test_postgresql_connections_run_without_jit_or_parallel_workers(app):
    options = _engine_options("postgresql+psycopg://db.example/trygg")["connect_args"]
    assert "-c jit=off" in options["options"]
    assert "-c max_parallel_workers_per_gather=0" in options["options"]
    assert "connect_args" not in _engine_options("sqlite:///trygg.db")
    with app.app_context():
        if ENGINE == "postgres":
            assert db.session.execute(text("SHOW jit")).scalar() == "off"
            shown = db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar()
            assert shown == "0"
        else:
            assert db.engine.dialect.name == "sqlite"
