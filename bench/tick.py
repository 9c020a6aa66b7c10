"""`python -m bench.tick` (part of `make bench`): the scheduler tick over a backlog.

A fresh PostgreSQL database with 1,000 cases and 100,000 open deadlines, of which 2,000
are due: 1,000 reminders (due within their lead time) and 1,000 escalations (passed).
In the same run, three times each:

- the floor: a bare `UPDATE deadline SET reminded_at = now() WHERE <due> RETURNING …`
  over exactly those rows (rolled back, so the rows stay due);
- the floor with the writes: the same UPDATE and a bare `INSERT … SELECT` of as many
  notification rows as the tick writes (3,000, each with its unique dedupe key, its
  foreign key and the table's indexes), rolled back: what any tick must at least do;
- Trygg's tick: claim the due rows (FOR UPDATE SKIP LOCKED), find who is told (group
  members, exclusions, escalation contacts, preferences), write one notification per
  recipient (two handlers for a reminder, the admin for an escalation: 3,000 rows),
  mark the deadlines, then deliver the e-mails (no SMTP server: each is logged as
  "would send") — reset between runs, and each measurement starts after a VACUUM.
  The process is set up as `trygg scheduler run` sets itself up (trygg/serving.py).

Prints the deadline job's rows per second against the floor's (issue 12's target: ratio
>= 0.3), against the floor with the writes, and the whole tick's time (target < 10 s);
exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, or_, select, text, update

from bench.__main__ import fresh_database, prepare

TARGET_RATIO = 0.3
TARGET_TICK_SECONDS = 10.0
CASES = 1000
PER_CASE = 100
DUE_REMINDERS = 1000
DUE_ESCALATIONS = 1000

BARE = text(
    """
    UPDATE deadline SET reminded_at = :now
    WHERE met_at IS NULL AND cancelled_at IS NULL AND escalated_at IS NULL
      AND due_at <= :now + interval '1 day'
      AND (due_at <= :now OR reminded_at IS NULL)
    RETURNING id, case_id, kind, due_at
    """
)

NOTIFICATION_ROWS = 2 * DUE_REMINDERS + DUE_ESCALATIONS
WRITES = text(
    """
    INSERT INTO notification (dedupe_key, user_id, kind, link, subject, created_at,
        mail_state, mail_key, attempts, next_attempt_at)
    SELECT 'floor:' || g, :user_id, 'deadline_reminder', '/cases/' || g, 'deadline:' || g,
        :now, 'pending', 'floor:' || g, 0, :now
    FROM generate_series(1, :rows) AS g
    """
)


def seed(app: Any, now: datetime) -> None:
    """1,000 cases (copies of one real case's report) with 100 deadlines each."""
    from handling.models import Case, Deadline
    from reporting.models import Report
    from reporting.schemas import ReportSchema
    from reporting.service import submit_report
    from trygg.accounts import service as accounts
    from trygg.accounts.models import User
    from trygg.extensions import db

    with app.app_context():
        # Escalations go to the admins (the group names no escalation contacts).
        accounts.create_user(
            email="admin@example.org",
            name="Admin",
            roles=["admin"],
            units=[],
            password="bench-admin-password",  # noqa: S106 - a throwaway benchmark account
            actor="bench",
        )
        employee = db.session.scalars(select(User).where(User.email.like("bench@%"))).one()
        data = ReportSchema().load(
            {
                "incident_types": ["threat"],
                "occurred_at": (now - timedelta(hours=1)).isoformat(),
                "unit_id": employee.units[0].id,
                "place_type": "front_desk",
                "counterpart_category": "customer",
                "severity": 2,
                "narrative": "A customer threatened me.",
            }
        )
        submit_report(data, reporter=employee)
        db.session.commit()
        report = db.session.scalars(select(Report)).one()
        case = db.session.scalars(select(Case)).one()
        columns = [c.name for c in Report.__table__.columns if c.name not in ("id", "reference")]
        source = {c: getattr(report, c) for c in columns}
        db.session.execute(
            insert(Report), [{**source, "reference": f"B-{n:06d}"} for n in range(CASES - 1)]
        )
        report_ids = [
            r for r in db.session.scalars(select(Report.id).order_by(Report.id)) if r != report.id
        ]
        case_columns = [c.name for c in Case.__table__.columns if c.name not in ("id", "report_id")]
        case_source = {c: getattr(case, c) for c in case_columns}
        db.session.execute(insert(Case), [{**case_source, "report_id": r} for r in report_ids])
        db.session.execute(delete(Deadline))
        case_ids = list(db.session.scalars(select(Case.id).order_by(Case.id)))
        rows = []
        for index, case_id in enumerate(case_ids):
            for n in range(PER_CASE):
                due = now + timedelta(days=30 + n)  # open, not due
                slot = index * PER_CASE + n
                if slot < DUE_REMINDERS * PER_CASE and n == 0:
                    due = now + timedelta(hours=2)  # its reminder is due (lead: a day)
                elif slot < DUE_ESCALATIONS * PER_CASE and n == 1:
                    due = now - timedelta(hours=2)  # passed
                rows.append(
                    {"case_id": case_id, "kind": "acknowledge", "due_at": due, "created_at": now}
                )
        db.session.execute(insert(Deadline), rows)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def bare(app: Any, now: datetime) -> tuple[float, int]:
    from trygg.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        started = time.perf_counter()
        count = len(connection.execute(BARE, {"now": now}).all())
        seconds = time.perf_counter() - started
        transaction.rollback()
        connection.close()
    return seconds, count


def floor_with_writes(app: Any, now: datetime) -> float:
    """The bare UPDATE and a bare INSERT of the tick's 3,000 notification rows."""
    from trygg.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        user_id = connection.execute(text("SELECT min(id) FROM user_account")).scalar_one()
        started = time.perf_counter()
        connection.execute(BARE, {"now": now}).all()
        connection.execute(WRITES, {"now": now, "user_id": user_id, "rows": NOTIFICATION_ROWS})
        seconds = time.perf_counter() - started
        transaction.rollback()
        connection.close()
    return seconds


def reset(app: Any) -> None:
    """Undo the tick: its notifications gone, its deadlines due again (only the rows it
    marked, so the table does not grow a dead copy of every row each run)."""
    from handling.models import Deadline
    from notifications.models import Notification
    from trygg.extensions import db

    with app.app_context():
        db.session.execute(delete(Notification))
        db.session.execute(
            update(Deadline)
            .where(or_(Deadline.reminded_at.is_not(None), Deadline.escalated_at.is_not(None)))
            .values(reminded_at=None, escalated_at=None)
        )
        db.session.commit()
        db.session.remove()


def vacuum(app: Any) -> None:
    """The dead row versions of the previous measurement (a rolled-back UPDATE leaves as
    many as it touched) cleared, so each measurement starts from the same tables."""
    from trygg.extensions import db

    with (
        app.app_context(),
        db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
    ):
        connection.execute(text("VACUUM ANALYZE deadline, notification"))


def tick(app: Any, now: datetime) -> tuple[float, float, int]:
    """(deadline job seconds, whole tick seconds, deadlines handled)."""
    from notifications import scheduler
    from trygg.extensions import db

    handling_job = scheduler.jobs()["deadlines"]
    with app.app_context():
        ctx = scheduler.TickContext(now=now, owner="bench")
        started = time.perf_counter()
        handled = 0
        while True:
            done = handling_job(ctx)
            db.session.commit()
            handled += done
            if done < ctx.batch:
                break
        job_seconds = time.perf_counter() - started
        scheduler.tick(owner="bench", now=now)  # the rest: tasks, digests, delivery
        whole = time.perf_counter() - started
        db.session.remove()
    return job_seconds, whole, handled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tick", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from trygg import serving
    from trygg.app import create_app

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trygg-tick-")))
        database_url = stack.enter_context(fresh_database())
        env, _unit = prepare(folder, database_url)
        app = create_app(environ=env)
        now = datetime.now(UTC)
        seed(app, now)
        # As `trygg scheduler run` starts: its full GC pauses walk only what ticks add.
        serving.warm_and_freeze(app)
        floors, writes, jobs, wholes = [], [], [], []
        for _ in range(args.runs):
            vacuum(app)
            seconds, count = bare(app, now)
            assert count == DUE_REMINDERS + DUE_ESCALATIONS, count
            floors.append(seconds)
            vacuum(app)
            writes.append(floor_with_writes(app, now))
            vacuum(app)
            job_seconds, whole, handled = tick(app, now)
            assert handled == count, (handled, count)
            jobs.append(job_seconds)
            wholes.append(whole)
            reset(app)
        with app.app_context():
            from trygg.extensions import db

            db.engine.dispose()
    rows = DUE_REMINDERS + DUE_ESCALATIONS
    floor, written, job, whole = (statistics.median(x) for x in (floors, writes, jobs, wholes))
    ratio = floor / job
    print(
        f"scheduler tick: {CASES * PER_CASE:,} open deadlines, {rows:,} due "
        f"({DUE_REMINDERS:,} reminders, {DUE_ESCALATIONS:,} escalations), two handlers per "
        f"group, PostgreSQL; median of {args.runs} runs"
    )
    print(f"{'':34}{'seconds':>9}{'rows/s':>10}{'ratio':>7}")
    print(f"{'bare UPDATE ... RETURNING':34}{floor:9.3f}{rows / floor:10.0f}{1:7.2f}")
    print(
        f"{'bare UPDATE + INSERT of 3,000 rows':34}{written:9.3f}{rows / written:10.0f}"
        f"{floor / written:7.2f}"
    )
    print(f"{'deadline job (claim, notify, mark)':34}{job:9.3f}{rows / job:10.0f}{ratio:7.2f}")
    print(
        f"{'whole tick (and 3,000 e-mails)':34}{whole:9.3f}{rows / whole:10.0f}{floor / whole:7.2f}"
    )
    print(f"deadline job against the floor with the writes: {written / job:.2f}")
    ratio_ok = ratio >= TARGET_RATIO
    tick_ok = whole < TARGET_TICK_SECONDS
    print(f"ratio: {ratio:.2f} (target >= {TARGET_RATIO}) {'OK' if ratio_ok else 'MISSED'}")
    print(
        f"whole backlog in one tick: {whole:.2f} s (target < {TARGET_TICK_SECONDS:g} s) "
        f"{'OK' if tick_ok else 'MISSED'}"
    )
    return 0 if ratio_ok and tick_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
