"""Deleting a case for good (retention): handling's own rows, then its report's.

Kept: the case row's codes, flags and times, its deadlines' times and its tasks' and
debriefings' codes — what statistics count — so trends and risk figures do not change.
Deleted: every sealed column (and the report's data key with it, reporting/erasure.py),
messages and internal notes, the timeline, conflict-of-interest rows (they name people),
the reporter's consent to be named in an export (the case row stays, so no cascade takes it),
who did what on it, its notifications (the reporter's news about it too), and the
identifying parts of its audit entries.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select, update

from handling.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    CaseMessage,
    Deadline,
    Debriefing,
    FollowUpTask,
    HandlerGroupEscalation,
    HandlerGroupMember,
    IdentityConsent,
    Section52Check,
)
from handling.service.reporter import news_keys
from notifications.kinds import Kind
from notifications.service import forget, forget_discreet
from reporting import service as reporting
from reporting.erasure import erase_report
from trygg import audit
from trygg.extensions import db

CASE_SEALED = ("closing_note", "feedback", "drop_reason", "no_follow_up_reason")


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def erase_case(case: Case, *, month: date) -> dict[str, int]:
    """Delete everything of a case that could tell what happened or who was involved."""
    counts: dict[str, int] = {}
    deadline_ids = list(db.session.scalars(select(Deadline.id).where(Deadline.case_id == case.id)))
    task_ids = list(
        db.session.scalars(select(FollowUpTask.id).where(FollowUpTask.case_id == case.id))
    )
    subjects = {f"case:{case.id}"}
    subjects |= {f"deadline:{i}" for i in deadline_ids} | {f"task:{i}" for i in task_ids}
    counts["notifications"] = forget(subjects, {f"/cases/{case.id}"})
    if case.report.anonymous:
        # Its § 5-2 rows have neither (handling/notices/case_events.py).
        counts["notifications"] += forget_discreet([f"case:{case.id}:s52"], [Kind.SECTION_5_2])
    else:
        # The reporter's "news on your report" rows: discreet, at /my-reports. Looked
        # for before the messages and events their keys are made from are deleted.
        reporter = reporting.involved_user_ids(case.report)["reporter"]
        news = news_keys([case.id])[case.id]
        counts["notifications"] += forget_discreet(news, [Kind.REPORT_UPDATE], reporter)
    for model in (CaseMessage, CaseEvent, CaseExclusion, IdentityConsent):
        counts[model.__tablename__] = _count(
            db.session.execute(delete(model).where(model.case_id == case.id))
        )
    db.session.execute(
        update(FollowUpTask)
        .where(FollowUpTask.case_id == case.id)
        .values(note_sealed=None, responsible_user_id=None)
    )
    # A task left open would still be told about by the tick, linking to nothing.
    db.session.execute(
        update(FollowUpTask)
        .where(FollowUpTask.case_id == case.id, FollowUpTask.status == "open")
        .values(status="cancelled")
    )
    db.session.execute(
        update(Debriefing)
        .where(Debriefing.case_id == case.id)
        .values(outcome_sealed=None, further_needs_sealed=None)
    )
    db.session.execute(
        update(Section52Check)
        .where(Section52Check.case_id == case.id)
        .values(labour_inspection_notified_by_id=None, police_notified_by_id=None)
    )
    db.session.execute(
        update(Deadline)
        .where(Deadline.case_id == case.id)
        .values(lease_owner=None, lease_until=None)
    )
    for name in CASE_SEALED:
        setattr(case, f"{name}_sealed", None)
    case.assigned_user_id = None
    db.session.expire(case, ["tasks", "debriefings", "exclusions", "section52", "deadlines"])
    counts["audit_entries"] = audit.erase("case", case.id)
    for task_id in task_ids:
        counts["audit_entries"] += audit.erase("task", task_id)
    counts.update(erase_report(case.report, month=month))
    return counts


def forget_handler(user_id: int) -> int:
    """A user's personal data is erased: they leave every handler group and escalation
    list (their cases keep their id, shown as a former employee)."""
    removed = 0
    for model in (HandlerGroupMember, HandlerGroupEscalation):
        removed += _count(db.session.execute(delete(model).where(model.user_id == user_id)))
    return removed
