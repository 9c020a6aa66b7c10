"""`make bench`: report intake throughput against a bare WSGI insert, on PostgreSQL.

1. Create a fresh PostgreSQL database, migrate it, add one unit, one employee, and two
   case handlers in a default group.
2. Serve a bare WSGI function (bench/baseline.py: one INSERT of the body per request)
   with gunicorn (2 sync workers) and drive it with N clients for S seconds.
3. Serve Trygg the same way and drive POST /api/v1/reports with a 2 KB narrative
   (each client logs in once through /api/v1/session and sends the CSRF token).
4. Measure two reference points the same way, unless --no-floors: the bare insert as a
   Flask view over a Flask-SQLAlchemy session (bench/stack.py), and Trygg's
   authenticated no-op GET /api/v1/me. With --intake-only, also Trygg's submission with
   case opening switched off (bench/intake_only.py).
5. Print each throughput, its ratio to the bare one, p50/p99 latency, CPU per request
   and the peak resident memory (VmHWM) of each Trygg worker; exit 1 when a target is
   missed.

Everything is on loopback, bounded in time, and the processes, the database and the
temporary files are removed at the end, also after an error or Ctrl-C.

The database server is BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local
PostgreSQL as user postgres.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 0.35
TARGET_RSS_MB = 150.0
EMAIL = "bench@example.org"
PASSWORD = "bench-password-" + secrets.token_hex(8)
NARRATIVE = (
    "Pasienten ble urolig i venterommet, ropte og kastet en stol mot skranken. "
    "Jeg trakk meg unna og tilkalte en kollega. "
) * 40


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    errors: int
    # CPU seconds used during the measured window by the server's workers and by
    # PostgreSQL (all its processes), to put a cost on each request.
    worker_cpu: float = 0.0
    database_cpu: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


# -- database ---------------------------------------------------------------------------


def _server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", DEFAULT_SERVER
    )


def _admin(sql: str) -> None:
    engine = create_engine(_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"trygg_bench_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(_server_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(folder: Path, database_url: str) -> tuple[dict[str, str], int]:
    """Keyring, secret, migrated schema, one unit and user; the servers' environment."""
    from flask_migrate import upgrade

    from trygg import crypto, org
    from trygg.accounts import service as accounts
    from trygg.app import create_app
    from trygg.extensions import db

    keyring = folder / "keyring.json"
    crypto.create_keyring_file(keyring)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRYGG_") and key != "DATABASE_URL"
    }
    env.update(
        {
            "TRYGG_ENV": "production",
            "TRYGG_BASE_URL": "https://trygg.example.org",
            "TRYGG_SECRET_KEY": secrets.token_urlsafe(48),
            "TRYGG_KEYRING_PATH": str(keyring),
            "TRYGG_INSTANCE_PATH": str(folder),
            "TRYGG_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "BENCH_PG_DSN": make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False),
        }
    )
    app = create_app(environ=env)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        unit = org.create_unit("Akuttmottaket", headcount=80)
        accounts.create_user(
            email=EMAIL,
            name="Benk Benkesen",
            roles=["employee"],
            units=[unit],
            password=PASSWORD,
            actor="bench",
        )
        # Case handling as an organisation would set it up: two handlers in a default
        # (and fallback) group that every report is routed to.
        handler_ids = [
            accounts.create_user(
                email=f"handler{n}@example.org",
                name=f"Saksbehandler {n}",
                roles=["handler"],
                units=[unit],
                password=PASSWORD,
                actor="bench",
            ).id
            for n in (1, 2)
        ]
        from handling import service as handling

        group = handling.save_group(
            actor="bench", name="HMS", member_ids=handler_ids, is_default=True, is_fallback=True
        )
        handling.create_rule(actor="bench", group_id=group.id)
        db.session.execute(text("CREATE TABLE bench_row (id serial PRIMARY KEY, body text)"))
        db.session.commit()
        unit_id = unit.id
        db.engine.dispose()
    return env, unit_id


# -- servers ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(
    target: str, env: dict[str, str], workers: int, port: int | None = None
) -> Iterator[tuple[int, int]]:
    """Serve a WSGI target on a loopback port (a free one unless given); yield (port,
    master pid)."""
    port = port or _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "512",
        "--log-level",
        "warning",
        "--config",
        str(ROOT / "config" / "gunicorn.conf.py"),
        target,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        _wait_until_up(port, process)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start within 30 s")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The parent pid is the second field after the parenthesised command name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by the given processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in {"postgres", "postmaster"}:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- load -------------------------------------------------------------------------------


def _cookie(response: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def _call(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    jar: dict[str, str],
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    all_headers = {"Cookie": _cookie_header(jar), **(headers or {})}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    _cookie(response, jar)
    return response.status, data


def _login(conn: http.client.HTTPConnection, jar: dict[str, str]) -> str:
    status, data = _call(conn, "GET", "/api/v1/csrf", jar)
    token = json.loads(data)["csrf_token"]
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
    status, data = _call(conn, "POST", "/api/v1/session", jar, body, {"X-CSRFToken": token})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {data[:200]!r}")
    # Logging in starts a new session, which needs a token of its own.
    status, data = _call(conn, "GET", "/api/v1/csrf", jar)
    return str(json.loads(data)["csrf_token"])


@dataclass(frozen=True)
class Load:
    """What one kind of client sends, and the answer that counts as served."""

    method: str
    path: str
    status: int
    login: bool = False
    send_body: bool = True


LOADS = {
    "bare": Load("POST", "/", 201),
    "stack": Load("POST", "/", 201),
    "trygg": Load("POST", "/api/v1/reports", 201, login=True),
    "me": Load("GET", "/api/v1/me", 200, login=True, send_body=False),
}


def client(
    kind: str,
    port: int,
    body: bytes,
    warmup: float,
    seconds: float,
    barrier: Any,
    out: Any,
) -> None:
    """One client: log in (Trygg), then send as fast as answers come, for a fixed time."""
    load = LOADS[kind]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    jar: dict[str, str] = {}
    headers: dict[str, str] = {}
    if load.login:
        headers["X-CSRFToken"] = _login(conn, jar)
    payload = body if load.send_body else None
    barrier.wait()
    begin = time.perf_counter() + warmup
    end = begin + seconds
    latencies: list[float] = []
    errors = 0
    now = time.perf_counter()
    while now < end:
        status, _data = _call(conn, load.method, load.path, jar, payload, headers)
        done = time.perf_counter()
        if now >= begin:
            if status == load.status:
                latencies.append(done - now)
            else:
                errors += 1
        now = done
    conn.close()
    out.put((latencies, errors))


def drive(
    kind: str,
    port: int,
    master: int,
    body: bytes,
    clients: int,
    warmup: float,
    seconds: float,
) -> Result:
    ctx = mp.get_context("fork")
    started = ctx.Event()
    barrier = ctx.Barrier(clients, action=started.set)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=client, args=(kind, port, body, warmup, seconds, barrier, out))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    if not started.wait(timeout=120):
        raise SystemExit("the load clients did not start (login failed?)")
    time.sleep(warmup)
    workers = worker_pids(master)
    cpu_before = cpu_seconds(workers), cpu_seconds(postgres_pids())
    time.sleep(seconds)
    cpu_after = cpu_seconds(workers), cpu_seconds(postgres_pids())
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        got, failed = out.get(timeout=120)
        latencies.extend(got)
        errors += failed
    for proc in procs:
        proc.join(timeout=10)
    return Result(
        kind,
        seconds,
        latencies,
        errors,
        worker_cpu=cpu_after[0] - cpu_before[0],
        database_cpu=cpu_after[1] - cpu_before[1],
    )


# -- main -------------------------------------------------------------------------------


def report_body(unit_id: int) -> bytes:
    return json.dumps(
        {
            "incident_types": ["threat", "damage"],
            "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
            "unit_id": unit_id,
            "place_type": "front_desk",
            "counterpart_category": "patient",
            "severity": 2,
            "narrative": NARRATIVE[:2048],
        }
    ).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-floors",
        action="store_true",
        help="skip the two reference points (the bare stack, an authenticated no-op)",
    )
    parser.add_argument(
        "--intake-only",
        action="store_true",
        help="also measure submissions with case opening switched off (bench/intake_only.py)",
    )
    args = parser.parse_args(argv)

    def run(kind: str, target: str) -> tuple[Result, list[float]]:
        with gunicorn(target, env, args.workers) as (port, master):
            result = drive(kind, port, master, body, args.clients, args.warmup, args.seconds)
            return result, [peak_rss_mb(pid) for pid in worker_pids(master)]

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trygg-bench-")))
        database_url = stack.enter_context(fresh_database())
        env, unit_id = prepare(folder, database_url)
        body = report_body(unit_id)
        print(
            f"report intake: {args.clients} clients, {args.seconds:g} s after "
            f"{args.warmup:g} s warm-up, gunicorn {args.workers} sync workers, "
            f"PostgreSQL, body {len(body)} bytes",
            flush=True,
        )
        bare, _ = run("bare", "bench.baseline:app")
        trygg, rss = run("trygg", "trygg.app:create_app()")
        rows = [("bare WSGI + psycopg insert", bare), ("trygg POST /reports", trygg)]
        if not args.no_floors:
            rows.insert(1, ("Flask + SQLAlchemy insert", run("stack", "bench.stack:app")[0]))
            rows.insert(2, ("trygg GET /me (no-op)", run("me", "trygg.app:create_app()")[0]))
        if args.intake_only:
            rows.insert(
                -1, ("trygg POST, no case opening", run("trygg", "bench.intake_only:app")[0])
            )

    ratio = trygg.throughput / bare.throughput if bare.throughput else 0.0
    print(
        f"{'':28}{'req/s':>9}{'ratio':>7}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'CPU ms: workers':>17}{'PostgreSQL':>11}"
    )
    for name, result in rows:
        count = max(1, len(result.latencies))
        print(
            f"{name:28}{result.throughput:9.1f}"
            f"{result.throughput / bare.throughput if bare.throughput else 0.0:7.2f}"
            f"{result.percentile(50):9.1f}{result.percentile(99):9.1f}{result.errors:8d}"
            f"{result.worker_cpu / count * 1000:17.2f}{result.database_cpu / count * 1000:11.2f}"
        )
    ratio_ok = ratio >= TARGET_RATIO
    rss_ok = bool(rss) and max(rss) <= TARGET_RSS_MB
    print(
        f"ratio trygg/bare: {ratio:.2f} (target >= {TARGET_RATIO}) {'OK' if ratio_ok else 'MISSED'}"
    )
    print(
        "peak RSS per trygg worker: "
        + ", ".join(f"{mb:.1f} MB" for mb in rss)
        + f" (target <= {TARGET_RSS_MB:g} MB) {'OK' if rss_ok else 'MISSED'}"
    )
    print(f"mean latency trygg: {statistics.fmean(trygg.latencies) * 1000:.1f} ms")
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} (this machine has {os.cpu_count()} CPUs)")
    failed = any(result.errors for _name, result in rows)
    return 0 if ratio_ok and rss_ok and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
