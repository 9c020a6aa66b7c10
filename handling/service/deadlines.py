"""Deadline arithmetic (Europe/Oslo wall time, stored in UTC), the policies and the
deadline rows of a case."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy import (
    select,
)

from handling.models import (
    Case,
    Deadline,
    DeadlinePolicy,
)
from handling.service.base import DUE_SOON, OSLO, _event, _now, _row_id
from handling.states import Track
from reporting.codes import VIOLENCE_AND_THREATS
from trygg.extensions import db

# -- deadline arithmetic ----------------------------------------------------------------


def _from_oslo_wall(wall: datetime) -> datetime:
    """A naive Oslo wall-clock time as UTC.

    A wall time inside the spring-forward gap does not exist; fold=0 reads it with the
    offset from before the change, which lands one hour later (02:30 → 03:30 summer
    time). A wall time the autumn change repeats takes its first (earlier) occurrence,
    so a deadline is never later than the clock on the wall suggests.
    """
    return wall.replace(tzinfo=OSLO, fold=0).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# The least time a "same day" deadline gives (see add_duration): the shortest deadline
# of the default policies, the serious cases' 3 hours to contact the exposed employee.
SAME_DAY_AT_LEAST = timedelta(hours=3)


def add_duration(start: datetime, amount: int, unit: str) -> datetime:
    """The deadline `amount` `unit`s after `start`, counted in Oslo time, as UTC.

    Convention: durations are wall-clock time in Europe/Oslo. "72 hours" from Saturday
    12:00 is Tuesday 12:00 on the Oslo clock, even when summer time ends in between
    (then 73 hours really pass) or begins (71 hours). This is how a person reading
    "within 72 hours" on a Norwegian clock counts, and it keeps deadlines set in
    hours and in days consistent (72 hours = 3 days). `same_day` is the end of the
    Oslo calendar day of `start` (23:59:59), but never less than SAME_DAY_AT_LEAST after
    it: a report at 23:27 has until 02:27, not 32 minutes (a less serious case would
    otherwise have less time than a serious one's 3 hours). Days, weeks and months are calendar
    arithmetic on the Oslo date, keeping the time of day (the 31st plus one month is
    the last day of the next month).
    """
    local = start.astimezone(OSLO)
    if unit == "same_day":
        end = _from_oslo_wall(datetime.combine(local.date(), time(23, 59, 59)))
        return max(end, start.astimezone(UTC) + SAME_DAY_AT_LEAST)
    wall = local.replace(tzinfo=None)
    if unit == "hours":
        wall += timedelta(hours=amount)
    elif unit == "days":
        wall += timedelta(days=amount)
    elif unit == "weeks":
        wall += timedelta(weeks=amount)
    elif unit == "months":
        wall = datetime.combine(_add_months(wall.date(), amount), wall.time())
    else:
        raise ValueError(f"unknown duration unit {unit!r}")
    return _from_oslo_wall(wall)


# The defaults from DOMAIN.md's deadline table; the 0003 migration seeds the same rows
# (a test keeps the two equal). (kind, track, incident type, min severity, amount, unit)
DEFAULT_POLICIES: list[tuple[str, str | None, str | None, int, int, str]] = [
    ("acknowledge", None, None, 1, 7, "days"),
    ("leader_contact", Track.HMS_DEVIATION, None, 1, 0, "same_day"),
    ("leader_contact", Track.HMS_DEVIATION, None, 3, 3, "hours"),
    ("individual_talk", Track.HMS_DEVIATION, None, 1, 72, "hours"),
    *[("learning_review", None, t, 1, 72, "hours") for t in sorted(VIOLENCE_AND_THREATS)],
    ("section_5_2_notice", None, None, 1, 0, "same_day"),
    ("investigation", Track.WHISTLEBLOWING, None, 1, 6, "weeks"),
    ("reporter_feedback", None, None, 1, 3, "months"),
    ("recontact", Track.HMS_DEVIATION, None, 1, 4, "weeks"),
]


class PolicyLike(Protocol):
    """What `deadlines_due` reads of a policy: a DeadlinePolicy, or a row read as one."""

    @property
    def kind(self) -> str: ...
    @property
    def track(self) -> str | None: ...
    @property
    def incident_type(self) -> str | None: ...
    @property
    def min_severity(self) -> int: ...
    @property
    def amount(self) -> int: ...
    @property
    def unit(self) -> str: ...
    @property
    def active(self) -> bool: ...


def policies() -> list[DeadlinePolicy]:
    """Every deadline policy, by kind."""
    return list(
        db.session.scalars(
            select(DeadlinePolicy).order_by(
                DeadlinePolicy.kind, DeadlinePolicy.min_severity, DeadlinePolicy.id
            )
        )
    )


def deadlines_due(
    base: datetime,
    *,
    track: str,
    incident_types: Iterable[str],
    severity: int,
    section_5_2: bool,
    rows: Iterable[PolicyLike] | None = None,
) -> dict[str, datetime]:
    """Which deadlines apply to a case like this, and when each is due (UTC).

    For each kind the most specific active policy that matches wins: one naming the
    track beats one that does not, then one naming an incident type, then the highest
    minimum severity; among equals the earliest deadline. The § 5-2 notice applies only
    where the § 5-2 duty does.
    """
    types = set(incident_types)
    best: dict[str, tuple[tuple[int, int, int], datetime]] = {}
    for policy in policies() if rows is None else rows:
        if not policy.active:
            continue
        if policy.track is not None and policy.track != track:
            continue
        if policy.incident_type is not None and policy.incident_type not in types:
            continue
        if policy.min_severity > severity:
            continue
        if policy.kind == "section_5_2_notice" and not section_5_2:
            continue
        rank = (
            int(policy.track is not None),
            int(policy.incident_type is not None),
            policy.min_severity,
        )
        due = add_duration(base, policy.amount, policy.unit)
        current = best.get(policy.kind)
        if current is None or rank > current[0] or (rank == current[0] and due < current[1]):
            best[policy.kind] = (rank, due)
    return {kind: due for kind, (_rank, due) in best.items()}


def recompute_deadlines(case: Case, now: datetime | None = None) -> None:
    """Bring the case's open deadline rows in line with the policies.

    Counted from when the report arrived. Met and cancelled rows are history and stay;
    an open row whose step no longer applies is deleted; a changed due time resets the
    scheduler's reminder marks so the new time is reminded again.
    """
    report = case.report
    wanted = deadlines_due(
        report.created_at,
        track=case.track,
        incident_types=report.incident_types,
        severity=report.severity,
        section_5_2=case.section_5_2,
    )
    seen: set[str] = set()
    for row in list(case.deadlines):
        seen.add(row.kind)
        if not row.is_open:
            continue
        if row.kind not in wanted:
            case.deadlines.remove(row)
            db.session.delete(row)
        elif row.due_at != wanted[row.kind]:
            row.due_at = wanted[row.kind]
            row.reminded_at = row.escalated_at = None
    for kind, due in wanted.items():
        if kind not in seen:
            case.deadlines.append(
                Deadline(
                    id=_row_id(case, Deadline),
                    case_id=case.id,
                    kind=kind,
                    due_at=due,
                    created_at=_now(now),
                )
            )
    refresh_next_due(case)
    db.session.flush()


def _meet(case: Case, kind: str, actor: str, now: datetime) -> None:
    for row in case.deadlines:
        if row.kind == kind and row.is_open:
            row.met_at = now
            row.lease_owner = row.lease_until = None
            _event(case, "deadline_met", actor, now, kind=kind, late=now > row.due_at)
    refresh_next_due(case)


def _cancel_open_deadlines(case: Case, now: datetime) -> None:
    for row in case.deadlines:
        if row.is_open:
            row.cancelled_at = now
            row.lease_owner = row.lease_until = None
    refresh_next_due(case)


# Which follow-up task, when done, meets which deadline.
TASK_MEETS = {
    "leader_contact": "leader_contact",
    "bht_offer": "individual_talk",
    "individual_talk": "individual_talk",
    "psychological_first_aid": "learning_review",
    "learning_review": "learning_review",
    "recontact": "recontact",
}


def deadline_status(due: datetime | None, now: datetime) -> str:
    """overdue, due_soon (within 24 hours) or ok."""
    if due is None:
        return "ok"
    if due < now:
        return "overdue"
    if due < now + DUE_SOON:
        return "due_soon"
    return "ok"


def next_open_deadline(case: Case) -> Deadline | None:
    open_rows = [d for d in case.deadlines if d.is_open]
    return min(open_rows, key=lambda d: d.due_at) if open_rows else None


def refresh_next_due(case: Case) -> None:
    """Store the earliest open deadline on the case: the queue filters, sorts and counts
    by `Case.next_due_at` in SQL, so every change to deadline rows ends here."""
    nearest = next_open_deadline(case)
    case.next_due_at = nearest.due_at if nearest is not None else None
