"""`python -m bench.statements`: where each page of `bench.pages` spends its time.

In one process, with Flask's test client on the seeded database (production settings),
logs in the same three people as `bench.pages` and asks for each page `--runs` times
after one warm-up, counting the SQL statements each request runs and the time spent in
them (SQLAlchemy's cursor events). Prints, per page: statements, the request's time, the
statements' share of it and the rest (Python: routing, the ORM, templates, decryption).
Unlike the ratios of `bench.pages`, the statement count does not depend on the machine's
load. `--profile NAME` runs cProfile over the pages whose name contains NAME and prints
the top functions by cumulative time; `--sql NAME` prints those pages' statements;
`--only NAME` measures only those; `--explain NAME` prints the plan (EXPLAIN ANALYZE,
BUFFERS) of those pages' slowest statement.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.pages import ADMIN_EMAIL, Logins, Page, page_ids, pages, trust_rep_user
from bench.seed import DEFAULT_KEYRING, DEFAULT_URL, DIVISION_REP


def _app(url: str, keyring: Path) -> Any:
    from trygg.app import create_app

    return create_app(
        {
            "env": "production",
            "base_url": "https://trygg.example.org",
            "database_url": url,
            "keyring_path": str(keyring.resolve()),
            "secret_key": "bench-statements-" + "x" * 32,
            "log_level": "WARNING",
        }
    )


def _login(app: Any, email: str) -> Any:
    """A client logged in as `email`: a server-side session begun directly (no password
    or authenticator touched, so a running `bench.pages` keeps its logins)."""
    import pyotp

    from trygg.accounts import service as accounts
    from trygg.accounts.service import sessions
    from trygg.extensions import db
    from trygg.security import SESSION_TOKEN, two_factor_required

    client = app.test_client()
    with app.app_context():
        user = accounts.find_user(email)
        if user is None:
            raise SystemExit(f"no {email} in the seeded database")
        if not user.totp_enabled and two_factor_required(user):
            # A fresh seed's admin has no authenticator yet (bench.pages sets one up).
            enrolment = accounts.start_enrolment(user)
            accounts.confirm_enrolment(user, pyotp.TOTP(enrolment.secret).now())
        token = sessions.begin(user)
        user_id = user.get_id()
        db.session.commit()
    now = time.time()
    with client.session_transaction() as cookie:
        cookie.update({"_user_id": user_id, "_fresh": True, SESSION_TOKEN: token, "lang": "nb"})
        cookie.update({"login_at": now, "seen_at": now})
    return client


class Recorder:
    def __init__(self) -> None:
        self.statements: list[tuple[str, float]] = []
        # The parameters of each statement, in the same order (for --explain).
        self.parameters: list[Any] = []
        self._start = 0.0

    def before(self, *_args: Any) -> None:
        self._start = time.perf_counter()

    def after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statements.append((statement, time.perf_counter() - self._start))
        self.parameters.append(parameters)

    def clear(self) -> None:
        self.statements.clear()
        self.parameters.clear()

    def explain_slowest(self, engine: Any) -> None:
        """EXPLAIN (ANALYZE, BUFFERS) of the last request's slowest statement, run again
        with its own parameters in a transaction that is rolled back."""
        took, index = max((t, i) for i, (_s, t) in enumerate(self.statements))
        connection = engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "EXPLAIN (ANALYZE, BUFFERS) " + self.statements[index][0],
                    self.parameters[index],
                )
                print(f"    EXPLAIN of the slowest statement ({took * 1000:.2f} ms):")
                for (line,) in cursor.fetchall():
                    print("      " + line)
        finally:
            connection.rollback()
            connection.close()


def _path(client: Any, page: Page) -> str:
    if not page.path.startswith("<next:"):
        return page.path
    query = page.path[len("<next:") : -1]
    cursor = client.get(f"/api/v1/cases?{query}").get_json()["next_cursor"]
    return f"/api/v1/cases?{query}&after={cursor}"


def run(  # noqa: PLR0913 - the command line's options, one each
    url: str,
    keyring: Path,
    runs: int,
    profile: str | None,
    sql: str | None,
    only: str | None,
    explain: str | None = None,
) -> int:
    app = _app(url, keyring)
    with app.app_context():
        employee, showcase, unit = page_ids()
    rep = f"user{DIVISION_REP}@scale.trygg.no"
    with app.app_context():
        trust_rep = trust_rep_user().email
        __import__("trygg.extensions", fromlist=["db"]).db.session.commit()
    logins = Logins(
        ("user1@scale.trygg.no", ""),
        (ADMIN_EMAIL, ""),
        (rep, ""),
        (trust_rep, ""),
        employee,
        showcase,
        unit,
    )
    with app.app_context():
        engine = __import__("trygg.extensions", fromlist=["db"]).db.engine
    recorder = Recorder()
    event.listen(engine, "before_cursor_execute", recorder.before)
    event.listen(engine, "after_cursor_execute", recorder.after)
    clients = {
        "handler": _login(app, logins.handler[0]),
        "admin": _login(app, ADMIN_EMAIL),
        "rep": _login(app, rep),
        "trust_rep": _login(app, trust_rep),
        "employee": _login(app, logins.employee),
    }
    print(f"{'page':46} {'stmts':>5} {'ms':>7} {'SQL ms':>7} {'other ms':>8}")
    for page in pages(logins):
        if only and only not in page.name:
            continue
        client = clients[page.who]
        path = _path(client, page)
        client.get(path)
        counts, totals, in_sql = [], [], []
        for _ in range(runs):
            recorder.clear()
            start = time.perf_counter()
            response = client.get(path)
            totals.append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
            counts.append(len(recorder.statements))
            in_sql.append(sum(t for _s, t in recorder.statements))
        total, spent = statistics.median(totals) * 1000, statistics.median(in_sql) * 1000
        print(f"{page.name:46} {max(counts):5d} {total:7.1f} {spent:7.1f} {total - spent:8.1f}")
        if sql and sql in page.name:
            for statement, took in recorder.statements:
                print(f"    {took * 1000:6.2f} ms  {' '.join(statement.split())[:220]}")
        if explain and explain in page.name:
            recorder.explain_slowest(engine)
        if profile and profile in page.name:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                client.get(path)
            profiler.disable()
            # BENCH_SORT (a pstats key, "cumulative" by default), BENCH_TOP (45 lines).
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("BENCH_TOP", "45")))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SCALE_URL", DEFAULT_URL))
    parser.add_argument("--keyring", type=Path, default=DEFAULT_KEYRING)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", metavar="NAME")
    parser.add_argument("--sql", metavar="NAME")
    parser.add_argument("--explain", metavar="NAME")
    parser.add_argument("--only", metavar="NAME", help="only the pages whose name has NAME")
    args = parser.parse_args(argv)
    options = (args.runs, args.profile, args.sql, args.only, args.explain)
    return run(args.database_url, args.keyring, *options)


if __name__ == "__main__":
    sys.exit(main())
