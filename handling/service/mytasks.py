"""A responsible person's follow-up tasks ("My tasks"): what the task needs, no more.

A leader or anyone else a handler made responsible for a task sees its kind, due time,
status, the case's reference and unit, and what to do. They never see the report's
narrative, the handlers' task note or anything else of the case. Where the task is to
contact the exposed employee (CONTACT_TEMPLATES), they see the exposed employee's name,
because they cannot do the task without it; that reading is audited like any other
reading of a case. An anonymous report's names are never shown here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from handling.errors import CaseError, CaseNotFound
from handling.models import Case, CaseExclusion, FollowUpTask
from handling.service.access import get_case
from handling.service.base import OSLO, _audit, _now, _open, _require_unfinished, _text
from handling.service.followup import update_task
from handling.service.responsible import not_offered
from handling.workflow import FINISHED_STATES
from reporting import service as reporting
from reporting.models import Report
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.formatting import format_count
from trygg.i18n import lazy_gettext as _l

# Tasks that are about contacting the exposed employee: their name is what they need.
CONTACT_TEMPLATES = frozenset(
    {
        "leader_contact",
        "recontact",
        "workplace_adjustment",
        "individual_talk",
        "bht_offer",
        "psychological_first_aid",
    }
)
# How many done tasks the page shows under the open ones.
RECENTLY_DONE = 10
# At most this many open tasks on one page (nearest due first); the page says when there
# are more (a person with that many is better served by the handlers' queue).
OPEN_MAX = 100
# A responsible person's note when marking a task done.
DONE_NOTE_MAX = 2000


@dataclass
class MyTask:
    """One task as its responsible person sees it."""

    task: FollowUpTask
    case_id: int
    reference: str
    unit_id: int | None
    exposed: list[str] = field(default_factory=list)
    # A contact task (someone must contact the exposed employee): the page says whom, or
    # that the case handler tells them (a report naming no one they can be shown).
    contact: bool = False
    # A confidential report: no name, whoever it names (see `_my_task`).
    withheld: bool = False


def _mine(user: User) -> Select[FollowUpTask, Case]:
    """The user's tasks, but none of a case they were excluded from after being made
    responsible (a conflict of interest found later closes the case to them)."""
    return (
        select(FollowUpTask, Case)
        .join(Case, Case.id == FollowUpTask.case_id)
        .join(Report, Report.id == Case.report_id)
        .where(
            FollowUpTask.responsible_user_id == user.id,
            Report.erased_month.is_(None),
            _not_excluded(user),
        )
    )


def _not_excluded(user: User) -> ColumnElement[bool]:
    return ~exists().where(CaseExclusion.case_id == Case.id, CaseExclusion.user_id == user.id)


def _open_condition() -> list[ColumnElement[bool]]:
    return [FollowUpTask.status == "open", Case.state.not_in(sorted(FINISHED_STATES))]


def open_task_count(user: User) -> int:
    """How many open tasks of unfinished cases the user is responsible for (no reading)."""
    query = (
        select(func.count())
        .select_from(FollowUpTask)
        .join(Case, Case.id == FollowUpTask.case_id)
        .join(Report, Report.id == Case.report_id)
        .where(
            FollowUpTask.responsible_user_id == user.id,
            Report.erased_month.is_(None),
            _not_excluded(user),
            *_open_condition(),
        )
    )
    return int(db.session.scalar(query) or 0)


def holds_tasks(user: User) -> bool:
    """Whether the user is, or was, the responsible person of any follow-up task: such
    an account is shown details of cases, and an admin's reset of it must not hand the
    admin a code (trygg.accounts.service.users.reset_by_mail)."""
    held = select(FollowUpTask.id).where(FollowUpTask.responsible_user_id == user.id)
    return bool(db.session.scalar(select(exists(held))))


def my_tasks(user: User, *, open_only: bool = False, with_names: bool = True) -> list[MyTask]:
    """The user's open tasks (nearest due first), then the ones they recently finished.

    `with_names`: an open contact task carries the exposed employee's name; reading it
    is audited as a reading of the case ("case.read", part "task") and of that part of
    its report. A confidential report's task carries no name (`withheld`), whoever it
    names. Without `with_names` nothing sealed is opened.
    """
    rows = db.session.execute(
        _mine(user)
        .where(*_open_condition())
        .order_by(FollowUpTask.due_at.is_(None), FollowUpTask.due_at, FollowUpTask.id)
        .limit(OPEN_MAX)
    ).all()
    found = [_my_task(user, task, case, with_names) for task, case in rows]
    if not open_only:
        done = db.session.execute(
            _mine(user)
            .where(FollowUpTask.status != "open")
            .order_by(FollowUpTask.completed_at.desc(), FollowUpTask.id.desc())
            .limit(RECENTLY_DONE)
        ).all()
        found += [MyTask(t, c.id, c.report.reference, c.report.unit_id) for t, c in done]
    return found


def _my_task(user: User, task: FollowUpTask, case: Case, with_names: bool) -> MyTask:
    item = MyTask(task, case.id, case.report.reference, case.report.unit_id)
    item.contact = with_names and task.template in CONTACT_TEMPLATES
    if item.contact and not case.report.anonymous:
        if case.report.confidential:
            # The same words whoever the report names, and no names: leaving out only a
            # confidential reporter who reported for themselves would tell the leader,
            # beside a task showing a name, which of their people reported. The case
            # handler tells them whom to contact; nothing sealed is read here.
            item.withheld = True
            return item
        actor = actor_label(user)
        _audit("case.read", actor, case, part="task", level="responsible", task=task.id)
        item.exposed = reporting.exposed_names(case.report, actor=actor, part="task")
    return item


def mark_task_done(
    user: User, task_id: int, *, note: str | None = None, now: datetime | None = None
) -> FollowUpTask:
    """The responsible person marks their task done, with an optional short note.

    The note is added to the task's sealed note (which only case handlers read), after
    what is there, with who wrote it and the day; the case's timeline shows the step.
    CaseNotFound unless the user is the task's responsible person; CaseClosed when the
    case is closed; CaseError when the task is no longer open or the note too long.
    """
    task = db.session.get(FollowUpTask, task_id) if 0 < task_id < 2**31 else None
    if task is None or task.responsible_user_id != user.id:
        raise CaseNotFound()
    db.session.execute(select(Case.id).where(Case.id == task.case_id).with_for_update())
    case = get_case(task.case_id)
    if case is None or user.id in not_offered(case):
        raise CaseNotFound()
    _require_unfinished(case)
    if task.status != "open":
        raise CaseError(_l("This task is no longer open."), "status")
    text = _text(note)
    if text is not None and len(text) > DONE_NOTE_MAX:
        raise CaseError(
            _l(
                "Make the note shorter (at most %(max)s characters).",
                max=format_count(DONE_NOTE_MAX),
            ),
            "note",
        )
    now = _now(now)
    changes: dict[str, object] = {"status": "done"}
    if text is not None:
        before = _open(case, task, "note", task.note_sealed)
        line = f"{user.name}, {now.astimezone(OSLO).date().isoformat()}: {text}"
        changes["note"] = f"{before}\n\n{line}" if before else line
    return update_task(case, task, actor=user, now=now, **changes)
