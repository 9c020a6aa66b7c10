"""Crash during submission: kill -9 Trygg's workers, and the whole server, mid-request.

Trygg runs under gunicorn (2 sync workers) on PostgreSQL or SQLite. Several clients,
each logged in as an employee, post reports with attachments (multipart) as fast as
answers come. A killer waits until a submission is in flight, lets a random part of a
typical request's time pass, and sends SIGKILL: to one worker (gunicorn starts a new
one), or to the master and every worker at once (the server is started again). After
the last kill and a few more acknowledged reports, bench/crash_check.py proves that
every acknowledged report is whole and opens, that every other attempt left nothing (or,
when the kill fell after the commit but before the answer, a whole report), and that
`trygg audit verify` passes.

    python -m bench.crash [--kills 100] [--engine postgres|sqlite|both] [--seed N]

`make crash` runs the 100 kills on both engines; tests/operations/test_crash.py runs 10
per engine in the suite. Waits are on conditions (a request in flight, an answer, the
server answering /healthz); the one sleep is the random moment of each kill.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from bench.__main__ import _cookie, _cookie_header, _free_port, fresh_database, worker_pids
from bench.crash_check import Attempt, Verdict, check

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "crash@example.org"
PASSWORD = "crash-password-" + secrets.token_hex(8)
# Generous: the machine may be shared and busy; a wait that runs out is a failure.
WAIT = 180.0


@dataclass
class Server:
    """gunicorn serving Trygg on one port, that can be killed and started again."""

    env: dict[str, str]
    port: int
    log: Path
    workers: int = 2
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers)]
        command += ["--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        command += ["--graceful-timeout", "10", "trygg.app:create_app()"]
        with self.log.open("ab") as out:
            # Its own process group: killing "the whole server" reaches every worker.
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
            )

    def master(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        return worker_pids(self.master())

    def answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except (OSError, http.client.HTTPException):
            return False

    def wait_up(self) -> None:
        """Until the master has all its workers and the server answers /healthz."""
        wait_for(
            lambda: self._alive() and len(self.worker_pids()) == self.workers and self.answers(),
            what=f"gunicorn to serve on port {self.port}",
            log=self.log,
        )

    def _alive(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{tail(self.log)}")
        return True

    def kill_worker(self, rng: random.Random) -> None:
        victim = rng.choice(self.worker_pids())
        os.kill(victim, signal.SIGKILL)
        # gunicorn's master notices and starts another in its place.
        wait_for(
            lambda: victim not in (pids := self.worker_pids()) and len(pids) == self.workers,
            what=f"worker {victim} to be replaced",
            log=self.log,
        )

    def kill_all(self) -> None:
        assert self.process is not None
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=WAIT)
        wait_for(lambda: not _group_alive(group), what="the killed workers to be gone")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(os.getpgid(self.process.pid), signal.SIGKILL)
            self.process.wait(timeout=WAIT)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_for(
    condition: Callable[[], bool], *, what: str, timeout: float = WAIT, log: Path | None = None
) -> None:
    """Poll a condition until it holds; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}" + (f":\n{tail(log)}" if log else ""))
        time.sleep(0.02)


# -- clients ------------------------------------------------------------------------------


@dataclass
class Load:
    """What the clients share with the killer: the attempts, and what is in flight."""

    port: int
    unit_id: int
    rng: random.Random
    attempts: list[Attempt] = field(default_factory=list)
    in_flight: int = 0
    acknowledged: int = 0
    latencies: list[float] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    up: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def new_attempt(self) -> Attempt:
        with self.changed:
            count = self.rng.choice((0, 1, 1, 2))
            sizes = [self.rng.randint(20_000, 400_000) for _ in range(count)]
        files = [
            (f"vedlegg-{n}.pdf", b"%PDF-1.4\n" + os.urandom(size)) for n, size in enumerate(sizes)
        ]
        return Attempt(marker=uuid.uuid4().hex, files=files)

    def typical_latency(self) -> float:
        with self.changed:
            recent = sorted(self.latencies[-50:])
        return recent[len(recent) // 2] if recent else 0.2

    def acknowledged_after(self, count: int) -> Callable[[], bool]:
        """A condition: `count` more reports acknowledged than now."""
        target = self.acknowledged + count
        return lambda: self.acknowledged >= target

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        with self.changed:
            if not self.changed.wait_for(condition, timeout=WAIT):
                raise RuntimeError(f"timed out waiting for {what}")


def _request(
    port: int,
    method: str,
    path: str,
    jar: dict[str, str],
    body: bytes | None,
    headers: dict[str, str],
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers={"Cookie": _cookie_header(jar), **headers})
        response = conn.getresponse()
        data = response.read()
        _cookie(response, jar)
        return response.status, data
    finally:
        conn.close()


def _login(port: int, jar: dict[str, str]) -> str:
    """Log in through the API; return the CSRF token of the new session."""
    _status, data = _request(port, "GET", "/api/v1/csrf", jar, None, {})
    token = json.loads(data)["csrf_token"]
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    status, data = _request(port, "POST", "/api/v1/session", jar, body, headers)
    if status != 200:
        raise RuntimeError(f"login failed: {status} {data[:200]!r}")
    _status, data = _request(port, "GET", "/api/v1/csrf", jar, None, {})
    return str(json.loads(data)["csrf_token"])


def report_body(unit_id: int, attempt: Attempt) -> tuple[bytes, str]:
    """A multipart body: the report as JSON in "data", the attempt's files in "files"."""
    report = {
        "incident_types": ["threat", "physical_violence"],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "unit_id": unit_id,
        "place_type": "patient_room",
        "counterpart_category": "patient",
        "severity": 3,
        "narrative": attempt.narrative,
    }
    boundary = "crash" + secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n'.encode()
        + json.dumps(report).encode()
        + b"\r\n"
    ]
    for name, content in attempt.files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"'
            "\r\nContent-Type: application/pdf\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def client(load: Load) -> None:
    """Log in, then submit reports one after another until told to stop."""
    jar: dict[str, str] = {}
    token = ""
    while not load.stop.is_set():
        if not load.up.wait(timeout=0.5):
            continue
        try:
            token = token or _login(load.port, jar)
        except (OSError, http.client.HTTPException, ValueError):
            continue  # the server went down while logging in: try again when it is up
        submit(load, load.new_attempt(), jar, token)


def submit(load: Load, attempt: Attempt, jar: dict[str, str], token: str) -> None:
    body, content_type = report_body(load.unit_id, attempt)
    headers = {"Content-Type": content_type, "X-CSRFToken": token}
    with load.changed:
        load.attempts.append(attempt)
        load.in_flight += 1
        load.changed.notify_all()
    started = time.monotonic()
    try:
        attempt.status, data = _request(load.port, "POST", "/api/v1/reports", jar, body, headers)
        if 200 <= attempt.status < 300:
            answer = json.loads(data)
            attempt.report_id, attempt.reference = answer["id"], answer["reference"]
    except (OSError, http.client.HTTPException) as exc:
        attempt.error = type(exc).__name__
    finally:
        with load.changed:
            load.in_flight -= 1
            if attempt.acknowledged:
                load.acknowledged += 1
                load.latencies.append(time.monotonic() - started)
            load.changed.notify_all()


# -- the run ------------------------------------------------------------------------------


@dataclass
class Run:
    kills: dict[str, int]
    seconds: float
    verdict: Verdict

    def summary(self) -> str:
        v = self.verdict
        return (
            f"{self.kills['worker']} worker kills, {self.kills['server']} server kills in "
            f"{self.seconds:.0f} s: {v.attempts} attempts, {v.acknowledged} acknowledged and "
            f"whole, {v.broken} cut off by a kill ({v.stored_unanswered} of them stored whole "
            f"after the commit, the rest left nothing), {v.refused} refused; "
            f"{v.reports} reports stored; {len(v.problems)} problems"
        )


def kill_loop(server: Server, load: Load, kills: int) -> dict[str, int]:
    """Alternate worker and server kills, each at a random moment of a request."""
    done = {"worker": 0, "server": 0}
    for n in range(kills):
        # The server works again (answers came since the last kill), and a report is
        # being sent: kill within a typical request's time from here.
        load.wait(load.acknowledged_after(2), "two acknowledged reports")
        load.wait(lambda: load.in_flight > 0, "a submission in flight")
        # The random moment of the kill (fault injection, not a wait for anything).
        time.sleep(load.rng.uniform(0, 1.5 * load.typical_latency()))
        if n % 2 == 0:
            server.kill_worker(load.rng)
            done["worker"] += 1
        else:
            load.up.clear()
            server.kill_all()
            done["server"] += 1
            server.start()
            server.wait_up()
            load.up.set()
    load.wait(load.acknowledged_after(2), "reports after the last kill")
    return done


def run(app: Flask, env: dict[str, str], folder: Path, kills: int, seed: int) -> Run:
    """Prepare the database, serve, drive, kill, stop, and check."""
    unit_id = prepare(app)
    server = Server(env=env, port=_free_port(), log=folder / "gunicorn.log")
    load = Load(port=server.port, unit_id=unit_id, rng=random.Random(seed))
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(load,), daemon=True) for _ in range(4)]
    try:
        server.start()
        server.wait_up()
        load.up.set()
        for thread in threads:
            thread.start()
        done = kill_loop(server, load, kills)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=WAIT)
        server.stop()
    seconds = time.monotonic() - started
    return Run(done, seconds, check(app, env, load.attempts, folder))


def prepare(app: Flask) -> int:
    """A unit, the employee the clients log in as, and a handler group that gets cases."""
    from handling import service as handling
    from trygg import org
    from trygg.accounts import service as accounts
    from trygg.extensions import db

    with app.app_context():
        unit = org.create_unit("Akuttmottaket", headcount=80)
        accounts.create_user(
            email=EMAIL, name="Krasj Testesen", roles=["employee"], units=[unit],
            password=PASSWORD, actor="bench",
        )  # fmt: skip
        handler = accounts.create_user(
            email="handler@example.org", name="Saksbehandler", roles=["handler"],
            units=[unit], password=PASSWORD, actor="bench",
        )  # fmt: skip
        group = handling.save_group(
            actor="bench", name="HMS", member_ids=[handler.id], is_default=True, is_fallback=True
        )
        handling.create_rule(actor="bench", group_id=group.id)
        db.session.commit()
        unit_id: int = unit.id
        db.engine.dispose()
    return unit_id


def server_env(folder: Path, database_url: str, keyring: Path, secret: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TRYGG_") and k != "DATABASE_URL"
    }
    env.update(
        TRYGG_ENV="production",
        TRYGG_BASE_URL="https://trygg.example.org",
        TRYGG_SECRET_KEY=secret,
        TRYGG_KEYRING_PATH=str(keyring),
        TRYGG_INSTANCE_PATH=str(folder),
        TRYGG_LOG_LEVEL="WARNING",
        TRYGG_ARGON2_MEMORY_KIB="8",
        TRYGG_ARGON2_TIME_COST="1",
        TRYGG_ARGON2_PARALLELISM="1",
        DATABASE_URL=database_url,
    )
    return env


# -- command line -------------------------------------------------------------------------


@contextmanager
def database(engine: str, folder: Path) -> Iterator[str]:
    """A new, empty database on the engine (PostgreSQL: on BENCH/TEST_DATABASE_URL)."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'crash.db'}"
        return
    with fresh_database() as url:
        yield url


def run_engine(engine: str, kills: int, seed: int) -> Run:
    from flask_migrate import upgrade

    from trygg import crypto
    from trygg.app import create_app

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trygg-crash-")))
        url = stack.enter_context(database(engine, folder))
        keyring = folder / "keyring.json"
        crypto.create_keyring_file(keyring)
        env = server_env(folder, url, keyring, secrets.token_urlsafe(48))
        app = create_app(environ=env)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        return run(app, env, folder, kills, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crash", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--kills", type=int, default=100, help="kills per engine")
    parser.add_argument("--engine", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
    failed = False
    for engine in ("postgres", "sqlite") if args.engine == "both" else (args.engine,):
        print(f"{engine}: {args.kills} kills, seed {seed}", flush=True)
        result = run_engine(engine, args.kills, seed)
        print(f"{engine}: {result.summary()}")
        for problem in result.verdict.problems:
            print(f"{engine}: PROBLEM {problem}")
        failed |= bool(result.verdict.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
