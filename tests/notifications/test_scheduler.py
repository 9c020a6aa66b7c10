"""The tick: downtime, two schedulers at once, APScheduler's settings, /healthz."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from handling import service
from handling.models import Deadline
from handling.states import CaseState
from notifications import scheduler
from notifications.kinds import Kind
from notifications.models import Notification
from tests.factories import Factory, user_obj
from tests.handling.conftest import get_case
from tests.notifications.conftest import Mailbox, _free_port, run_tick
from tests.notifications.support import rows
from trygg.app import create_app
from trygg.extensions import db
from trygg.roles import Role


def _acknowledge(app, case_id):
    with app.app_context():
        return next(d for d in get_case(case_id).deadlines if d.kind == "acknowledge")


def test_after_three_hours_down_one_reminder_per_open_deadline_none_for_met(
    app, org, submit, clock
):
    cases = [submit(org.employee, unit_id=org.ward.id) for _ in range(6)]
    start = datetime.now(UTC)
    with app.app_context():
        # Two deadlines fall due, and two reminders come due, while the scheduler is down.
        ids = [_acknowledge(app, c.id).id for c in cases]
        for deadline_id, due in zip(
            ids,
            [start + timedelta(hours=1)] * 3 + [start + timedelta(hours=10)] * 3,
            strict=True,
        ):
            db.session.execute(
                update(Deadline).where(Deadline.id == deadline_id).values(due_at=due)
            )
        db.session.commit()
    clock.move_to(start - timedelta(days=2))  # nothing is due yet
    run_tick(app)
    assert not [
        r for r in rows(app) if r.kind in (Kind.DEADLINE_REMINDER, Kind.DEADLINE_ESCALATION)
    ]
    clock.move_to(start + timedelta(hours=3))  # three hours without a tick
    with app.app_context():
        # Met meanwhile: one that passed, one whose reminder was due.
        for case in (cases[0], cases[3]):
            service.transition(
                get_case(case.id), CaseState.ACKNOWLEDGED, actor=user_obj(org.handler)
            )
        db.session.commit()
    run_tick(app)
    run_tick(app)
    # Only the acknowledge deadlines set up above (a case's other deadlines, such as the
    # leader's contact by the end of the day, depend on the time of day the test runs).
    ours = {f"deadline:{i}" for i in ids}
    by_subject = Counter(
        (r.subject, r.kind)
        for r in rows(app)
        if r.kind in (Kind.DEADLINE_REMINDER, Kind.DEADLINE_ESCALATION) and r.subject in ours
    )
    late = {s for (s, k) in by_subject if k == Kind.DEADLINE_ESCALATION}
    soon = {s for (s, k) in by_subject if k == Kind.DEADLINE_REMINDER}
    # Passed and still open: escalated once each, and no stale reminder before it.
    assert late == {f"deadline:{ids[i]}" for i in (1, 2)}
    # Coming up and still open: one reminder each (two handlers in the group).
    assert soon == {f"deadline:{ids[i]}" for i in (4, 5)}
    assert all(n == 2 for (s, k), n in by_subject.items() if k == Kind.DEADLINE_REMINDER)
    with app.app_context():
        for i in (1, 2):
            row = db.session.get(Deadline, ids[i])
            assert row.escalated_at is not None
            assert row.reminded_at is not None


def test_the_scheduler_is_only_a_clock(base_app):
    runner = scheduler.build_scheduler(base_app, blocking=False)
    (job,) = runner.get_jobs()
    interval = base_app.config["TRYGG"]["scheduler_interval_seconds"]
    assert job.trigger.interval == timedelta(seconds=interval)
    assert job.coalesce is True
    assert job.max_instances == 1
    assert job.misfire_grace_time == interval
    assert type(runner._jobstores["default"]).__name__ == "MemoryJobStore"  # noqa: SLF001


def test_the_factory_starts_no_scheduler(settings):
    import threading

    before = {t.name for t in threading.enumerate()}
    create_app(settings)
    after = {t.name for t in threading.enumerate()}
    assert after == before
    assert scheduler._embedded is None  # noqa: SLF001


def test_the_embedded_tick_starts_once_and_not_in_the_reloader_parent(
    make_app, scratch_database, monkeypatch
):
    # Its own database: the embedded tick runs at once, in another thread.
    app = make_app(database_url=scratch_database, scheduler_interval_seconds=3600)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert scheduler.start_embedded(app, reloader=True) is None
    first = scheduler.start_embedded(app)
    try:
        assert first is not None
        assert first.running
        assert scheduler.start_embedded(app) is None
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        assert scheduler.start_embedded(app, reloader=True) is None  # already running
    finally:
        scheduler.stop_embedded()
    assert scheduler._embedded is None  # noqa: SLF001


def test_healthz_reports_the_last_tick_and_the_backlog(app, client, org, submit):
    body = client.get("/healthz").get_json()
    assert body["scheduler"]["last_run_at"] is None
    submit(org.employee, unit_id=org.ward.id)
    assert client.get("/healthz").get_json()["outbox"]["pending"] == 2
    run_tick(app)
    body = client.get("/healthz").get_json()
    assert body["scheduler"]["last_run_at"] is not None
    assert body["outbox"] == {"pending": 0, "oldest_due_seconds": 0}


TICKER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError
    from trygg.app import create_app
    from trygg.extensions import db
    from handling.models import Deadline
    from notifications import scheduler
    from notifications.models import Notification

    app = create_app()
    deadline = time.monotonic() + 120
    with app.app_context():
        while time.monotonic() < deadline:
            scheduler.run_once(app, sys.argv[1])  # as `trygg scheduler run` ticks
            try:
                left = db.session.scalar(
                    select(func.count()).select_from(Deadline)
                    .where(Deadline.reminded_at.is_(None))
                )
                pending = db.session.scalar(
                    select(func.count()).select_from(Notification)
                    .where(Notification.mail_state == "pending")
                )
                db.session.commit()
            except OperationalError:  # SQLite: the other scheduler holds the write lock
                db.session.rollback()
                continue
            if not left and not pending:
                break
    """
)


@pytest.mark.real_clock
def test_two_schedulers_at_once_send_each_reminder_exactly_once(
    base_settings, scratch_database, tmp_path
):
    app = create_app({**base_settings, "database_url": scratch_database})
    make = Factory(app)
    unit = make.unit("Avdeling")
    handler = make.user(Role.HANDLER, units=(unit,))
    employee = make.user(Role.EMPLOYEE, units=(unit,))
    with app.app_context():
        service.save_group(actor="test", name="HMS", member_ids=[handler.id], is_default=True)
        db.session.commit()
    from reporting.schemas import ReportSchema
    from reporting.service import submit_report
    from tests.factories import report_data
    from trygg.accounts.models import User

    with app.app_context():
        report = submit_report(
            ReportSchema().load(report_data(unit_id=unit.id)),
            reporter=db.session.get(User, employee.id),
        )
        db.session.commit()
        case_id = service.case_for_report(report).id
        db.session.execute(update(Deadline).values(reminded_at=datetime.now(UTC)))
        soon = datetime.now(UTC) + timedelta(hours=1)
        db.session.execute(
            insert(Deadline),
            [{"case_id": case_id, "kind": "acknowledge", "due_at": soon} for _ in range(1000)],
        )
        db.session.commit()
        db.session.remove()
    mailbox = Mailbox(_free_port())
    mailbox.start()
    env = {
        **os.environ,
        "TRYGG_ENV": "testing",
        "TRYGG_SECRET_KEY": base_settings["secret_key"],
        "TRYGG_KEYRING_PATH": base_settings["keyring_path"],
        "TRYGG_INSTANCE_PATH": base_settings["instance_path"],
        "DATABASE_URL": scratch_database,
        "TRYGG_SMTP_HOST": "127.0.0.1",
        "TRYGG_SMTP_PORT": str(mailbox.port),
        "TRYGG_SMTP_SECURITY": "none",
        "TRYGG_LOG_LEVEL": "WARNING",
        "TRYGG_ARGON2_MEMORY_KIB": "8",
        "TRYGG_ARGON2_TIME_COST": "1",
    }
    script = tmp_path / "ticker.py"
    script.write_text(TICKER)
    root = Path(__file__).resolve().parents[2]
    try:
        processes = [
            subprocess.Popen([sys.executable, str(script), name], env=env, cwd=root)
            for name in ("one", "two")
        ]
        for process in processes:
            assert process.wait(timeout=180) == 0
    finally:
        mailbox.stop()
    with app.app_context():
        reminders = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == Kind.DEADLINE_REMINDER)
        )
        db.session.remove()
    assert reminders == 1000
    counted = Counter(mailbox.message_ids())
    reminder_mails = [m for m in mailbox.messages if "frist" in str(m.message["Subject"]).lower()]
    assert len(reminder_mails) == 1000
    assert set(counted.values()) == {1}
