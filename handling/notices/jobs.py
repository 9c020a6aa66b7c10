"""What case handling tells whom, through notifications: one call per event, and the
scheduler's jobs for deadlines and follow-up tasks (registered in handling/setup.py).

Who hears of a case: its handlers are the eligible members of its group (active, with
the handler role, not excluded); "the case's handlers" for a message is the assigned
handler if there is one, else all of them. Escalations (a deadline passed, § 5-2) go to
the group's escalation contacts who are not excluded, else to the active admins. A
reporter hears only that there is news, at /my-reports, in a discreet row that does not
tie them to the case. Nothing here puts content into a notification.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from handling import access
from handling.models import (
    Case,
    CaseExclusion,
    Deadline,
    FollowUpTask,
    HandlerGroupEscalation,
    HandlerGroupMember,
)
from handling.workflow import ACTIVE_STATES
from notifications import reminders
from notifications.kinds import FALLBACK_LEAD_MINUTES, Kind
from notifications.scheduler import TickContext, claim_rows, in_ids
from notifications.service import Event, notify_many
from reporting import service as reporting
from trygg.access_changes import AccessChange
from trygg.accounts.models import User, UserRole
from trygg.extensions import db

# A follow-up task's responsible person hears of it this long before it is due.
TASK_DUE_SOON = timedelta(hours=24)


# -- who ------------------------------------------------------------------------------


def eligible_by_case(
    cases: Iterable[tuple[int, int | None]],
    excluded: dict[int, set[int]] | None = None,
    *,
    seeing: bool = False,
) -> dict[int, list[int]]:
    """Case id → the ids of its eligible handlers, for (case id, group id) pairs at once.

    Eligible: a member of the case's group who is active, holds the handler role and is
    not excluded from the case. Two queries whatever the number of cases (one when the
    caller has read the exclusions: `excluded`). `seeing`: only those who may also open
    it now (`handling.access.handler_sees`: not a member who joined after the case came
    and has no grant), one query more — who is told of a case's events.
    """
    pairs = list(cases)
    groups = {g for _c, g in pairs if g is not None}
    if not groups:
        return {c: [] for c, _g in pairs}
    is_handler = select(UserRole.user_id).where(UserRole.role == "handler")
    members: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in db.session.execute(
        select(HandlerGroupMember.group_id, HandlerGroupMember.user_id)
        .join(User, User.id == HandlerGroupMember.user_id)
        .where(
            HandlerGroupMember.group_id.in_(sorted(groups)),
            User.active.is_(True),
            User.id.in_(is_handler),
        )
    ):
        members[group_id].add(user_id)
    if excluded is None:
        excluded = exclusions_by_case([c for c, _g in pairs])
    out = {
        case_id: sorted(members.get(group_id or 0, set()) - excluded.get(case_id, set()))
        for case_id, group_id in pairs
    }
    if seeing:
        able = access.seeing_by_case(out)
        out = {case_id: [u for u in ids if u in able[case_id]] for case_id, ids in out.items()}
    return out


def exclusions_by_case(case_ids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    if case_ids:
        for case_id, user_id in db.session.execute(
            select(CaseExclusion.case_id, CaseExclusion.user_id).where(
                in_ids(CaseExclusion.case_id, case_ids)
            )
        ):
            out[case_id].add(user_id)
    return out


def escalation_by_group(group_ids: Iterable[int | None]) -> dict[int | None, list[int]]:
    """Group id → its active escalation contacts, or the active admins if it names none."""
    wanted = sorted({g for g in group_ids if g is not None})
    contacts: dict[int | None, list[int]] = defaultdict(list)
    if wanted:
        for group_id, user_id in db.session.execute(
            select(HandlerGroupEscalation.group_id, HandlerGroupEscalation.user_id)
            .join(User, User.id == HandlerGroupEscalation.user_id)
            .where(HandlerGroupEscalation.group_id.in_(wanted), User.active.is_(True))
            .order_by(HandlerGroupEscalation.user_id)
        ):
            contacts[group_id].append(user_id)
    admins = list(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "admin", User.active.is_(True))
            .order_by(User.id)
        )
    )
    return {g: contacts.get(g) or admins for g in [*wanted, None]}


def _case_link(case_id: int) -> str:
    return f"/cases/{case_id}"


def _split_by_access(
    kind: Kind,
    people: list[int],
    eligible: list[int],
    key: str,
    case_id: int,
    subject: str | None = None,
) -> list[Event]:
    """One event, linked to the case for those who may open it, else to their list."""
    about = subject or f"case:{case_id}"
    inside = [u for u in people if u in eligible]
    outside = [u for u in people if u not in eligible]
    events = []
    if inside:
        events.append(Event(kind, inside, key, _case_link(case_id), about, eligible))
    if outside:
        events.append(Event(kind, outside, key, "/notifications", about, None))
    return events


def _escalation_events(case: Case, kind: Kind, key: str, eligible: list[int]) -> list[Event]:
    people = escalation_by_group([case.group_id])[case.group_id]
    excluded = case.excluded_user_ids
    people = [u for u in people if u not in excluded]
    return _split_by_access(kind, people, eligible, key, case.id)


def _case_handlers(case: Case, eligible: list[int]) -> list[int]:
    if case.assigned_user_id is not None and case.assigned_user_id in eligible:
        return [case.assigned_user_id]
    return eligible


def _eligible(case: Case) -> list[int]:
    return eligible_by_case([(case.id, case.group_id)], seeing=True)[case.id]


# -- the one call per event -----------------------------------------------------------


def case_opened(case: Case, handler_ids: Iterable[int] | None = None) -> None:
    """A new case: its group's eligible handlers; § 5-2 at once to the escalation list.

    `handler_ids`: the eligible handlers when the caller knows them already.
    """
    eligible = sorted(handler_ids) if handler_ids is not None else _eligible(case)
    discreet = case.report.anonymous
    events = [
        Event(
            Kind.CASE_NEW,
            eligible,
            f"case:{case.id}:new",
            _case_link(case.id),
            f"case:{case.id}",
            eligible,
            discreet,
        )
    ]
    if case.section_5_2:
        events += _escalation_events(case, Kind.SECTION_5_2, f"case:{case.id}:s52", eligible)
    notify_many(events)


def routed(case: Case, now: datetime) -> None:
    """The case moved to another group: its handlers hear of it as of a new case."""
    if case.group_id is None:
        return
    eligible = _eligible(case)
    key = f"case:{case.id}:routed:g{case.group_id}:{int(now.timestamp())}"
    notify_many(
        [Event(Kind.CASE_NEW, eligible, key, _case_link(case.id), f"case:{case.id}", eligible)]
    )


def section_5_2_flagged(case: Case) -> None:
    """The § 5-2 duty applies (at triage or later): the escalation list, at once."""
    eligible = _eligible(case)
    notify_many(_escalation_events(case, Kind.SECTION_5_2, f"case:{case.id}:s52", eligible))


def assigned(case: Case, now: datetime) -> None:
    """The case was assigned to someone: tell them (not when they took it themselves)."""
    if case.assigned_user_id is None:
        return
    key = f"case:{case.id}:assigned:u{case.assigned_user_id}:{int(now.timestamp())}"
    eligible = _eligible(case)
    notify_many(
        [
            Event(
                Kind.CASE_ASSIGNED,
                [case.assigned_user_id],
                key,
                _case_link(case.id),
                f"case:{case.id}",
                eligible,
            )
        ]
    )


def reporter_wrote(case: Case, key: str) -> None:
    """The reporter sent a message or added information: the case's handlers."""
    eligible = _eligible(case)
    notify_many(
        [
            Event(
                Kind.CASE_MESSAGE,
                _case_handlers(case, eligible),
                f"case:{case.id}:{key}",
                _case_link(case.id),
                f"case:{case.id}",
                eligible,
                case.report.anonymous,
            )
        ]
    )


def reporter_has_news(case: Case, key: str) -> None:
    """A handler's message or the case's feedback: the reporter, if they have an account.

    An anonymous reporter has no address; their follow-up page tells them to come back.
    """
    if case.report.anonymous:
        return
    reporter = reporting.involved_user_ids(case.report)["reporter"]
    if reporter:
        notify_many(
            [
                Event(
                    Kind.REPORT_UPDATE,
                    reporter,
                    f"case:{case.id}:{key}",
                    "/my-reports",
                    None,
                    None,
                    True,
                )
            ]
        )


# -- the tick's jobs ------------------------------------------------------------------


def _lead_condition(now: datetime, leads: dict[str, timedelta]) -> Any:
    fallback = timedelta(minutes=FALLBACK_LEAD_MINUTES)
    parts = [and_(Deadline.kind == k, Deadline.due_at <= now + lead) for k, lead in leads.items()]
    parts.append(and_(Deadline.kind.not_in(list(leads)), Deadline.due_at <= now + fallback))
    return or_(*parts)


def deadlines_job(ctx: TickContext) -> int:
    """Claim open deadlines whose reminder or escalation is due; notify; mark them.

    A deadline that passed before its reminder went out (downtime) gets only the
    escalation; one met or cancelled meanwhile is no longer open and gets nothing.
    """
    now = ctx.now
    leads = reminders.lead_times()
    widest = max([*leads.values(), timedelta(minutes=FALLBACK_LEAD_MINUTES)])
    query = (
        select(
            Deadline.id,
            Deadline.case_id,
            Deadline.kind,
            Deadline.due_at,
            Case.group_id,
            Case.assigned_user_id,
        )
        .join(Case, Case.id == Deadline.case_id)
        .where(
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.due_at <= now + widest,
            or_(
                Deadline.due_at <= now,
                and_(Deadline.reminded_at.is_(None), _lead_condition(now, leads)),
            ),
        )
        .order_by(Deadline.due_at, Deadline.id)
        .limit(ctx.batch)
    )
    rows = db.session.execute(claim_rows(query, of=Deadline)).all()
    if not rows:
        return 0
    cases = {row.case_id: row.group_id for row in rows}
    assigned_to = {row.case_id: row.assigned_user_id for row in rows}
    excluded = exclusions_by_case(list(cases))
    eligible = eligible_by_case(cases.items(), excluded, seeing=True)
    escalation = escalation_by_group(cases.values())
    events: list[Event] = []
    reminded: list[int] = []
    escalated: list[int] = []
    for row in rows:
        people = eligible[row.case_id]
        stamp = int(row.due_at.timestamp())
        if row.due_at <= now:
            escalated.append(row.id)
            contacts = [u for u in escalation[cases[row.case_id]] if u not in excluded[row.case_id]]
            key = f"deadline:{row.id}:late:{stamp}"
            events += _split_by_access(
                Kind.DEADLINE_ESCALATION, contacts, people, key, row.case_id, f"deadline:{row.id}"
            )
        else:
            reminded.append(row.id)
            who = assigned_to.get(row.case_id)
            to = [who] if who in people else people
            key = f"deadline:{row.id}:soon:{stamp}"
            events.append(
                Event(
                    Kind.DEADLINE_REMINDER,
                    to,
                    key,
                    _case_link(row.case_id),
                    f"deadline:{row.id}",
                    people,
                )
            )
    notify_many(events, now=now)
    if reminded:
        db.session.execute(
            update(Deadline).where(in_ids(Deadline.id, reminded)).values(reminded_at=now)
        )
    if escalated:
        # Passed before its reminder went out (downtime): the reminder is not sent late.
        db.session.execute(
            update(Deadline)
            .where(in_ids(Deadline.id, escalated))
            .values(escalated_at=now, reminded_at=func.coalesce(Deadline.reminded_at, now))
        )
    return len(rows)


def tasks_job(ctx: TickContext) -> int:
    """Tell each open follow-up task's responsible person when it is due soon or overdue
    (once per due time; only "overdue" if both are due after downtime)."""
    now = ctx.now
    task = FollowUpTask
    query = (
        select(task.id, task.case_id, task.responsible_user_id, task.due_at, Case.group_id)
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
    events: list[Event] = []
    for row in rows:
        stage = "late" if row.due_at <= now else "soon"
        key = f"task:{row.id}:{stage}:{int(row.due_at.timestamp())}"
        events += _split_by_access(
            Kind.TASK_DUE,
            [row.responsible_user_id],
            eligible[row.case_id],
            key,
            row.case_id,
            f"task:{row.id}",
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


# -- access changes ---------------------------------------------------------------------


def _active_with_role(*roles: str) -> set[int]:
    return set(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(roles), User.active.is_(True))
        )
    )


def _handlers_of_groups(group_ids: set[int]) -> set[int]:
    if not group_ids:
        return set()
    return set(
        db.session.scalars(
            select(HandlerGroupMember.user_id).where(HandlerGroupMember.group_id.in_(group_ids))
        )
    ) & _active_with_role("handler")


def access_change_recipients(change: AccessChange) -> set[int]:
    """Who hears of a widening: the handlers of the groups it concerns (the group named
    in it, else the groups of the person it widens), as they were before it (not those
    who joined in the same change); no one when it concerns no group yet (a new handler:
    the page lists it, and joining a group is told); every handler and safety
    representative for break-glass. Never the one who made it, nor the one it is about.
    """
    if change.kind == "break_glass":
        people = _active_with_role("handler", "safety_rep")
    else:
        group = change.detail.get("group")
        groups: set[int] = {group} if isinstance(group, int) else set()
        if not groups and change.user_id is not None:
            groups = set(
                db.session.scalars(
                    select(HandlerGroupMember.group_id).where(
                        HandlerGroupMember.user_id == change.user_id
                    )
                )
            )
        people = _handlers_of_groups(groups) - set(change.detail.get("with") or ())
    if change.user_id is not None:
        people.discard(change.user_id)  # they know: it is about them
    actor = change.actor.removeprefix("user:")
    if change.actor.startswith("user:") and actor.isdigit():
        people.discard(int(actor))
    return people


def access_changed(change: AccessChange) -> None:
    """An access change: in-app and e-mail (by their preferences) to those it concerns."""
    people = access_change_recipients(change)
    if people:
        notify_many([Event(Kind.ACCESS_CHANGE, people, f"access:{change.id}", "/access-changes")])
