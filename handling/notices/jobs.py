"""The scheduler tick's jobs (registered in handling/setup.py): deadline reminders and
escalations, follow-up tasks due soon or overdue, and which of their waiting e-mails are
settled and withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnClause, Row, and_, case, column, exists, func, or_, select, update

from handling.models import Case, CaseExclusion, Deadline, FollowUpTask
from handling.notices.recipients import (
    _case_link,
    _split_by_access,
    eligible_by_case,
    escalation_by_group,
    exclusions_by_case,
)
from handling.workflow import ACTIVE_STATES
from notifications import reminders
from notifications.kinds import FALLBACK_LEAD_MINUTES, Kind
from notifications.scheduler import TickContext, claim_rows, in_ids
from notifications.service import Event, notify_many
from trygg.extensions import db

# A follow-up task's responsible person hears of it this long before it is due.
TASK_DUE_SOON = timedelta(hours=24)


# -- deadlines --------------------------------------------------------------------------


def _lead_condition(now: datetime, leads: dict[str, timedelta]) -> Any:
    fallback = timedelta(minutes=FALLBACK_LEAD_MINUTES)
    parts = [and_(Deadline.kind == k, Deadline.due_at <= now + lead) for k, lead in leads.items()]
    parts.append(and_(Deadline.kind.not_in(list(leads)), Deadline.due_at <= now + fallback))
    return or_(*parts)


def deadlines_job(ctx: TickContext) -> int:
    """Claim open deadlines whose reminder or escalation is due, marking them in the same
    statement; notify.

    A deadline that passed before its reminder went out (downtime) gets only the
    escalation; one met or cancelled meanwhile is no longer open and gets nothing. The
    marks and the notifications are in one transaction: a failure leaves both undone.
    """
    now = ctx.now
    rows = _claim_due_deadlines(now, ctx.batch)
    if not rows:
        return 0
    notify_many(_deadline_events(rows, now), now=now)
    return len(rows)


def _claim_due_deadlines(now: datetime, batch: int) -> Sequence[Row[Any]]:
    """Open deadlines whose reminder or escalation is due, claimed and marked for this
    tick in one UPDATE … RETURNING (the benchmark's floor has the same shape).

    Passed: escalated now, and its reminder counts as sent (it is not sent late).
    Not yet passed: reminded now.
    """
    leads = reminders.lead_times()
    widest = max([*leads.values(), timedelta(minutes=FALLBACK_LEAD_MINUTES)])
    due_where = (
        Deadline.met_at.is_(None),
        Deadline.cancelled_at.is_(None),
        Deadline.escalated_at.is_(None),
        Deadline.due_at <= now + widest,
        or_(
            Deadline.due_at <= now,
            and_(Deadline.reminded_at.is_(None), _lead_condition(now, leads)),
        ),
    )
    table = Deadline.__table__
    passed = table.c.due_at <= now
    marks = {
        "escalated_at": case((passed, now), else_=None),
        "reminded_at": case((passed, func.coalesce(table.c.reminded_at, now)), else_=now),
    }
    returned = (table.c.id, table.c.case_id, table.c.kind, table.c.due_at)
    cases = Case.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # The locked rows are found again by their place in the table (ctid), not by
        # their id through the index: the claim in about 30 ms instead of 45 for 2,000
        # rows, against 25 for the bare UPDATE. A row locked here cannot be moved by
        # anyone else before this statement updates it; one updated and committed by
        # another transaction between the snapshot and the lock no longer matches its
        # ctid and is left for the next tick, never claimed twice. The case's group and
        # assignee are joined in (UPDATE … FROM): one lookup per row.
        # The system column, bound to the table so that the linter sees the join.
        ctid: ColumnClause[Any] = column("ctid", _selectable=table)
        due = (
            select(ctid.label("place"))
            .where(*due_where)
            .order_by(Deadline.due_at, Deadline.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
            .subquery("due")
        )
        claim = (
            update(table)
            .where(ctid == due.c.place, cases.c.id == table.c.case_id)
            .values(**marks)
            .returning(*returned, cases.c.group_id, cases.c.assigned_user_id)
        )
    else:
        # SQLite's immediate transaction serialises claims, and its RETURNING names only
        # the updated table: the case's columns by subquery.
        due_ids = (
            select(Deadline.id)
            .where(*due_where)
            .order_by(Deadline.due_at, Deadline.id)
            .limit(batch)
        )
        claim = (
            update(table)
            .where(table.c.id.in_(due_ids.scalar_subquery()))
            .values(**marks)
            .returning(
                *returned,
                *(
                    select(column)
                    .where(cases.c.id == table.c.case_id)
                    .scalar_subquery()
                    .label(name)
                    for name, column in (
                        ("group_id", cases.c.group_id),
                        ("assigned_user_id", cases.c.assigned_user_id),
                    )
                ),
            )
        )
    return db.session.execute(claim).all()


def _deadline_events(rows: Sequence[Row[Any]], now: datetime) -> list[Event]:
    """The events for claimed deadlines: an escalation for those passed, a reminder for
    the others (a tick's batch is thousands of rows: one pass over plain tuples)."""
    cases = {row.case_id: row.group_id for row in rows}
    excluded = exclusions_by_case(list(cases))
    eligible = eligible_by_case(cases.items(), seeing=True)
    escalation = escalation_by_group(cases.values())
    admins = set(escalation[None])
    events: list[Event] = []
    for deadline_id, case_id, _kind, due_at, group_id, assigned in map(tuple, rows):
        people = eligible[case_id]
        subject = f"deadline:{deadline_id}"
        stamp = int(due_at.timestamp())
        if due_at <= now:
            barred = excluded.get(case_id, ())
            contacts = [u for u in escalation[group_id] if u not in barred]
            key = f"{subject}:late:{stamp}"
            events += _split_by_access(
                Kind.DEADLINE_ESCALATION, contacts, people, key, case_id, subject,
                admins=admins, group_id=group_id,
            )  # fmt: skip
        else:
            to = [assigned] if assigned in people else people
            key = f"{subject}:soon:{stamp}"
            events.append(
                Event(Kind.DEADLINE_REMINDER, to, key, _case_link(case_id), subject, people)
            )
    return events


# -- follow-up tasks --------------------------------------------------------------------


def tasks_job(ctx: TickContext) -> int:
    """Tell each open follow-up task's responsible person when it is due soon or overdue
    (once per due time; only "overdue" if both are due after downtime).

    A responsible person excluded from the case since (a recusal, a conflict of
    interest) no longer has the task on "My tasks" (handling.service.mytasks) and is
    told nothing: the case's handlers are told instead, so that they choose someone
    else (the case page says so too)."""
    now = ctx.now
    task = FollowUpTask
    excluded = exists().where(
        CaseExclusion.case_id == task.case_id,
        CaseExclusion.user_id == task.responsible_user_id,
    )
    query = (
        select(
            task.id,
            task.case_id,
            task.responsible_user_id,
            task.due_at,
            Case.group_id,
            Case.assigned_user_id,
            excluded.label("excluded"),
        )
        .join(Case, Case.id == task.case_id)
        .where(
            task.status == "open",
            task.responsible_user_id.is_not(None),
            task.due_at <= now + TASK_DUE_SOON,
            Case.state.in_(sorted(ACTIVE_STATES)),
            or_(
                and_(
                    task.due_at <= now,
                    or_(
                        task.overdue_notified_for.is_(None),
                        task.overdue_notified_for != task.due_at,
                    ),
                ),
                and_(
                    task.due_at > now,
                    or_(task.soon_notified_for.is_(None), task.soon_notified_for != task.due_at),
                ),
            ),
        )
        .order_by(task.due_at, task.id)
        .limit(ctx.batch)
    )
    rows = db.session.execute(claim_rows(query, of=task)).all()
    if not rows:
        return 0
    eligible = eligible_by_case({(r.case_id, r.group_id) for r in rows}, seeing=True)
    # A task whose responsible person was excluded, on a case no one may handle now:
    # told as a passed deadline is, to the escalation contacts or the administrators.
    orphans = [r for r in rows if r.excluded and not eligible[r.case_id]]
    escalation = escalation_by_group(r.group_id for r in orphans) if orphans else {}
    barred = exclusions_by_case([r.case_id for r in orphans]) if orphans else {}
    events: list[Event] = []
    for row in rows:
        stage = "late" if row.due_at <= now else "soon"
        key = f"task:{row.id}:{stage}:{int(row.due_at.timestamp())}"
        people = eligible[row.case_id]
        told = [row.responsible_user_id]
        escalated: dict[str, Any] = {}
        if row.excluded:
            told = [row.assigned_user_id] if row.assigned_user_id in people else people
        if row.excluded and not people:
            told = [u for u in escalation[row.group_id] if u not in barred.get(row.case_id, ())]
            escalated = {"admins": set(escalation[None]), "group_id": row.group_id}
        events += _split_by_access(
            Kind.TASK_DUE,
            told,
            people,
            key,
            row.case_id,
            f"task:{row.id}",
            # A leader who does not handle the case finds the task on "My tasks".
            "/my-tasks",
            **escalated,
        )
    notify_many(events, now=now)
    for row in rows:
        values: dict[str, Any] = {"soon_notified_for": row.due_at}
        if row.due_at <= now:
            values["overdue_notified_for"] = row.due_at
        db.session.execute(update(task).where(task.id == row.id).values(**values))
    return len(rows)


# -- what is no longer true -----------------------------------------------------------


def _ids(subjects: Iterable[str], prefix: str) -> list[int]:
    return [int(s.split(":", 1)[1]) for s in subjects if s.startswith(prefix + ":")]


def settled(subjects: Iterable[str]) -> set[str]:
    """Of "deadline:ID" and "task:ID" subjects, those met, cancelled or done since: an
    e-mail about them still waiting (an SMTP outage) is withdrawn, not sent late."""
    subjects = list(subjects)
    out: set[str] = set()
    deadline_ids = _ids(subjects, "deadline")
    if deadline_ids:
        out |= {
            f"deadline:{i}"
            for i in db.session.scalars(
                select(Deadline.id).where(
                    in_ids(Deadline.id, deadline_ids),
                    or_(Deadline.met_at.is_not(None), Deadline.cancelled_at.is_not(None)),
                )
            )
        }
    task_ids = _ids(subjects, "task")
    if task_ids:
        out |= {
            f"task:{i}"
            for i in db.session.scalars(
                select(FollowUpTask.id).where(
                    in_ids(FollowUpTask.id, task_ids), FollowUpTask.status != "open"
                )
            )
        }
    return out
