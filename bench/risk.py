"""`python -m bench.risk`: an assessment's pages and PDF at a realistic size (issue 14).

Runs Trygg in-process (Flask's test client, production settings) on a fresh PostgreSQL
database, like bench/inprocess.py, with one approved assessment of 40 items (each with
an incident scope, so every item asks the trends module for its trend) and 120 measures,
a third of them evaluated. Asks for each page in turn, `--runs` times after a warm-up,
each request followed by the authenticated no-op `GET /api/v1/me`, and prints p50/p99
and the ratio of each page's p50 to the p50 of the /me requests beside it (as
bench/pages.py does, so a machine whose load drifts compares like with like):

- the assessment page (HTML: matrix, items with trends, comments, triggers);
- the assessment in the API;
- the action plan (HTML);
- the print view;
- the PDF of the assessment and its action plan.

A tool for seeing what an assessment costs next to the cheapest request; no budget is
enforced (not part of `make bench`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.__main__ import PASSWORD, fresh_database, prepare
from bench.trends import p99

MANAGER = "leder@example.org"
ITEMS = 40
MEASURES_PER_ITEM = 3
PLACES = ["front_desk", "patient_room", "home_visit", "outdoors"]
FACTORS = ["where_when", "alarms", "lone_work", "staffing", "competence"]


def _manager(env: dict[str, str]) -> None:
    from trygg import org
    from trygg.accounts import service as accounts
    from trygg.app import create_app
    from trygg.extensions import db

    app = create_app(environ=env)
    with app.app_context():
        unit = org.all_units()[0]
        accounts.create_user(
            email=MANAGER,
            name="Lise Leder",
            roles=["manager", "employee"],
            units=[unit],
            managed_units=[unit],
            password=PASSWORD,
            actor="bench",
        )
        db.session.commit()
        db.engine.dispose()


def _post(client: Any, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body, headers={"X-CSRFToken": token})
    if response.status_code not in (200, 201):
        raise SystemExit(f"POST {path}: {response.status_code} {response.data[:300]!r}")
    found: dict[str, Any] = response.get_json()
    return found


def build(client: Any, token: str, unit_id: int) -> int:
    """The assessment: 40 items, approved, then 120 measures, 40 of them evaluated."""
    today = date.today()
    aid = _post(
        client,
        token,
        "/api/v1/risk/assessments",
        {
            "unit_id": unit_id,
            "title": "Vold og trusler i akuttmottaket",
            "work_kind": "Kvelds- og nattevakter",
            "period_start": today.isoformat(),
            "period_end": (today + timedelta(days=365)).isoformat(),
            "next_review": (today + timedelta(days=180)).isoformat(),
        },
    )["id"]
    for n in range(ITEMS):
        _post(
            client,
            token,
            f"/api/v1/risk/assessments/{aid}/items",
            {
                "hazard": f"Fare {n + 1}: utagerende pasient eller pårørende, situasjon {n + 1}",
                "factors": FACTORS[: 1 + n % len(FACTORS)],
                "existing_measures": "Alarmknapp, to på vakt etter kl. 22.",
                "likelihood": 1 + n % 5,
                "consequence": 1 + (n * 3) % 5,
                "likelihood_after": 1 + n % 3,
                "consequence_after": 1 + (n * 3) % 4,
                "scope_places": [PLACES[n % len(PLACES)]],
            },
        )
    _post(client, token, f"/api/v1/risk/assessments/{aid}/status", {"status": "approved"})
    me = client.get("/api/v1/me").get_json()["id"]
    for n in range(ITEMS * MEASURES_PER_ITEM):
        measure = _post(
            client,
            token,
            f"/api/v1/risk/assessments/{aid}/measures",
            {
                "item_ref": 1 + n % ITEMS,
                "goal": f"Mål {n + 1}: raskere hjelp",
                "what": "Alarmknapper i skranken, øvelse hver tredje måned.",
                "responsible_id": me,
                "deadline": (today + timedelta(days=n)).isoformat(),
                "status": "done" if n % 3 == 0 else "planned",
            },
        )
        if n % 3 == 0:
            _post(
                client,
                token,
                f"/api/v1/risk/assessments/{aid}/measures/{measure['id']}/evaluations",
                {"result": "partly", "next_step": "Øve mer på bruken."},
            )
    return int(aid)


def measure(client: Any, path: str, runs: int) -> tuple[list[float], list[float]]:
    """The page's times and, alternating with them, /me's."""
    for _ in range(3):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.data[:300]!r}")
    page: list[float] = []
    base: list[float] = []
    for _ in range(runs):
        for where, times in ((path, page), ("/api/v1/me", base)):
            start = time.perf_counter()
            status = client.get(where).status_code
            times.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"GET {where}: {status}")
    return page, base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.risk")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)

    from trygg.app import create_app
    from trygg.extensions import db

    with fresh_database() as url, tempfile.TemporaryDirectory() as folder:
        env, unit_id = prepare(Path(folder), url)
        _manager(env)
        app = create_app(environ=env)
        client = app.test_client()
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        _post(client, token, "/api/v1/session", {"email": MANAGER, "password": PASSWORD})
        token = client.get("/api/v1/csrf").get_json()["csrf_token"]
        started = datetime.now(UTC)
        aid = build(client, token, unit_id)
        built = (datetime.now(UTC) - started).total_seconds()
        print(f"assessment {aid}: {ITEMS} items, {ITEMS * MEASURES_PER_ITEM} measures")
        print(f"(built in {built:.1f} s through the API)")
        pages = [
            ("assessment page (HTML)", f"/risk/assessments/{aid}"),
            ("assessment API", f"/api/v1/risk/assessments/{aid}"),
            ("action plan (HTML)", f"/risk/assessments/{aid}/plan"),
            ("print view", f"/risk/assessments/{aid}/print"),
            ("PDF", f"/risk/assessments/{aid}/pdf"),
        ]
        print(f"{'page':28} {'p50 ms':>8} {'p99 ms':>8} {'/me p50':>8} {'ratio':>6}")
        for name, path in pages:
            page, base = measure(client, path, args.runs)
            p50, me50 = statistics.median(page) * 1000, statistics.median(base) * 1000
            print(f"{name:28} {p50:8.1f} {p99(page) * 1000:8.1f} {me50:8.2f} {p50 / me50:6.1f}")
        size = len(client.get(f"/risk/assessments/{aid}/pdf").data)
        print(f"PDF size: {size / 1024:.0f} kB")
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
