"""Opening a case's sealed content for reading (audited), its timeline and access history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    select,
)

from handling import notices
from handling.errors import CaseNotFound
from handling.models import (
    Case,
    CaseEvent,
    Debriefing,
    FollowUpTask,
)
from handling.service.access import access_level
from handling.service.base import _audit, _open, oslo_day, sees_reporter
from handling.service.messages import MessageView, _message_views, mark_read
from handling.states import AccessLevel, Side
from reporting import service as reporting
from reporting.codes import REPORTER_ACTOR
from trygg import audit
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l


@dataclass
class TaskView:
    task: FollowUpTask
    note: str | None
    # The responsible person can no longer see the case (excluded since: a conflict of
    # interest, a recusal): the open task is off their "My tasks" and they get no
    # reminders, so the handlers must choose someone else. None outside the handlers'
    # view: that someone was excluded, and so perhaps named in the report, is theirs.
    responsible_excluded: bool | None = None


@dataclass
class DebriefingView:
    debriefing: Debriefing
    outcome: str | None
    further_needs: str | None


@dataclass
class CaseContent:
    """A case opened for reading: decrypted fields for the caller's access level."""

    case: Case
    level: str
    report: dict[str, Any] | None = None
    closing_note: str | None = None
    feedback: str | None = None
    drop_reason: str | None = None
    no_follow_up_reason: str | None = None
    tasks: list[TaskView] = field(default_factory=list)
    debriefings: list[DebriefingView] = field(default_factory=list)
    messages: list[MessageView] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)


def _case_text(case: Case, column: str) -> str | None:
    return _open(case, case, column, case.sealed(column))


def task_view(case: Case, task: FollowUpTask, *, with_note: bool = True) -> TaskView:
    """A task for reading; its note ("only case handlers see the note") and whether its
    responsible person was excluded from the case since (handlers only too) only if
    asked."""
    if not with_note:
        return TaskView(task, None)
    note = _open(case, task, "note", task.note_sealed)
    excluded = task.status == "open" and task.responsible_user_id in case.excluded_user_ids
    return TaskView(task, note, excluded)


def debriefing_view(case: Case, row: Debriefing, *, full: bool = True) -> DebriefingView:
    return DebriefingView(
        row,
        _open(case, row, "outcome", row.outcome_sealed),
        _open(case, row, "further_needs", row.further_needs_sealed) if full else None,
    )


def events(case: Case) -> list[CaseEvent]:
    """The case's timeline, oldest first.

    An anonymous reporter's events have random ids and only their day: like their
    messages, they come after the handlers' events of that day (the opening first).
    """
    rows = list(
        db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )
    if case.report.anonymous:
        rows.sort(key=_timeline_order)
    return rows


def _timeline_order(event: CaseEvent) -> tuple[Any, ...]:
    later = event.actor == REPORTER_ACTOR and event.kind != "opened"
    return (oslo_day(event.at), later, event.at, event.kind != "opened", event.id)


def open_case_content(case: Case, user: User, part: str = "case") -> CaseContent:
    """Decrypt what the user may see of a case; every call writes a "case.read" entry.

    Handlers get everything; a safety representative gets the classification and only
    the follow-up tasks (without their notes) and debriefing summaries (without further
    needs) the exposed employee agreed to share.
    Raises CaseNotFound for anyone else (the reporter reads through reporter_view).
    """
    level = access_level(user, case)
    if level not in {AccessLevel.HANDLER, AccessLevel.SAFETY_REP}:
        raise CaseNotFound()
    actor = actor_label(user)
    _audit("case.read", actor, case, part=part, level=level)
    if part == "case":
        # Opened: what the user was told about this case is read (the header's count).
        notices.handler_read_case(case, user)
    content = CaseContent(case=case, level=level)
    if level == AccessLevel.SAFETY_REP:
        # The task's kind, status and dates are shared; its note is for handlers only,
        # as the form that takes it promises.
        content.tasks = [
            task_view(case, t, with_note=False) for t in case.tasks if t.consent_to_share
        ]
        content.debriefings = [
            debriefing_view(case, d, full=False)
            for d in case.debriefings
            if d.consent_to_share_summary
        ]
        return content
    content.report = reporting.open_report(case.report, actor=actor, part=part).as_dict()
    if not sees_reporter(case, user):
        content.report = _reporter_unnamed(case, content.report)
    content.closing_note = _case_text(case, "closing_note")
    content.feedback = _case_text(case, "feedback")
    content.drop_reason = _case_text(case, "drop_reason")
    content.no_follow_up_reason = _case_text(case, "no_follow_up_reason")
    content.tasks = [task_view(case, t) for t in case.tasks]
    content.debriefings = [debriefing_view(case, d) for d in case.debriefings]
    content.messages = _message_views(case, viewer=Side.HANDLER)
    mark_read(case, user, content.messages)
    content.events = events(case)
    return content


def _reporter_unnamed(case: Case, report: dict[str, Any]) -> dict[str, Any]:
    """A confidential report as anyone but the case's assigned handler reads it: the
    reporter's own place among the people involved (reporting for oneself makes one
    the exposed employee) reads "The reporter", without name or account. They were told
    that only the handler assigned to the case sees who they are."""
    reporter_id = (reporting.reporter_identity(case.report) or {}).get("user_id")
    if reporter_id is None:
        return report

    def shown(person: dict[str, Any]) -> dict[str, Any]:
        if person.get("user_id") != reporter_id:
            return person
        return {"user_id": None, "name": str(_l("The reporter")), "reporter": True}

    out = dict(report)
    for role in ("exposed", "witnesses"):
        out[role] = [shown(p) for p in report.get(role) or []]
    if report.get("counterpart_user_id") == reporter_id:
        out["counterpart_user_id"] = None
    return out


@dataclass(frozen=True)
class AccessRecord:
    at: datetime
    actor: str
    action: str
    part: str | None
    # For a grant: to whom.
    user_id: int | None = None


def access_history(case: Case, limit: int = 200) -> list[AccessRecord]:
    """Who opened the case's (or its report's) content, and refused attempts, newest first."""
    wanted = {
        "case.read",
        "report.read",
        "case.access_denied",
        "case.grant",
        "case.people_search",
    }
    entries = audit.for_objects(
        [("case", case.id), ("report", case.report_id)], limit=limit, actions=wanted
    )
    # A confidential (or anonymous) reporter's readings are shown by their day only:
    # "Your data" reads a person's own reports as "reporter" and, in the same moment, by
    # name the cases that name them as the exposed employee, so a handler of both could
    # match the times and learn who sent the confidential one. (An anonymous reporter's
    # are stored so.) By time: they go to their day's end, since the log's order would
    # tell between which of the handlers' readings they came. And "Your data" (part
    # "access", of the report and of the case's follow-up) shows as the reporter opening
    # their report: a download is rare enough that the same part on the same day in the
    # case naming them would still match.
    day_only = bool(case.report.confidential)

    def shown(entry: Any) -> datetime:
        if day_only and entry.actor == REPORTER_ACTOR:
            return reporting.start_of_day_utc(entry.at)
        return entry.at

    rows = sorted(((shown(e), e) for e in entries), key=lambda r: (r[0], r[1].seq), reverse=True)
    out = []
    # Up to ACCESS_ENTRIES_READ entries, whose details are a handful of distinct texts
    # ({"part":"case"} over and over): each parsed once.
    parsed: dict[str, tuple[Any, Any]] = {}
    for at, e in rows[:limit]:
        part_and_user = parsed.get(e.detail)
        if part_and_user is None:
            detail = json.loads(e.detail)
            part_and_user = parsed[e.detail] = (detail.get("part"), detail.get("user_id"))
        action, (part, user_id) = e.action, part_and_user
        if day_only and e.actor == REPORTER_ACTOR and part == "access":
            action, part = "report.read", "report"
        out.append(AccessRecord(at, e.actor, action, part, user_id))
    return out


# Readings are grouped per person and day; the raw entries looked at are bounded.
ACCESS_ENTRIES_READ = 2000
READ_ACTIONS = frozenset({"case.read", "report.read"})
# A case opened for a handler reads its report too, with the same part: that second
# entry is not a second opening.
REPORT_HALF_OF_CASE = frozenset({"case", "export"})


@dataclass
class AccessDay:
    """One row of the page's access history: one person's readings of one day (however
    many reloads), or a single refusal or grant."""

    day: date
    first_at: datetime
    last_at: datetime
    actor: str
    # "read" for readings of the case or its report; else the audit action.
    action: str
    parts: list[str] = field(default_factory=list)
    count: int = 1
    user_id: int | None = None


def access_days(case: Case, limit: int = 50) -> list[AccessDay]:
    """The access history as a person reads it, newest first: every reading of the same
    person on the same (Oslo) day is one row with how many times and which parts, so a
    reload does not add rows; refusals of the same person that day likewise; each grant
    is its own row. At most `limit` rows, from the newest ACCESS_ENTRIES_READ entries."""
    rows: list[AccessDay] = []
    by_key: dict[tuple[Any, ...], AccessDay] = {}
    # Oslo is a whole number of hours from UTC: the day follows from the UTC hour.
    days: dict[datetime, date] = {}
    for record in access_history(case, limit=ACCESS_ENTRIES_READ):
        action = "read" if record.action in READ_ACTIONS else record.action
        hour = record.at.replace(minute=0, second=0, microsecond=0)
        day = days.get(hour)
        if day is None:
            day = days[hour] = oslo_day(hour)
        # Each grant is its own row (the row's position makes its key unique).
        key: tuple[Any, ...] = (
            day,
            record.actor,
            action,
            len(rows) if action == "case.grant" else -1,
        )
        found = by_key.get(key)
        if found is None:
            if len(rows) >= limit:
                continue
            found = AccessDay(day, record.at, record.at, record.actor, action, [], 0)
            found.user_id = record.user_id
            by_key[key] = found
            rows.append(found)
        if not (record.action == "report.read" and record.part in REPORT_HALF_OF_CASE):
            found.count += 1
        found.first_at = min(found.first_at, record.at)
        if record.part and record.part not in found.parts:
            found.parts.append(record.part)
    return rows
