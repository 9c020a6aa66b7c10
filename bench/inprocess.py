"""`python -m bench.inprocess`: where a request's time goes, measured inside one process.

Runs Trygg in-process (Flask's test client) against a fresh PostgreSQL database, logs
in once, then for each measured request prints the SQL statements it runs, the CPU
time per request (process time, so a busy machine disturbs it less than wall time) and
the PostgreSQL server's CPU time per statement (it must run on this machine).
`--profile N` adds a cProfile listing of the slowest functions by CPU time.

This is a tool for finding costs, not a target: `make bench` is the benchmark.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.__main__ import EMAIL, PASSWORD, fresh_database, prepare, report_body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key")
    args = parser.parse_args(argv)

    from trygg.app import create_app
    from trygg.extensions import db

    with fresh_database() as url, tempfile.TemporaryDirectory() as folder:
        env, unit_id = prepare(Path(folder), url)
        app = create_app(environ=env)
        client = app.test_client()
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        login = {"email": EMAIL, "password": PASSWORD}
        response = client.post("/api/v1/session", json=login, headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.data
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        body = report_body(unit_id)
        headers = {"X-CSRFToken": token, "Content-Type": "application/json"}

        def submit() -> None:
            response = client.post("/api/v1/reports", data=body, headers=headers)
            assert response.status_code == 201, response.data

        def me() -> None:
            assert client.get("/api/v1/me").status_code == 200

        statements: collections.Counter[str] = collections.Counter()
        # PostgreSQL's CPU per statement: the server process's on-CPU nanoseconds
        # (/proc/PID/schedstat) before and after each statement, summed by statement.
        server_ns: collections.Counter[str] = collections.Counter()
        with app.app_context():
            engine = db.engine

        def backend_ns(conn: Any) -> int:
            pid = conn.info.get("backend_pid")
            if pid is None:
                pid = conn.info["backend_pid"] = conn.exec_driver_sql(
                    "SELECT pg_backend_pid()"
                ).scalar()
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])

        @event.listens_for(engine, "before_cursor_execute")
        def count(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.startswith("SELECT pg_backend_pid()"):
                return
            key = " ".join(statement.split())[:100]
            statements[key] += 1
            conn.info["statement"] = key
            conn.info["started_ns"] = backend_ns(conn)

        @event.listens_for(engine, "after_cursor_execute")
        def measure(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.startswith("SELECT pg_backend_pid()"):
                return
            key = conn.info.pop("statement", None)
            if key is not None:
                server_ns[key] += backend_ns(conn) - conn.info.pop("started_ns")

        for name, call in (("GET /api/v1/me", me), ("POST /api/v1/reports", submit)):
            for _ in range(30):
                call()
            statements.clear()
            call()
            print(f"== {name}: {sum(statements.values())} SQL statements")
            for statement, times in statements.most_common():
                print(f"  {times} x {statement}")
            server_ns.clear()
            print(f"   CPU per request: {_cpu_ms(call, args.requests):.2f} ms (with probes)")
            for statement, ns in server_ns.most_common(8):
                per = ns / args.requests / 1000
                print(f"   PostgreSQL {per:6.0f} µs per request: {statement[:70]}")
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(_repeat, submit, args.requests)
            stats = pstats.Stats(profiler).sort_stats(args.sort)
            stats.print_stats(args.profile)
            if os.environ.get("BENCH_CALLEES"):
                stats.print_callees(os.environ["BENCH_CALLEES"])
        with app.app_context():
            db.engine.dispose()
    return 0


def _repeat(call: Callable[[], None], times: int) -> None:
    for _ in range(times):
        call()


def _cpu_ms(call: Callable[[], None], times: int) -> float:
    start = time.process_time()
    for _ in range(times):
        call()
    return (time.process_time() - start) / times * 1000


if __name__ == "__main__":
    raise SystemExit(main())
