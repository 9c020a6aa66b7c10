"""The scheduler tick, its jobs and leases, and the APScheduler runner around it.

APScheduler 3.11 is only the clock: one interval job (memory job store, coalesce,
max_instances=1, a misfire grace time of one interval) that calls `tick()`. All state
lives in our tables, so any number of ticking processes are safe: each job claims its
rows with `claim_rows` (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the
transaction is immediate, so claims are serialised), acts, and marks the rows in the
same transaction; the notifications it writes have unique dedupe keys.

Domain packages register their jobs with `register_job` at app set-up (handling: due
deadlines and follow-up tasks), so this package never imports them.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from notifications.delivery import DeliveryResult, deliver_due
from notifications.kinds import MailState
from notifications.models import Notification, NotificationProfile, SchedulerBeat
from trygg import keys
from trygg.extensions import db, utcnow

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger("trygg.scheduler")
OSLO = ZoneInfo("Europe/Oslo")
# Rows a job claims per transaction; a tick repeats until a job finds fewer.
BATCH = 2000
SQLITE_BATCH = 250


@dataclass(frozen=True)
class TickContext:
    """What a job gets: the tick's time and the name of the process running it, and
    when its share of the tick is over (`out_of_time`)."""

    now: datetime
    owner: str
    batch: int = BATCH
    # time.monotonic() after which jobs start no more work: what is left is done in the
    # next ticks, so that a long run (a retention backlog of thousands of cases) holds
    # back neither the e-mails this tick has written nor the next tick's reminders.
    until: float = math.inf

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.until


Job = Callable[[TickContext], int]
_JOBS: dict[str, Job] = {}


def register_job(name: str, job: Job) -> None:
    """Run `job` on every tick, before delivery. It claims rows with `claim_rows`, acts
    (writes notifications), marks them and returns how many it handled; the tick
    commits after each call and calls again while it returns a full batch."""
    _JOBS[name] = job


def jobs() -> dict[str, Job]:
    return dict(_JOBS)


Settled = Callable[[list[str]], set[str]]
_SETTLED: list[Settled] = []


def register_settled(check: Settled) -> None:
    """`check(subjects)` returns those of the given subjects ("deadline:12") that are no
    longer true (met, done): their e-mails still waiting are withdrawn, not sent late."""
    if check not in _SETTLED:
        _SETTLED.append(check)


def settled(subjects: list[str]) -> set[str]:
    out: set[str] = set()
    for check in _SETTLED:
        out |= check(subjects)
    return out


def claim_rows(query: Any, of: Any = None) -> Any:
    """A SELECT of due rows, locked for this transaction (skipping rows that another
    process holds) on PostgreSQL; `of` names the table to lock when the query joins.
    SQLite's immediate transaction already serialises claims."""
    if db.session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query


def in_ids(column: Any, ids: Iterable[int]) -> Any:
    """`column IN ids` for a tick's batch: one array parameter on PostgreSQL (a thousand
    separate parameters cost more to send than the query takes), IN on SQLite."""
    values = sorted(set(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        return column == func.any(bindparam("ids", values, type_=ARRAY(Integer), unique=True))
    return column.in_(values)


# -- digests ----------------------------------------------------------------------------


def latest_digest_slot(now: datetime, minute: int) -> datetime:
    """The most recent moment, at or before `now`, that is `minute` past midnight in Oslo."""
    local = now.astimezone(OSLO)
    day = local.date()
    for back in (0, 1):
        candidate = datetime.combine(
            day - timedelta(days=back), datetime.min.time(), tzinfo=OSLO
        ) + timedelta(minutes=minute)
        # Rebuild through the wall clock so summer time is honoured.
        wall = candidate.replace(tzinfo=None)
        slot = wall.replace(tzinfo=OSLO).astimezone(UTC)
        if slot <= now:
            return slot
    return slot


def release_digests(ctx: TickContext) -> int:
    """Put each user's waiting digest rows into one e-mail once their digest time passed."""
    default_minute = NotificationProfile.digest_minute.default.arg
    users = db.session.execute(
        select(
            Notification.user_id, func.coalesce(NotificationProfile.digest_minute, default_minute)
        )
        .outerjoin(NotificationProfile, NotificationProfile.user_id == Notification.user_id)
        .where(Notification.mail_state == MailState.DIGEST)
        .distinct()
    ).all()
    released = 0
    for user_id, minute in users:
        slot = latest_digest_slot(ctx.now, int(minute))
        result = db.session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.mail_state == MailState.DIGEST,
                Notification.created_at < slot,
            )
            .values(
                mail_state=MailState.PENDING,
                mail_key=f"digest:u{user_id}:{slot.isoformat()}",
                next_attempt_at=ctx.now,
            )
        )
        released += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return released


# -- the tick ---------------------------------------------------------------------------


@dataclass
class TickResult:
    jobs: dict[str, int] = field(default_factory=dict)
    digests: int = 0
    delivery: DeliveryResult = field(default_factory=DeliveryResult)
    seconds: float = 0.0
    # Why the tick did nothing (the keyring does not open the stored data), or None.
    halted: str | None = None


def default_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _run_job(name: str, job: Job, ctx: TickContext) -> int:
    total = 0
    while True:
        try:
            handled = job(ctx)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("scheduler: job %s failed; its rows stay due", name)
            return total
        total += handled
        if handled < ctx.batch:
            return total
        if ctx.out_of_time():
            log.info("scheduler: job %s stops for this tick after %s rows", name, total)
            return total


def batch_size() -> int:
    """Rows per claim: smaller on SQLite, where a claim holds the one write lock that
    every other writer (a second scheduler, the web) waits for."""
    return BATCH if db.session.get_bind().dialect.name == "postgresql" else SQLITE_BATCH


def tick(
    *, owner: str | None = None, now: datetime | None = None, budget: float | None = None
) -> TickResult:
    """One tick: every registered job, the digests, then delivery. Needs an app context.

    The jobs start no more work after `budget` seconds (by default the interval between
    ticks); each does at least one batch, and what is left stays due for the next tick.

    With a keyring that does not open the stored data (another instance's, beside a
    restored backup: `keys.data_problem`, logged once) it does nothing: no mail code is
    opened, no audit entry sealed and no reminder written with it; everything stays due
    until the right keyring is in place, and /healthz says why.
    """
    problem = keys.data_problem()
    if problem:
        return TickResult(halted=problem)
    started = time.perf_counter()
    if budget is None:
        budget = float(current_app.config["TRYGG"]["scheduler_interval_seconds"])
    ctx = TickContext(
        now=now or utcnow(),
        owner=owner or default_owner(),
        batch=batch_size(),
        until=time.monotonic() + budget,
    )
    result = TickResult()
    for name, job in jobs().items():
        result.jobs[name] = _run_job(name, job, ctx)
    result.digests = _run_job("digests", release_digests, ctx)
    result.delivery = deliver_due(ctx.owner, now=now, settled=settled)
    result.seconds = time.perf_counter() - started
    _beat(ctx, result.seconds)
    return result


def _beat(ctx: TickContext, seconds: float) -> None:
    table = SchedulerBeat.__table__
    values = {"owner": ctx.owner, "last_run_at": ctx.now, "last_ms": int(seconds * 1000)}
    dialect = db.session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["owner"],
        set_={"last_run_at": values["last_run_at"], "last_ms": values["last_ms"]},
    )
    db.session.execute(statement)
    db.session.commit()


def last_run(*, parsed: bool = False) -> dict[str, Any]:
    """For /healthz: when any scheduler last ticked (ISO 8601, or a datetime when
    `parsed`), and how long it took in milliseconds."""
    row = db.session.execute(
        select(SchedulerBeat.last_run_at, SchedulerBeat.last_ms)
        .order_by(SchedulerBeat.last_run_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return {"last_run_at": None, "last_ms": None}
    return {"last_run_at": row[0] if parsed else row[0].isoformat(), "last_ms": row[1]}


# -- the runner -------------------------------------------------------------------------


def run_once(app: Flask, owner: str) -> TickResult | None:
    """One tick as the scheduler runs it: a failure (the database busy or away) is
    logged, and what was not done stays due for the next tick."""
    with app.app_context():
        try:
            result = tick(owner=owner)
        except Exception:
            db.session.rollback()
            log.exception("scheduler: tick failed; what it did not do stays due")
            return None
        finally:
            db.session.remove()
        log.debug("scheduler: tick %s", result)
        return result


def build_scheduler(app: Flask, *, blocking: bool, owner: str | None = None) -> BaseScheduler:
    """An APScheduler with one interval job: the tick. Started by the caller.

    APScheduler is imported here, not with the module: web workers import this module
    (jobs register at app set-up) but never run a scheduler (issue 17, memory per worker).
    """
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    interval = int(app.config["TRYGG"]["scheduler_interval_seconds"])
    options: dict[str, Any] = {"timezone": UTC, "jobstores": {"default": MemoryJobStore()}}
    scheduler: BaseScheduler = (
        BlockingScheduler(**options) if blocking else BackgroundScheduler(**options)
    )
    scheduler.add_job(
        run_once,
        IntervalTrigger(seconds=interval, timezone=UTC),
        args=(app, owner or default_owner()),
        id="trygg-tick",
        coalesce=True,
        max_instances=1,
        # A tick late by less than one interval still runs; later ones fold into the next.
        misfire_grace_time=interval,
        next_run_time=utcnow(),
        replace_existing=True,
    )
    return scheduler


_embedded_lock = threading.Lock()
_embedded: BaseScheduler | None = None


def start_embedded(app: Flask, *, reloader: bool = False) -> BaseScheduler | None:
    """Tick inside this process (the development server of `make run`).

    Started at most once per process, and with the reloader only in the child that
    serves (werkzeug sets WERKZEUG_RUN_MAIN there), never in the parent that watches
    files. Never from the factory: web workers run no scheduler.
    """
    global _embedded
    if reloader and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _embedded_lock:
        if _embedded is not None:
            return None
        _embedded = build_scheduler(app, blocking=False)
        _embedded.start()
        return _embedded


def stop_embedded() -> None:
    global _embedded
    with _embedded_lock:
        if _embedded is not None:
            _embedded.shutdown(wait=True)
            _embedded = None


def interval_of(app: Flask | None = None) -> int:
    return int((app or current_app).config["TRYGG"]["scheduler_interval_seconds"])
