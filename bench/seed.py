"""`python -m bench.seed --reports 1000000`: a health trust's worth of data, really sealed.

Builds, in a fresh PostgreSQL database, an organisation of 500 units in a tree of depth
4 (a trust, 8 divisions, 64 departments, 427 sections), 20,000 users, 300 case handlers
in 20 groups with routing rules, and five years of reports drawn from risk.demo's
generator (seasonal, most in emergency, psychiatry and home care, most in the evening),
each with its case: about 5 % still open, the rest closed, dropped or forwarded, with
deadlines met in time, late or not; follow-up tasks, messages and attachments on a sample
(a third of those tasks shared with the safety representative by the exposed employee's
consent; user 401 is safety representative for a whole division). The people index
(report_person) names each report's exposed employee and reporter. Every sealed field is
sealed with the app's own crypto under a per-report data key from the keyring given
(created if missing), so pages decrypt real data.

Rows go in with COPY (bulk users share one argon2 hash; the printed logins are made
through the accounts service), with the trends rollup's triggers off in that transaction
and the rollup filled once at the end (trend_count_rebuild(), migration 0020); then
sequences are set and the tables analysed. The
database URL, keyring and logins are printed at the end and written to
<keyring dir>/scale-logins.txt. Default database: trygg_bench_scale on the local server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/trygg_bench_scale"
DEFAULT_KEYRING = ROOT / "instance" / "bench-scale" / "keyring.json"
PASSWORD = "scale-password-1234"  # noqa: S105 - printed test logins of a bench database
OPEN_SHARE = 0.05
ACTIVE_STATES = [
    "reported",
    "acknowledged",
    "triaged",
    "in_progress",
    "investigation",
    "measures_decided",
    "measures_done",
    "evaluated",
    "reopened",
]


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.start = label, max(total, 1), 0, time.time()
        self.shown = -1

    def add(self, n: int = 1) -> None:
        self.done += n
        percent = self.done * 100 // self.total
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            elapsed = time.time() - self.start
            sys.stderr.write(f"\r{self.label:<12} [{bar:<25}] {percent:3d}% {elapsed:6.0f} s")
            sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def recreate(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def make_app(url: str, keyring: Path) -> Any:
    from trygg.app import create_app

    return create_app(
        {
            "env": "development",
            "database_url": url,
            "keyring_path": str(keyring),
            "secret_key": os.environ.get("TRYGG_SECRET_KEY", "bench-scale-" + "x" * 32),
            "log_level": "WARNING",
        }
    )


def upgrade_seeded(url: str, keyring: Path) -> None:
    """Bring a database seeded by an earlier version to the current migrations, so that
    the pages are measured with the indexes the code expects (a migration that only adds
    an index or a table needs no new seeding; `bench.trends.seeded` asks for one when the
    seeder's data changed)."""
    from flask_migrate import upgrade

    from trygg.extensions import db

    app = make_app(url, keyring)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


# -- the organisation -------------------------------------------------------------------

DIVISIONS = ["Akutt", "Psykisk helse", "Medisin", "Kirurgi", "Kommunehelse", "Rus", "Barn", "Stab"]


def units_plan(rng: random.Random) -> list[tuple[int, int | None, str, int, str]]:
    """(id, parent id, name, headcount, profile) for 500 units, depth 4."""
    out: list[tuple[int, int | None, str, int, str]] = [(1, None, "Helseforetaket", 0, "office")]
    next_id = 2
    sections_left = 427
    for d, division in enumerate(DIVISIONS):
        div_id = next_id
        next_id += 1
        out.append((div_id, 1, f"Divisjon {division}", 0, "office"))
        for dep in range(8):
            dep_id = next_id
            next_id += 1
            profile = _profile(division, dep)
            out.append(
                (dep_id, div_id, f"{division} avdeling {dep + 1}", rng.randint(3, 12), profile)
            )
            count = 7 if sections_left > (63 - d * 8 - dep) * 6 else 6
            count = min(count, sections_left)
            for sec in range(count):
                out.append(
                    (
                        next_id,
                        dep_id,
                        f"{division} {dep + 1}.{sec + 1}",
                        rng.choice([3, 8, 15, 25, 40, 60, 80]),
                        profile,
                    )
                )
                next_id += 1
            sections_left -= count
    return out


def _profile(division: str, dep: int) -> str:
    if division in ("Akutt", "Kirurgi"):
        return "emergency"
    if division in ("Psykisk helse", "Rus"):
        return "psychiatry"
    if division == "Kommunehelse":
        return "home_care"
    if division == "Stab":
        return "office"
    return "emergency" if dep % 3 == 0 else "office"


# -- COPY helpers -----------------------------------------------------------------------


def copy_rows(conn: Any, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    count = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _rollup_triggers(conn: Any, action: str) -> None:
    """Switch the trends rollup's triggers (migration 0020) off or on, in this transaction."""
    for table in ("report", "report_incident_type", "case", "deadline"):
        conn.execute(f'ALTER TABLE "{table}" {action} TRIGGER USER')


def set_sequences(conn: Any, tables: list[str]) -> None:
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(  # our own table names, never input
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                f'COALESCE((SELECT max(id) FROM "{table}"), 1))'
            )


# -- the seeding ------------------------------------------------------------------------


def seed(url: str, keyring: Path, reports: int, years: int, seed_value: int) -> dict[str, Any]:
    from flask_migrate import upgrade

    from trygg import crypto
    from trygg.extensions import db

    started = time.time()
    rng = random.Random(seed_value)  # noqa: S311 - synthetic data, not secrets
    if not keyring.exists():
        keyring.parent.mkdir(parents=True, exist_ok=True)
        crypto.create_keyring_file(keyring)
    recreate(url)
    app = make_app(url, keyring)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        plan = units_plan(rng)
        raw = db.engine.raw_connection()
        conn: Any = raw.driver_connection
        try:
            _rollup_triggers(conn, "DISABLE")
            logins = _seed_all(app, conn, plan, rng, reports, years)
            # The rollup's triggers would fire per COPY row: fill it once, in SQL, instead.
            conn.execute("SELECT trend_count_rebuild()")
            _rollup_triggers(conn, "ENABLE")
            conn.commit()
        finally:
            raw.close()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            # VACUUM sets the visibility map, so statistics can use index-only scans.
            for table in (
                "report",
                "report_incident_type",
                "case",
                "deadline",
                "user_account",
                "membership",
                "case_event",
                "trend_count",
                "report_person",
                "follow_up_task",
            ):
                c.execute(text(f'VACUUM ANALYZE "{table}"'))
        db.engine.dispose()
    return {"seconds": time.time() - started, "logins": logins}


def _seed_all(
    app: Any,
    conn: Any,
    plan: list[tuple[int, int | None, str, int, str]],
    rng: random.Random,
    reports: int,
    years: int,
) -> dict[str, str]:
    from trygg.accounts.service import hash_password

    now = datetime.now(UTC)
    copy_rows(
        conn,
        "unit",
        ["id", "name", "parent_id", "headcount", "created_at"],
        ((uid, name, parent, head, now) for uid, parent, name, head, _p in plan),
    )
    sections = [u for u in plan if u[3] > 0]
    password_hash = hash_password(PASSWORD)
    users = _users(conn, sections, rng, password_hash, now)
    _division_rep(conn, plan, users)
    groups = _groups(conn, users["handlers"], plan, now)
    _reports(conn, plan, users, groups, rng, reports, years, now)
    # The cases shared with the safety representatives, by unit (as migration 0026 and
    # handling.service.followup keep them).
    conn.execute(
        'UPDATE "case" SET shared_unit_id = report.unit_id FROM report, follow_up_task t'
        ' WHERE report.id = "case".report_id AND t.case_id = "case".id AND t.consent_to_share'
    )
    set_sequences(
        conn,
        [
            "unit",
            "user_account",
            "handler_group",
            "routing_rule",
            "report",
            "case",
            "deadline",
            "case_event",
            "follow_up_task",
            "case_message",
        ],
    )
    return {"prolific": str(users["prolific"]), "showcase": str(users["showcase"])}


def _users(
    conn: Any, sections: list[Any], rng: random.Random, pw: str, now: datetime
) -> dict[str, Any]:
    """20,000 users: employees in sections, 300 handlers, a manager per department."""
    total = 20_000
    progress = Progress("users", total)
    accounts: list[tuple[Any, ...]] = []
    roles: list[tuple[int, str]] = []
    members: list[tuple[int, int, bool, bool]] = []
    handlers: list[int] = []
    employees_by_unit: dict[int, list[int]] = {}
    for uid in range(1, total + 1):
        email = f"user{uid}@scale.trygg.no"
        accounts.append((uid, email, f"Ansatt {uid}", pw, True, 1, now, False))
        if uid <= 300:
            roles.append((uid, "handler"))
            handlers.append(uid)
        elif uid <= 400:
            roles.append((uid, "manager"))
        elif uid <= 420:
            roles.append((uid, "safety_rep"))
        roles.append((uid, "employee"))
        unit = sections[uid % len(sections)]
        members.append((uid, unit[0], 300 < uid <= 400, 400 < uid <= 420))
        employees_by_unit.setdefault(unit[0], []).append(uid)
        progress.add()
    progress.close()
    copy_rows(
        conn,
        "user_account",
        [
            "id",
            "email",
            "name",
            "password_hash",
            "active",
            "session_version",
            "created_at",
            "totp_enabled",
        ],
        accounts,
    )
    copy_rows(conn, "user_role", ["user_id", "role"], roles)
    copy_rows(conn, "membership", ["user_id", "unit_id", "is_manager", "is_safety_rep"], members)
    return {"handlers": handlers, "by_unit": employees_by_unit, "printed": {}}


# The safety representative whose queue bench.pages measures: verneombud for a whole
# division as well as for their own unit.
DIVISION_REP = 401


def _division_rep(conn: Any, plan: list[Any], users: dict[str, Any]) -> None:
    parent = {uid: up for uid, up, _n, _h, _p in plan}
    unit = next(u for u, staff in users["by_unit"].items() if DIVISION_REP in staff)
    while parent.get(unit) is not None and parent.get(parent[unit]) is not None:
        unit = parent[unit]  # up to the division, just below the top
    conn.execute(
        "INSERT INTO membership (user_id, unit_id, is_manager, is_safety_rep)"
        " VALUES (%s, %s, false, true)",
        (DIVISION_REP, unit),
    )


def _groups(conn: Any, handlers: list[int], plan: list[Any], now: datetime) -> dict[int, int]:
    """20 groups of 15 handlers; rules route each division (and whistleblowing) to one."""
    copy_rows(
        conn,
        "handler_group",
        ["id", "name", "is_default", "is_fallback", "created_at"],
        ((g, f"Gruppe {g}", g == 1, g == 20, now) for g in range(1, 21)),
    )
    copy_rows(
        conn,
        "handler_group_member",
        ["group_id", "user_id"],
        ((1 + i // 15, h) for i, h in enumerate(handlers)),
    )
    divisions = [u for u in plan if u[1] == 1]
    rules: list[tuple[Any, ...]] = [(1, 1, None, None, None, now)]
    group_of: dict[int, int] = {}
    for i, div in enumerate(divisions):
        group = 2 + (i * 2) % 17
        rules.append((len(rules) + 1, group, div[0], None, None, now))
        rules.append((len(rules) + 1, group + 1, div[0], None, "whistleblowing", now))
    # Each department's cases go to one of groups 1-19 (the most specific rule wins), so
    # every group has a queue of its own, about 1/19 of the cases.
    departments = [u for u in plan if u[1] in {d[0] for d in divisions}]
    for i, dep in enumerate(departments):
        group_of[dep[0]] = 1 + i % 19
        rules.append((len(rules) + 1, group_of[dep[0]], dep[0], None, None, now))
    copy_rows(
        conn,
        "routing_rule",
        ["id", "group_id", "unit_id", "incident_type", "track", "created_at"],
        rules,
    )
    return group_of


PROFILES: dict[str, Any] = {}


def _profiles() -> dict[str, Any]:
    from risk import demo

    return {
        "emergency": demo.EMERGENCY,
        "psychiatry": demo.PSYCHIATRY,
        "home_care": demo.HOME_CARE,
        "office": demo.OFFICE,
    }


def _reports(
    conn: Any,
    plan: list[Any],
    users: dict[str, Any],
    group_of: dict[int, int],
    rng: random.Random,
    reports: int,
    years: int,
    now: datetime,
) -> None:
    from reporting.service import month_of
    from risk import demo

    profiles = _profiles()
    first = date(now.year - years, now.month, 1)
    this_month = month_of(now)
    weights = [(u[0], u[3], profiles[u[4]]) for u in plan if u[3] > 0]
    expected = sum(p.rate * h / 100 for _u, h, p in weights) * 12 * years
    scale = reports / expected * 1.05  # draw a little more, then keep exactly `reports`
    weights = [(u, h, _scaled(p, scale)) for u, h, p in weights]
    division_of = {u[0]: _division(u[0], plan) for u in plan}
    progress = Progress("reports", reports)
    found = [i for i in demo.incidents(weights, first, this_month, rng) if i.occurred < now]
    rng.shuffle(found)
    found = sorted(found[:reports], key=lambda i: i.occurred)
    writer = _Writer(conn, users, group_of, division_of, rng, now)
    for batch in _batches(found, 20_000):
        writer.write(batch)
        progress.add(len(batch))
    progress.close()
    writer.counters()
    users["showcase"] = writer.showcase


def _scaled(profile: Any, scale: float) -> Any:
    from dataclasses import replace

    return replace(profile, rate=profile.rate * scale)


def _division(uid: int, plan: list[Any]) -> int:
    """The department a unit belongs to (depth 2), or the unit itself above that."""
    parent = {u[0]: u[1] for u in plan}
    while parent.get(parent.get(uid)) not in (1, None):
        uid = parent[uid] or uid
    return uid


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Writer:
    """Seals and COPYs reports, their types, cases, deadlines, events and a sample of
    tasks, messages and attachments."""

    def __init__(
        self,
        conn: Any,
        users: dict[str, Any],
        group_of: dict[int, int],
        division_of: dict[int, int],
        rng: random.Random,
        now: datetime,
    ) -> None:
        from trygg import keys

        self.conn, self.users, self.group_of, self.division_of = conn, users, group_of, division_of
        self.rng, self.now = rng, now
        self.ring = keys.keyring()
        self.report_id = self.case_id = self.deadline_id = self.event_id = 0
        self.task_id = self.message_id = 0
        self.showcase: int | None = None
        self.refs: dict[int, int] = {}
        self.tags: dict[int, str] = {}
        from trygg import crypto

        self.owner_key = self.ring.derive("report-owner")
        self.person_key = self.ring.derive("report-person")
        self.person_tags: dict[int, str] = {}
        self.keyed_hash = crypto.keyed_hash
        # One employee with many reports (a "My reports" of about a thousand).
        self.prolific = next(u for staff in users["by_unit"].values() for u in staff if u > 420)
        users["prolific"] = self.prolific

    def settle(self, course: Any) -> Any:
        """About 5 % of cases open (in every active state), 1 % forwarded, the rest
        closed or dropped, with a plausible closing time."""
        roll = self.rng.random()
        if roll < OPEN_SHARE:
            course.state = self.rng.choice(ACTIVE_STATES)
            course.closed = None
        elif roll < OPEN_SHARE + 0.01:
            course.state, course.closed = "forwarded", None
        elif course.state not in ("closed", "dropped"):
            days = min(self.rng.lognormvariate(3.1, 0.6), 365)
            closed = min(course.opened + timedelta(days=days), self.now)
            course.state, course.closed = "closed", closed
        return course

    def person_tag(self, uid: int) -> str:
        if uid not in self.person_tags:
            self.person_tags[uid] = self.keyed_hash(self.person_key, f"user:{uid}")
        return self.person_tags[uid]

    def owner(self, unit_id: int) -> tuple[int, str]:
        staff = self.users["by_unit"].get(unit_id) or [self.prolific]
        uid = self.prolific if self.rng.random() < 0.0011 else self.rng.choice(staff)
        if uid not in self.tags:
            self.tags[uid] = self.keyed_hash(self.owner_key, f"user:{uid}")
        return uid, self.tags[uid]

    def write(self, batch: list[Any]) -> None:
        from risk import demo

        reports: list[tuple[Any, ...]] = []
        types: list[tuple[Any, ...]] = []
        cases: list[tuple[Any, ...]] = []
        deadlines: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        people: list[tuple[Any, ...]] = []
        for incident in batch:
            self.report_id += 1
            rid = self.report_id
            key, wrapped = self.ring.new_data_key()
            course = self.settle(demo.course(incident, self.now, self.rng))
            year = incident.occurred.year
            self.refs[year] = self.refs.get(year, 0) + 1
            uid, tag = self.owner(incident.unit_id)

            def seal(
                column: str, value: Any, row: int = rid, table: str = "report", key: Any = key
            ) -> bytes:
                plain = value if isinstance(value, str) else json.dumps(value)
                return bytes(key.seal(plain, table=table, column=column, row=row))

            reports.append(self._report_row(incident, rid, wrapped, tag, course, seal, uid, year))
            # The people index (reporting/people_index.py): the exposed and the reporter.
            people.extend((rid, role, self.person_tag(uid)) for role in ("exposed", "reporter"))
            types.extend((rid, t) for t in incident.types)
            self.case_id += 1
            cid = self.case_id
            group = self.group_of.get(self.division_of.get(incident.unit_id, 0), 1)
            handler = self.users["handlers"][(group - 1) * 15 + self.rng.randrange(15)]
            open_due = [due for _k, due, met in course.deadlines if met is None]
            cases.append(
                (
                    cid,
                    rid,
                    course.track,
                    course.state,
                    group,
                    handler,
                    course.section_5_2,
                    False,
                    "[]",
                    course.opened,
                    course.closed or course.opened,
                    course.closed,
                    None if course.closed or not open_due else min(open_due),
                )
            )
            for kind, due, met in course.deadlines:
                self.deadline_id += 1
                cancelled = course.closed if met is None and course.closed else None
                deadlines.append((self.deadline_id, cid, kind, due, met, cancelled, course.opened))
            self.event_id += 1
            events.append((self.event_id, cid, course.opened, "opened", "{}", "system"))
            if self.showcase is None and course.closed is None and group == 1:
                # The case page's budget: 40 timeline events, 10 messages, 5 tasks.
                self.showcase = cid
                self._showcase(cid, handler, course.opened, seal, events, tasks, messages)
            elif self.rng.random() < 0.02:
                self.task_id += 1
                tasks.append(
                    (
                        self.task_id,
                        cid,
                        "leader_contact",
                        None,
                        course.opened,
                        "done",
                        seal("note", "Samtale gjennomført.", self.task_id, "follow_up_task"),
                        # A third of the exposed agree to share with the safety rep.
                        self.task_id % 3 == 0,
                        course.opened,
                        course.opened,
                    )
                )
                self.message_id += 1
                messages.append(
                    (
                        self.message_id,
                        cid,
                        "handler",
                        handler,
                        False,
                        False,
                        None,
                        seal(
                            "body",
                            "Takk for meldingen. Vi følger opp.",
                            self.message_id,
                            "case_message",
                        ),
                        course.opened,
                    )
                )
        copy_rows(self.conn, "report", REPORT_COLUMNS, reports)
        copy_rows(self.conn, "report_incident_type", ["report_id", "incident_type"], types)
        copy_rows(self.conn, "report_person", ["report_id", "role", "person_tag"], people)
        copy_rows(
            self.conn,
            "case",
            [
                "id",
                "report_id",
                "track",
                "state",
                "group_id",
                "assigned_user_id",
                "section_5_2",
                "follow_up_duty",
                "causes",
                "opened_at",
                "updated_at",
                "closed_at",
                "next_due_at",
            ],
            cases,
        )
        copy_rows(
            self.conn,
            "deadline",
            ["id", "case_id", "kind", "due_at", "met_at", "cancelled_at", "created_at"],
            deadlines,
        )
        copy_rows(
            self.conn, "case_event", ["id", "case_id", "at", "kind", "codes", "actor"], events
        )
        copy_rows(
            self.conn,
            "follow_up_task",
            [
                "id",
                "case_id",
                "template",
                "responsible_user_id",
                "due_at",
                "status",
                "note_sealed",
                "consent_to_share",
                "created_at",
                "completed_at",
            ],
            tasks,
        )
        copy_rows(
            self.conn,
            "case_message",
            [
                "id",
                "case_id",
                "author_kind",
                "author_user_id",
                "internal",
                "identity",
                "reporter_seq",
                "body_sealed",
                "created_at",
            ],
            messages,
        )

    def _showcase(
        self,
        cid: int,
        handler: int,
        opened: datetime,
        seal: Any,
        events: list[tuple[Any, ...]],
        tasks: list[tuple[Any, ...]],
        messages: list[tuple[Any, ...]],
    ) -> None:
        templates = [
            "leader_contact",
            "bht_offer",
            "individual_talk",
            "recontact",
            "learning_review",
        ]
        for n, template in enumerate(templates):
            self.task_id += 1
            when = opened + timedelta(hours=n + 1)
            note = seal(
                "note", f"Oppfølging {n + 1}: avtalt samtale.", self.task_id, "follow_up_task"
            )
            tasks.append(
                (
                    self.task_id,
                    cid,
                    template,
                    handler,
                    when + timedelta(days=7),
                    "open",
                    note,
                    False,
                    when,
                    None,
                )
            )
        for n in range(10):
            self.message_id += 1
            author = "handler" if n % 2 == 0 else "reporter"
            body = seal("body", f"Melding nummer {n + 1} i saken.", self.message_id, "case_message")
            messages.append(
                (
                    self.message_id,
                    cid,
                    author,
                    handler if author == "handler" else None,
                    False,
                    False,
                    None,
                    body,
                    opened + timedelta(hours=10 + n),
                )
            )
        for n in range(39):
            self.event_id += 1
            kind, codes = (
                ("task_added", {"template": templates[n % 5]})
                if n % 3 == 0
                else ("message", {"author": "handler"})
                if n % 3 == 1
                else ("assigned", {"to": handler})
            )
            events.append(
                (
                    self.event_id,
                    cid,
                    opened + timedelta(minutes=5 * (n + 1)),
                    kind,
                    json.dumps(codes),
                    f"user:{handler}",
                )
            )

    def _report_row(
        self,
        i: Any,
        rid: int,
        wrapped: bytes,
        tag: str,
        course: Any,
        seal: Any,
        uid: int,
        year: int,
    ) -> tuple[Any, ...]:
        from handling.workflow import REPORTER_STATUS
        from reporting.people_index import VERSION as PEOPLE_INDEX_VERSION
        from reporting.service import time_band
        from risk import demo

        return (
            rid,
            f"AVV-{year}-{self.refs[year]:05d}",
            "employee",
            course.opened,
            REPORTER_STATUS[course.state],
            False,
            tag,
            wrapped,
            i.unit_id,
            i.month,
            time_band(i.occurred),
            i.place,
            i.channel,
            i.counterpart,
            i.lone_work,
            i.activity,
            i.severity,
            i.injury,
            i.severity == 4,
            i.sick_leave,
            i.police,
            "[]",
            json.dumps(i.causes),
            False,
            seal("occurred_at", i.occurred.isoformat()),
            seal("narrative", self.rng.choice(demo.NARRATIVES) * 4),
            seal(
                "people",
                {
                    "exposed": [{"user_id": uid, "name": f"Ansatt {uid}"}],
                    "witnesses": [],
                    "counterpart_user_id": None,
                },
            ),
            seal("reporter", {"user_id": uid, "name": f"Ansatt {uid}"}),
            PEOPLE_INDEX_VERSION,
        )

    def counters(self) -> None:
        copy_rows(
            self.conn,
            "reference_counter",
            ["id", "prefix", "year", "value"],
            (
                (n + 1, "AVV", year, value)
                for n, (year, value) in enumerate(sorted(self.refs.items()))
            ),
        )


REPORT_COLUMNS = [
    "id",
    "reference",
    "channel_kind",
    "created_at",
    "status",
    "confidential",
    "owner_tag",
    "wrapped_key",
    "unit_id",
    "occurred_month",
    "time_band",
    "place_type",
    "channel",
    "counterpart_category",
    "lone_work",
    "activity",
    "severity",
    "injury_level",
    "serious_injury",
    "has_sick_leave",
    "police_report",
    "immediate_measures",
    "causes",
    "on_behalf",
    "occurred_at_sealed",
    "narrative_sealed",
    "people_sealed",
    "reporter_sealed",
    "people_index",
]


def printed_logins(url: str, keyring: Path, prolific: int) -> dict[str, str]:
    """Logins for a handler (with TOTP), a manager, the prolific employee, an admin and an
    AMU member, made through the accounts service; attachments on a sample of reports."""
    from sqlalchemy import func, select

    from reporting import service as reporting
    from reporting.models import Report
    from trygg.accounts import service as accounts
    from trygg.accounts.models import Membership, User
    from trygg.extensions import db

    app = make_app(url, keyring)
    out: dict[str, str] = {}
    with app.app_context():
        handler = db.session.get(User, 1)
        manager = db.session.get(User, 301)
        assert handler is not None  # noqa: S101 - seeded above
        assert manager is not None  # noqa: S101 - seeded above
        for user in (handler, manager):
            accounts.set_password(user, PASSWORD, actor="seed")
        enrolment = accounts.start_enrolment(handler)
        import pyotp

        accounts.confirm_enrolment(handler, pyotp.TOTP(enrolment.secret).now())
        out["handler"] = f"{handler.email} / {PASSWORD} / TOTP secret {enrolment.secret}"
        unit = db.session.scalar(select(Membership.unit_id).where(Membership.user_id == 301))
        out["manager"] = f"{manager.email} / {PASSWORD} (leads unit {unit})"
        rep = db.session.get(User, DIVISION_REP)
        if rep is not None:
            accounts.set_password(rep, PASSWORD, actor="seed")
            names = ", ".join(u.name for u in rep.represented_units)
            out["rep"] = f"{rep.email} / {PASSWORD} (safety rep for {names}; sets up TOTP)"
        employee = db.session.get(User, prolific)
        if employee is not None:
            prolific_tag = reporting.owner_tag(employee)
            accounts.set_password(employee, PASSWORD, actor="seed")
            count = db.session.scalar(
                select(func.count()).select_from(Report).where(Report.owner_tag == prolific_tag)
            )
            out["employee"] = f"{employee.email} / {PASSWORD} ({count} reports)"
        admin = accounts.create_user(
            email="admin@scale.trygg.no",
            name="Scale Admin",
            roles=["admin", "amu"],
            password=PASSWORD,
            actor="seed",
        )
        out["admin"] = f"{admin.email} / {PASSWORD} (admin and amu; sets up TOTP at first login)"
        for report in db.session.scalars(select(Report).order_by(Report.id).limit(200)):
            key = reporting.data_key(report)
            reporting.store_attachment(
                report, key, "bilde.txt", "text/plain", b"Vedlegg fra seeding. " * 200, "reporter"
            )
        db.session.commit()
        db.engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SCALE_URL", DEFAULT_URL))
    parser.add_argument("--keyring", type=Path, default=DEFAULT_KEYRING)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    result = seed(args.database_url, args.keyring, args.reports, args.years, args.seed)
    logins = printed_logins(args.database_url, args.keyring, int(result["logins"]["prolific"]))
    lines = [
        f"Seeded {args.reports:,} reports in {result['seconds']:.0f} s.",
        f"database: {args.database_url}",
        f"keyring:  {args.keyring}",
        "serve it: DATABASE_URL=<database> TRYGG_KEYRING_PATH=<keyring> "
        "TRYGG_SECRET_KEY=... .venv/bin/trygg serve",
        *[f"{role:<9} {text}" for role, text in logins.items()],
        f"showcase  case {result['logins']['showcase']} (40 events, 10 messages, 5 tasks)",
    ]
    text_out = "\n".join(lines)
    print(text_out)
    logins_file = args.keyring.parent / "scale-logins.txt"
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text_out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
