"""`python -m bench.pages`: the lists and the case page on the seeded database (issue 17).

Serves Trygg with gunicorn (2 sync workers, production settings) on the database
`python -m bench.seed` built (BENCH_SCALE_URL, else trygg_bench_scale on the local
server; seed it first), and asks for each page in turn over loopback, one request at a
time, `--runs` times after a warm-up, each request followed by Trygg's authenticated
no-op `GET /api/v1/me` (the baseline measured beside each page, as the machine's load
drifts):

- a handler's queue, first page, default order (nearest deadline), and with each filter;
  API and HTML; budget 3 × /me;
- the case page with 40 timeline events, 10 messages and 5 tasks (decrypting them, every
  read audited); API and HTML; budget 4 ×;
- the queue of a safety representative for a whole division (the cases shared with them
  by consent, closed ones too); API and HTML; budget 3 ×, as a handler's;
- an employee's "My reports" (50 of about a thousand); API and HTML; budget 2 ×;
- the admin user list (20,000 users, first page) and the unit list (500 units, first page);
  budget 3 ×.

Prints p50/p99 of each and its ratio (p50 / p50 of the /me requests beside it); for an
HTML page also its ratio to an authenticated HTML page that renders only the layout
(`/about/access`, as the same user, alternating with it too): the baseline proposed
for HTML pages, shown but not judged. Then the
peak resident memory of each worker (VmHWM, budget 150 MB), and exits 1 when a budget
is missed. Logins: the
handler (user 1), the safety rep (user 401) and the seeded admin get a fresh
authenticator here; the prolific
employee logs in with the seeded password.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.__main__ import _call, gunicorn, peak_rss_mb, worker_pids
from bench.seed import (
    DEFAULT_KEYRING,
    DEFAULT_URL,
    DIVISION_REP,
    PASSWORD,
    make_app,
    upgrade_seeded,
)
from bench.trends import p99, seeded

TARGET_RSS_MB = 150.0
ADMIN_EMAIL = "admin@scale.trygg.no"
TRUST_REP_EMAIL = "hovedverneombud@scale.trygg.no"


@dataclass(frozen=True)
class Page:
    name: str
    who: str
    path: str
    budget: float | None


@dataclass
class Logins:
    handler: tuple[str, str]  # (e-mail, TOTP secret)
    admin: tuple[str, str]
    rep: tuple[str, str]
    trust_rep: tuple[str, str]
    employee: str
    showcase: int
    unit: int


def prepare(url: str, keyring: Path) -> Logins:
    """Fresh authenticators for the handler and the admin; the pages' ids."""
    import pyotp

    from trygg.accounts import service as accounts
    from trygg.accounts.models import User
    from trygg.accounts.service import login, password_codes
    from trygg.extensions import db

    app = make_app(url, keyring)
    with app.app_context():
        out: dict[str, tuple[str, str]] = {}
        for key, user in (
            ("handler", db.session.get(User, 1)),
            ("admin", accounts.find_user(ADMIN_EMAIL)),
            ("rep", db.session.get(User, DIVISION_REP)),
            ("trust_rep", trust_rep_user()),
        ):
            if user is None:
                raise SystemExit(f"no {key} in the seeded database: seed it again")
            # Not reset_two_factor: for a case reader that is a full reset (the password
            # goes too, and a code is mailed). The bench sets both afresh, as the seeder did.
            password_codes.clear_two_factor(user)
            accounts.set_password(user, PASSWORD, actor="bench")
            login.clear_failures(user.email)
            enrolment = accounts.start_enrolment(user)
            accounts.confirm_enrolment(user, pyotp.TOTP(enrolment.secret).now())
            out[key] = (user.email, enrolment.secret)
        employee, showcase, unit = page_ids()
        db.session.commit()
        db.engine.dispose()
    return Logins(
        out["handler"], out["admin"], out["rep"], out["trust_rep"], employee, showcase, unit
    )


def trust_rep_user() -> Any:
    """(in an app context) The safety representative of the whole organisation (the
    hovedverneombud, whose queue holds nearly every shared case), made on first use."""
    from trygg import org
    from trygg.accounts import service as accounts
    from trygg.extensions import db
    from trygg.org import Unit

    found = accounts.find_user(TRUST_REP_EMAIL)
    if found is not None:
        return found
    root = db.session.get(Unit, next(n.unit.id for n in org.tree() if n.depth == 0))
    assert root is not None
    return accounts.create_user(
        email=TRUST_REP_EMAIL,
        name="Hedda Hovedverneombud",
        roles=["employee", "safety_rep"],
        units=[root],
        represented_units=[root],
        actor="bench",
    )


def page_ids() -> tuple[str, int, int]:
    """(in an app context) The employee with the most reports, the showcase case, a
    department."""
    from sqlalchemy import func, select

    from handling.models import Case, CaseEvent
    from reporting.models import Report
    from trygg import org
    from trygg.accounts.models import User
    from trygg.extensions import db

    top = db.session.execute(
        select(Report.owner_tag, func.count())
        .where(Report.owner_tag.is_not(None))
        .group_by(Report.owner_tag)
        .order_by(func.count().desc())
        .limit(1)
    ).one()
    employee = next(
        u.email
        for u in db.session.scalars(select(User).where(User.id > 300).order_by(User.id))
        if _tag(u) == top[0]
    )
    showcase = db.session.scalar(
        select(CaseEvent.case_id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.group_id == 1)
        .group_by(CaseEvent.case_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    unit = next(n.unit.id for n in org.tree() if n.depth == 2)
    return employee, int(showcase or 0), unit


def _tag(user: Any) -> str:
    from reporting import service as reporting

    return str(reporting.owner_tag(user))


def pages(logins: Logins) -> list[Page]:
    q = "/api/v1/cases"
    case = logins.showcase
    return [
        Page("GET /api/v1/me (baseline)", "handler", "/api/v1/me", None),
        Page("queue API, default (active, nearest deadline)", "handler", q, 3),
        Page("queue API, state=closed", "handler", q + "?state=closed", 3),
        Page("queue API, state=all", "handler", q + "?state=all", 3),
        Page("queue API, state=in_progress", "handler", q + "?state=in_progress", 3),
        Page("queue API, deadline=overdue", "handler", q + "?deadline=overdue", 3),
        Page("queue API, deadline=due_soon", "handler", q + "?deadline=due_soon", 3),
        Page("queue API, deadline=ok", "handler", q + "?deadline=ok", 3),
        Page("queue API, track=whistleblowing", "handler", q + "?track=whistleblowing", 3),
        Page("queue API, unit_id=<department>", "handler", f"{q}?unit_id={logins.unit}", 3),
        Page("queue API, incident_type=threat", "handler", q + "?incident_type=threat", 3),
        Page("queue API, assigned=me", "handler", q + "?assigned=me", 3),
        Page("queue API, assigned=none", "handler", q + "?assigned=none", 3),
        Page("queue API, closed, second page", "handler", "<next:state=closed>", 3),
        Page("/cases (HTML), default", "handler", "/cases", 3),
        Page("/cases (HTML), state=closed", "handler", "/cases?state=closed", 3),
        Page("/cases (HTML), state=all", "handler", "/cases?state=all", 3),
        Page("case API, 40 events/10 msgs/5 tasks", "handler", f"/api/v1/cases/{case}", 4),
        Page("case page (HTML), same case", "handler", f"/cases/{case}", 4),
        Page("safety rep's queue API, state=all (a division)", "rep", q + "?state=all", 3),
        Page("/cases (HTML), safety rep, state=all", "rep", "/cases?state=all", 3),
        Page(
            "safety rep's queue API, state=all (the whole trust)", "trust_rep", q + "?state=all", 3
        ),
        Page("My reports API (50 of ~1,100)", "employee", "/api/v1/reports", 2),
        Page("/my-reports (HTML)", "employee", "/my-reports", 2),
        Page("admin user list (20,000 users)", "admin", "/admin/users", 3),
        Page("admin unit list (500 units, first page)", "admin", "/admin/units", 3),
        Page("GET /api/v1/units (500 units)", "admin", "/api/v1/units", 3),
    ]


class Session:
    """One keep-alive connection with a logged-in session's cookies."""

    def __init__(self, port: int, email: str, secret: str | None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.jar: dict[str, str] = {}
        status, data = _call(self.conn, "GET", "/api/v1/csrf", self.jar)
        token = json.loads(data)["csrf_token"]
        body: dict[str, Any] = {"email": email, "password": PASSWORD}
        if secret:
            import pyotp

            totp = pyotp.TOTP(secret)
            # The enrolment used this step's code; the next step's is in the window.
            body["otp"] = totp.generate_otp(totp.timecode(datetime.now(UTC)) + 1)
        status, data = _call(
            self.conn,
            "POST",
            "/api/v1/session",
            self.jar,
            json.dumps(body).encode(),
            {"X-CSRFToken": token},
        )
        if status != 200:
            raise SystemExit(f"login of {email} failed: {status} {data[:300]!r}")

    def get(self, path: str) -> tuple[int, bytes]:
        return _call(self.conn, "GET", path, self.jar)


# An authenticated HTML page that renders the layout (header, navigation, footer) and a
# few paragraphs of static text: the proposed baseline for HTML pages, whose JSON no-op
# baseline (/me) renders no template at all.
LAYOUT_PAGE = "/about/access"


def is_html(page: Page) -> bool:
    return not page.path.startswith(("/api/", "<next:"))


def _timed(
    session: Session, path: str, runs: int, me: Session, layout: bool
) -> tuple[list[float], list[float], list[float]]:
    """The page's times and, alternating with it, /me's (and, for an HTML page, the
    layout page's as the same user): on a machine whose load drifts, each page is
    compared with the baselines measured beside it."""
    for _ in range(3):
        status, data = session.get(path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {data[:300]!r}")
    out: list[float] = []
    base: list[float] = []
    shell: list[float] = []
    steps = [(session, path, out), (me, "/api/v1/me", base)]
    if layout:
        steps.append((session, LAYOUT_PAGE, shell))
    for _ in range(runs):
        for target, where, times in steps:
            start = time.perf_counter()
            status, _data = target.get(where)
            times.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"GET {where}: {status}")
    return out, base, shell


@contextmanager
def served(url: str, keyring: Path, folder: Path, port: int) -> Iterator[tuple[int, int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGG_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "TRYGG_ENV": "production",
            "TRYGG_BASE_URL": "https://trygg.example.org",
            "TRYGG_SECRET_KEY": secrets.token_urlsafe(48),
            "TRYGG_KEYRING_PATH": str(keyring.resolve()),
            "TRYGG_INSTANCE_PATH": str(folder),
            "TRYGG_LOG_LEVEL": "WARNING",
            "DATABASE_URL": make_url(url).render_as_string(hide_password=False),
        }
    )
    with gunicorn("trygg.app:create_app()", env, 2, port) as served_at:
        yield served_at


def run(url: str, keyring: Path, runs: int, port: int) -> int:
    import tempfile

    logins = prepare(url, keyring)
    with (
        tempfile.TemporaryDirectory(prefix="scale-bench-") as folder,
        served(url, keyring, Path(folder), port) as (port, master),
    ):
        sessions = {
            "handler": Session(port, *logins.handler),
            "admin": Session(port, *logins.admin),
            "rep": Session(port, *logins.rep),
            "trust_rep": Session(port, *logins.trust_rep),
            "employee": Session(port, logins.employee, None),
        }
        timings: list[tuple[Page, list[float], list[float], list[float]]] = []
        for page in pages(logins):
            path = page.path
            if path.startswith("<next:"):
                query = path[len("<next:") : -1]
                _s, data = sessions[page.who].get(f"/api/v1/cases?{query}")
                path = f"/api/v1/cases?{query}&after={json.loads(data)['next_cursor']}"
            who = sessions[page.who]
            timings.append((page, *_timed(who, path, runs, sessions["handler"], is_html(page))))
        rss = [peak_rss_mb(pid) for pid in worker_pids(master)]
    missed = []
    print(
        f"pages on the seeded database, {runs} runs each alternating with /api/v1/me, "
        "sequential, 2 gunicorn workers"
    )
    print(
        f"{'':46} {'p50 ms':>8} {'p99 ms':>8} {'/me p50':>8} {'× /me':>7} {'budget':>7}"
        f" {'layout':>7} {'× layout':>8}"
    )
    for page, ts, base, shell in timings:
        med = statistics.median(ts)
        ratio = med / statistics.median(base)
        ok = page.budget is None or ratio <= page.budget
        if not ok:
            missed.append(page.name)
        budget = f"≤ {page.budget:g}" if page.budget else ""
        mark = "" if ok else " MISSED"
        against = ""
        if shell:
            layout = statistics.median(shell)
            against = f" {layout * 1000:7.1f} {med / layout:8.2f}"
        print(
            f"{page.name:46} {med * 1000:8.1f} {p99(ts) * 1000:8.1f} "
            f"{statistics.median(base) * 1000:8.1f} {ratio:7.2f} {budget:>7}{against}{mark}"
        )
    print(f"peak memory per worker (VmHWM): {', '.join(f'{r:.0f} MB' for r in rss)}")
    if any(r > TARGET_RSS_MB for r in rss):
        missed.append(f"worker memory ≤ {TARGET_RSS_MB:.0f} MB")
    print("budgets: " + ("all met" if not missed else "missed: " + "; ".join(missed)))
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SCALE_URL", DEFAULT_URL))
    parser.add_argument("--keyring", type=Path, default=DEFAULT_KEYRING)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--port", type=int, default=8611)
    args = parser.parse_args(argv)
    if not seeded(args.database_url, args.keyring):
        raise SystemExit("no seeded database: run python -m bench.seed first (see README)")
    upgrade_seeded(args.database_url, args.keyring)
    return run(args.database_url, args.keyring, args.runs, args.port)


if __name__ == "__main__":
    sys.exit(main())
