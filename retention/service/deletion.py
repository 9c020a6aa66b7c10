"""What is due for deletion, and deleting it: one case per transaction.

Each case is deleted in its own transaction, which first takes the case's row lock and
checks again that it is due: a crash (even kill -9) leaves every case whole or fully
deleted, and two processes running at once never delete one case twice — the second
finds it locked (PostgreSQL skips it) or already deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, not_, or_, select
from sqlalchemy.engine import Engine

from handling.erasure import erase_case
from handling.models import Case
from handling.service import add_duration
from handling.states import CaseState
from reporting.erasure import erase_report
from reporting.models import AnonymousReceipt, Report
from retention.codes import WARNING_DAYS
from retention.models import LegalHold, RetentionPolicy, Tombstone
from retention.service.policies import policy_for
from trygg import audit
from trygg.extensions import db, utcnow

OSLO = ZoneInfo("Europe/Oslo")

log = logging.getLogger("trygg.retention")
FINISHED = (CaseState.CLOSED, CaseState.DROPPED)


def month_of(moment: datetime | date) -> date:
    """The month a moment falls in on the Oslo calendar (a date: its own month). Oslo,
    not UTC: the first hour of a month in Oslo is still the last month in UTC, and the
    daily run, which starts after Oslo's midnight, counts its deletions by this month."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        moment = aware.astimezone(OSLO)
    return date(moment.year, moment.month, 1)


def outcome(state: str, forwarded_to: str | None) -> str:
    """closed, dropped or forwarded (a case closed after being sent to the police …)."""
    if forwarded_to and state == CaseState.CLOSED:
        return CaseState.FORWARDED
    return state


@dataclass(frozen=True)
class DueItem:
    """A case (or a report without one) and when and why it is to be deleted."""

    case_id: int | None
    report_id: int
    reference: str
    rule: str
    months: int
    policy_id: int
    due_at: datetime
    held: bool

    def is_due(self, now: datetime) -> bool:
        return not self.held and self.due_at <= now


Policies = dict[tuple[str, str | None, str | None], RetentionPolicy]


def _policies() -> Policies:
    rows = db.session.scalars(select(RetentionPolicy))
    return {(p.scope, p.track, p.outcome): p for p in rows}


def due_items(
    now: datetime | None = None, *, within_days: int = 0, report_id: int | None = None
) -> list[DueItem]:
    """Finished cases (and case-less reports) whose time comes by now + within_days,
    oldest first, held ones included (marked); only one report's when `report_id`."""
    now = now or utcnow()
    horizon = now + timedelta(days=within_days)
    table = _policies()
    only = [Report.id == report_id] if report_id is not None else []
    items = [*_due_cases(table, horizon, only), *_due_caseless_reports(table, horizon, only)]
    return sorted(items, key=lambda i: (i.due_at, i.report_id))


# A policy's months counted back from the horizon, less this: every case or report that
# the exact reckoning (`add_duration`, in Oslo's calendar, the 31st plus a month being
# the last day of the next) finds due was closed or made before it. SQL keeps those
# (the prefilter), Python decides.
_SLACK = timedelta(days=4)


def _before(horizon: datetime, months: int) -> datetime:
    """The latest start that can be due by the horizon after `months` (with slack)."""
    return add_duration(horizon, -months, "months") + _SLACK


def _of_outcome(name: str | None) -> Any:
    """SQL for `outcome(Case.state, Case.forwarded_to) == name`."""
    forwarded = and_(
        Case.state == CaseState.CLOSED,
        Case.forwarded_to.is_not(None),
        Case.forwarded_to != "",
    )
    if name == CaseState.FORWARDED:
        return forwarded
    return and_(Case.state == name, not_(forwarded))


def _due_cases(table: Policies, horizon: datetime, only: list[Any]) -> Iterator[DueItem]:
    """Finished cases due by the horizon under their track's and outcome's policy: the
    database keeps the cases each policy can make due, out of every finished case."""
    held = set(db.session.scalars(select(LegalHold.case_id).where(LegalHold.lifted_at.is_(None))))
    candidates = [
        and_(
            Case.track == track,
            _of_outcome(result),
            Case.closed_at <= _before(horizon, policy.months),
        )
        for (scope, track, result), policy in table.items()
        if scope == "case"
    ]
    if not candidates:
        return
    # Columns only: a run may look at many cases, and needs none of their rows.
    rows = db.session.execute(
        select(
            Case.id,
            Case.report_id,
            Case.track,
            Case.state,
            Case.forwarded_to,
            Case.closed_at,
            Report.reference,
        )
        .join(Report, Report.id == Case.report_id)
        .where(
            Case.state.in_(FINISHED),
            Case.closed_at.is_not(None),
            Report.erased_month.is_(None),
            or_(*candidates),
            *only,
        )
    ).all()
    for case_id, report_id, track, state, forwarded_to, closed_at, reference in rows:
        policy = table.get(("case", track, outcome(state, forwarded_to)))
        if policy is None or closed_at is None:
            continue
        due = add_duration(closed_at, policy.months, "months")
        if due <= horizon:
            yield DueItem(
                case_id,
                report_id,
                reference,
                policy.rule,
                policy.months,
                policy.id,
                due,
                case_id in held,
            )


def _due_caseless_reports(table: Policies, horizon: datetime, only: list[Any]) -> Iterator[DueItem]:
    """Reports without a case, due by the horizon under the policy for such reports."""
    orphan = table.get(("report", None, None))
    if orphan is None:
        return
    has_case = select(Case.id).where(Case.report_id == Report.id).exists()
    rows = db.session.execute(
        select(Report.id, Report.reference, Report.created_at).where(
            Report.created_at <= _before(horizon, orphan.months),
            ~has_case,
            Report.erased_month.is_(None),
            *only,
        )
    )
    for report_id, reference, created_at in rows:
        due = add_duration(created_at, orphan.months, "months")
        if due <= horizon:
            yield DueItem(
                None,
                report_id,
                reference,
                orphan.rule,
                orphan.months,
                orphan.id,
                due,
                False,
            )


def _lock(item: DueItem) -> bool:
    """Take the row lock of the item's report (skipping one another process holds)."""
    statement = select(Report.id).where(Report.id == item.report_id, Report.erased_month.is_(None))
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return db.session.scalar(statement) is not None


def erase_due_case(item: DueItem, *, now: datetime, actor: str) -> bool:
    """Delete one item if it is still due (checked under its lock); the caller commits.

    Returns False when another process got there first or it is no longer due (a hold,
    a reopened case, a changed policy).
    """
    if not _lock(item):
        return False
    fresh = [i for i in _items_for(item, now) if i.is_due(now)]
    if not fresh:
        return False
    item = fresh[0]
    month = month_of(now)
    report = db.session.get(Report, item.report_id)
    if report is None:  # deleted outright meanwhile: nothing left to erase
        return False
    opened = report.created_at
    closed: datetime | None = None
    if item.case_id is not None:
        case = db.session.get(Case, item.case_id)
        if case is None:
            return False
        opened, closed = case.opened_at, case.closed_at
        erase_case(case, month=month)
    else:
        erase_report(report, month=month)
    db.session.add(
        Tombstone(
            report_id=report.id,
            reference=report.reference,
            opened_month=month_of(opened),
            closed_month=month_of(closed) if closed else None,
            deleted_month=month,
            policy_id=item.policy_id,
            rule=item.rule,
            months=item.months,
        )
    )
    kind, oid = ("case", item.case_id) if item.case_id is not None else ("report", report.id)
    audit.record(
        f"{kind}.erase",
        actor=actor,
        object_type=kind,
        object_id=oid,
        detail={"rule": item.rule, "months": item.months},
    )
    db.session.flush()
    return True


def _items_for(item: DueItem, now: datetime) -> list[DueItem]:
    return due_items(now, report_id=item.report_id)


def expire_receipts(now: datetime) -> int:
    """Delete anonymous receipt codes unused for the receipt policy's months (the case
    lives on; only the code stops working)."""
    policy = policy_for("receipt")
    if policy is None:
        return 0
    cutoff = month_of(add_duration(now, -policy.months, "months"))
    result = db.session.execute(
        delete(AnonymousReceipt).where(
            AnonymousReceipt.used_month.is_not(None), AnonymousReceipt.used_month < cutoff
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass
class RunResult:
    deleted: list[str] = field(default_factory=list)
    skipped: int = 0
    receipts: int = 0


def run(
    *,
    now: datetime | None = None,
    actor: str = "retention",
    limit: int | None = None,
    progress: Callable[[Iterator[DueItem]], Iterator[DueItem]] | None = None,
) -> RunResult:
    """Delete everything due, one committed transaction per case."""
    now = now or utcnow()
    result = RunResult()
    items = [i for i in due_items(now) if i.is_due(now)]
    db.session.commit()
    if limit is not None:
        items = items[:limit]
    for item in progress(iter(items)) if progress else items:
        try:
            done = erase_due_case(item, now=now, actor=actor)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("retention: deleting %s failed; it stays for the next run", item.rule)
            done = False
        if done:
            result.deleted.append(item.reference)
        else:
            result.skipped += 1
    result.receipts = expire_receipts(now)
    db.session.commit()
    if len(items) > 0 or result.receipts:
        checkpoint()
    return result


def checkpoint() -> None:
    """On SQLite, move the write-ahead log into the database and truncate it, so the
    deleted pages (zeroed: secure_delete) do not linger in the -wal file."""
    bind = db.session.get_bind()
    # A session bound to one connection (the tests' rolled-back one) holds the write
    # lock: a checkpoint from another connection would only wait for it.
    if bind.dialect.name == "sqlite" and isinstance(bind, Engine):
        # The driver's own connection: outside any transaction (a checkpoint inside one
        # is refused), which SQLAlchemy's connection would begin.
        raw = bind.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()


def status(now: datetime | None = None) -> dict[str, int]:
    """Counts for `trygg retention status` and the admin: due, held, warned, deleted."""
    now = now or utcnow()
    upcoming = due_items(now, within_days=WARNING_DAYS)
    deleted = int(db.session.scalar(select(func.count()).select_from(Tombstone)) or 0)
    return {
        "due_now": sum(1 for i in upcoming if i.is_due(now)),
        "due_within_30_days": sum(1 for i in upcoming if not i.held and i.due_at > now),
        "held": int(
            db.session.scalar(
                select(func.count()).select_from(LegalHold).where(LegalHold.lifted_at.is_(None))
            )
            or 0
        ),
        "deleted": deleted,
    }
