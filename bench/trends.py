"""`python -m bench.trends`: the trends API and page on the seeded million-report database.

Measured in one run, in one process, on the database `python -m bench.seed` built
(BENCH_SCALE_URL, else trygg_bench_scale on the local server; seed it first):

- the bare query: SELECT unit, month, type, count(*) … GROUP BY over the base rows
  (report × report_incident_type) for the API's whole window, fetched into Python: the
  issue's yardstick, unchanged by the rollup the API reads;
- the floor of the rollup: a bare SELECT of the same window's rows of `trend_count`
  (totals and types), fetched into Python, for how much the API adds to its own read;
- GET /api/v1/trends for the whole organisation by month and type over that window:
  cold first-ever (`trend_pattern` emptied and nothing protected in this process: every
  quarter is protected in Python), cold with stored patterns (the process's memory
  emptied again: every quarter's marks come from `trend_pattern`, risk/patterns.py), the
  first request of a new process (a child process that builds the app and asks once),
  then warm;
- GET /trends (the page a committee member opens first), warm; and the page by state
  (which also shows the median time to close, from the rollup's histogram) and by
  acknowledgement. Each page's first request is timed on its own (it protects its view's
  quarters, which the cold runs above emptied), then the warm runs.

Prints median and p99 of each, the API's ratio to the bare query, and exits 1 when the
targets are missed: the warm API at most 1.5 × the bare query, the page's p99 ≤ 300 ms.
Say the machine's load with the numbers (it is printed). The bench empties the
`trend_pattern` table of the database it runs on (the cold first-ever run); what it
stores again stays. `--job` also times the daily job's warm-up (every dimension, every
quarter of the window) from an empty table, then again with everything stored.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.seed import DEFAULT_KEYRING, DEFAULT_URL, make_app

TARGET_RATIO = 1.5
TARGET_PAGE_P99_MS = 300.0
AMU_EMAIL = "amu@scale.trygg.no"
AMU_PASSWORD = "amu-password-1234"  # noqa: S105 - a bench database's login

BARE = """
SELECT r.unit_id, r.occurred_month, t.incident_type, count(*)
FROM report r JOIN report_incident_type t ON t.report_id = r.id
WHERE r.occurred_month BETWEEN :first AND :last
GROUP BY r.unit_id, r.occurred_month, t.incident_type
"""

ROLLUP = """
SELECT unit_id, anonymous, month, category, n FROM trend_count
WHERE dimension IN ('', 'type') AND month BETWEEN :first AND :last AND n <> 0
"""


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def first_then_warm(fn: Callable[[], Any], runs: int) -> tuple[float, list[float]]:
    """The first call's time, then `runs` more."""
    return timed(fn, 1)[0], timed(fn, runs)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), p99(values)


def _ratio(values: list[float], bare: float) -> tuple[float, float, float]:
    """Median, p99 and the median's ratio to the bare query."""
    med, high = _stats(values)
    return med, high, med / bare


def logged_in_client(app: Any) -> Any:
    """A test client logged in as a committee member (amu: no two-factor)."""
    from trygg.accounts import service as accounts
    from trygg.extensions import db

    with app.app_context():
        user = accounts.find_user(AMU_EMAIL)
        if user is None:
            user = accounts.create_user(
                email=AMU_EMAIL,
                name="AMU",
                roles=["amu"],
                password=AMU_PASSWORD,
                actor="bench",
            )
            db.session.commit()
    # Sessions live on the server: log in as a person does, through the JSON API.
    client = app.test_client()
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/session",
        json={"email": AMU_EMAIL, "password": AMU_PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_json()  # noqa: S101
    return client


def api_query(app: Any) -> str:
    from risk import service
    from risk.statistics import add_months

    with app.app_context():
        quarters = service.window()
    first, last = quarters[0], add_months(quarters[-1], 2)
    return f"/api/v1/trends?unit=0&period=month&by=type&from={first:%Y-%m}&to={last:%Y-%m}"


def first_request(url: str, keyring: Path) -> float:
    """A new process's first trends request (the child of --first-request)."""
    app = make_app(url, keyring)
    client = logged_in_client(app)
    query = api_query(app)
    start = time.perf_counter()
    response = client.get(query)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.get_data(as_text=True)[:300]  # noqa: S101
    return elapsed


def in_new_process(url: str, keyring: Path) -> float:
    command = [sys.executable, "-m", "bench.trends", "--first-request"]
    command += ["--database-url", url, "--keyring", str(keyring)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return float(done.stdout.strip().splitlines()[-1])


def forget_patterns(app: Any, stored: bool) -> None:
    """What a freshly started worker has: nothing protected in memory; and with
    `stored` False, nothing in trend_pattern either."""
    from risk import patterns
    from risk.models import TrendPattern
    from risk.statistics import CACHE
    from trygg.extensions import db

    CACHE.items.clear()
    patterns.STORE._touched.clear()
    if not stored:
        with app.app_context():
            db.session.query(TrendPattern).delete()
            db.session.commit()


def time_job(app: Any) -> tuple[float, float, int]:
    """The daily job's warm-up from an empty table, then with everything stored."""
    from risk import patterns
    from risk.models import TrendPattern
    from trygg.extensions import db

    forget_patterns(app, stored=False)
    with app.app_context():
        start = time.perf_counter()
        patterns.warm()
        db.session.commit()
        empty = time.perf_counter() - start
        forget_patterns(app, stored=True)
        start = time.perf_counter()
        patterns.warm()
        db.session.commit()
        full = time.perf_counter() - start
        rows = db.session.query(TrendPattern).count()
        db.session.rollback()
    return empty, full, rows


def run(url: str, keyring: Path, runs: int, job: bool = False) -> int:
    from risk import service
    from risk.statistics import add_months
    from trygg.extensions import db

    app = make_app(url, keyring)
    client = logged_in_client(app)
    with app.app_context():
        quarters = service.window()
        first, last = quarters[0], add_months(quarters[-1], 2)
        reports = db.session.scalar(text("SELECT count(*) FROM report"))

        def bare() -> None:
            db.session.execute(text(BARE), {"first": first, "last": last}).all()
            db.session.rollback()

        def floor() -> None:
            db.session.execute(text(ROLLUP), {"first": first, "last": last}).all()
            db.session.rollback()

        bare_times = timed(bare, runs)
        floor_times = timed(floor, runs)
    query = api_query(app)

    def api() -> None:
        response = client.get(query)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]  # noqa: S101

    forget_patterns(app, stored=False)
    cold = timed(api, 1)[0]
    cold_stored = []
    for _ in range(3):
        forget_patterns(app, stored=True)
        cold_stored += timed(api, 1)
    fresh = [in_new_process(url, keyring) for _ in range(2)]
    api_times = timed(api, runs)
    # Each page's first request protects its view's quarters (the patterns were emptied
    # above): timed on its own, so that "warm" is warm and the cold cost still shows.
    page_first, page_times = first_then_warm(lambda: client.get("/trends?unit=0"), runs)
    state_first, state_times = first_then_warm(lambda: client.get("/trends?unit=0&by=state"), runs)
    ack_first, ack_times = first_then_warm(
        lambda: client.get("/trends?unit=0&by=acknowledged"), runs
    )
    bare_med = statistics.median(bare_times)
    api_med = statistics.median(api_times)
    ratio = api_med / bare_med
    rows = [
        ("bare GROUP BY unit, month, type", bare_med, p99(bare_times), 1.0),
        ("bare SELECT of the rollup's rows", *_stats(floor_times), None),
        ("GET /api/v1/trends (org, month, type), warm", api_med, p99(api_times), ratio),
        ("GET /trends (page), warm", statistics.median(page_times), p99(page_times), None),
        ("GET /trends?by=state (page), warm", *_stats(state_times), None),
        ("GET /trends?by=acknowledged (page), warm", *_stats(ack_times), None),
        ("GET /trends (page), its first request", page_first, page_first, None),
        ("GET /trends?by=state (page), its first request", state_first, state_first, None),
        ("GET /trends?by=acknowledged, its first request", ack_first, ack_first, None),
        ("GET /api/v1/trends, cold first-ever", cold, cold, cold / bare_med),
        ("GET /api/v1/trends, cold, patterns stored", *_ratio(cold_stored, bare_med)),
        ("GET /api/v1/trends, first in a new process", *_ratio(fresh, bare_med)),
    ]
    if job:
        empty, full, stored = time_job(app)
        rows.append((f"daily job, empty table ({stored} patterns)", empty, empty, None))
        rows.append(("daily job, everything stored", full, full, None))
    print(f"trends on {reports:,} reports, {len(quarters)} quarters, {runs} runs each")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':48} {'p50 ms':>9} {'p99 ms':>9} {'× bare':>8}")
    for name, med, high, r in rows:
        factor = f"{r:8.2f}" if r is not None else " " * 8
        print(f"{name:48} {med * 1000:9.1f} {high * 1000:9.1f} {factor}")
    ok = ratio <= TARGET_RATIO and p99(page_times) * 1000 <= TARGET_PAGE_P99_MS
    print(
        f"targets: API ≤ {TARGET_RATIO} × bare ({'met' if ratio <= TARGET_RATIO else 'missed'}), "
        f"page p99 ≤ {TARGET_PAGE_P99_MS:.0f} ms "
        f"({'met' if p99(page_times) * 1000 <= TARGET_PAGE_P99_MS else 'missed'})"
    )
    return 0 if ok else 1


def seeded(url: str, keyring: Path) -> bool:
    """Whether the database exists and holds reports readable with this keyring."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if not keyring.exists():
        return False
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # A database seeded before the people index (migration 0026) has no report
            # indexed, and no safety rep's shared cases: it is seeded again.
            query = "SELECT EXISTS (SELECT 1 FROM report WHERE people_index IS NOT NULL)"
            return bool(conn.execute(text(query)).scalar())
    except (OperationalError, ProgrammingError):  # no such database, or not migrated
        return False
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trends", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SCALE_URL", DEFAULT_URL))
    parser.add_argument("--keyring", type=Path, default=DEFAULT_KEYRING)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--job", action="store_true", help="also time the daily job")
    parser.add_argument("--first-request", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_request:
        print(first_request(args.database_url, args.keyring))
        return 0
    if not seeded(args.database_url, args.keyring):
        from bench import seed

        print("no seeded database (or one from before the people index): seeding it first")
        seed.main(["--database-url", args.database_url, "--keyring", str(args.keyring)])
    else:
        from bench.seed import upgrade_seeded

        upgrade_seeded(args.database_url, args.keyring)
    return run(args.database_url, args.keyring, args.runs, args.job)


if __name__ == "__main__":
    sys.exit(main())
