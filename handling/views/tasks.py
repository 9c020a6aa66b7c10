"""A responsible person's "My tasks" page: their follow-up tasks, and marking one done.

Anyone a handler made responsible for a task may use it (a leader, a handler, someone
from the occupational health service); it shows only what the task needs
(handling/service/mytasks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response

from handling import codes, service
from handling.presenters import _errors_of
from handling.views.base import Page, _user, bp
from handling.workflow import CaseError
from trygg import audit, org
from trygg.extensions import db, utcnow
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.i18n import ngettext
from trygg.security import allow

# What the responsible person must do, by the task's kind.
INSTRUCTIONS = {
    "leader_contact": _l(
        "Contact the exposed employee soon: ask how they are, listen, and tell them what "
        "support they can get. Mark the task done when you have talked."
    ),
    "bht_offer": _l(
        "Offer the exposed employee a talk with the occupational health service (BHT), and "
        "help them make the appointment if they want it."
    ),
    "individual_talk": _l(
        "Hold an individual talk with the exposed employee about how they are and what they need."
    ),
    "psychological_first_aid": _l(
        "Make sure the exposed employee has someone to talk to now, and is not alone after "
        "the incident."
    ),
    "learning_review": _l(
        "Hold a learning review with those involved: what happened, what worked, and what "
        "should change. The case handler records the outcome."
    ),
    "workplace_adjustment": _l(
        "Agree with the exposed employee on changes at work (tasks, shifts, place) that "
        "make them feel safe, and put them in place."
    ),
    "recontact": _l(
        "Contact the exposed employee again, 2–4 weeks after the incident, and ask how "
        "they are doing now."
    ),
}


@dataclass
class TaskLine:
    """One task as the page shows it."""

    item: service.MyTask
    kind: str
    instruction: str
    unit: str
    due_status: str | None

    @property
    def due_label(self) -> str:
        return str(codes.DEADLINE_STATUSES.get(self.due_status or "", ""))


def _lines(items: list[service.MyTask], now: datetime) -> list[TaskLine]:
    units = {n.unit.id: n.unit.name for n in org.tree()}
    return [
        TaskLine(
            item=item,
            kind=codes.TASK_TEMPLATES.get(item.task.template, item.task.template),
            instruction=str(INSTRUCTIONS.get(item.task.template, "")),
            unit=units.get(item.unit_id or 0, ""),
            due_status=service.deadline_status(item.task.due_at, now)
            if item.task.status == "open" and item.task.due_at is not None
            else None,
        )
        for item in items
    ]


def _render(errors: dict[int, dict[str, list[str]]] | None = None, status: int = 200) -> Page:
    user = _user()
    now = utcnow()
    lines = _lines(service.my_tasks(user), now)
    open_lines = [x for x in lines if x.item.task.status == "open"]
    errors = errors or {}
    listed = {x.item.task.id for x in open_lines}
    # A refusal about a task no longer on the list (done, or its case closed meanwhile)
    # is said at the top of the page.
    general = [
        str(message)
        for task_id, fields in errors.items()
        if task_id not in listed
        for messages in fields.values()
        for message in messages
    ]
    html = render_template(
        "handling/my_tasks.html",
        open_lines=open_lines,
        done_lines=[x for x in lines if x.item.task.status != "open"],
        errors=errors,
        general_errors=general,
        note_max=service.DONE_NOTE_MAX,
        more=service.open_task_count(user) - len(open_lines),
    )
    # The names read for the page are audited; that entry stays even on a refusal.
    audit.keep_audited()
    return (html, status) if status != 200 else html


@bp.get("/my-tasks")
@allow()
def my_tasks() -> Page:
    """The follow-up tasks the user is responsible for: open first, then recently done."""
    return _render()


@bp.post("/my-tasks/<id:task_id>/done")
@allow()
def mark_task_done(task_id: int) -> Page | Response:
    """Mark one of the user's tasks done, with an optional short note for the handlers."""
    try:
        service.mark_task_done(_user(), task_id, note=request.form.get("note"))
    except CaseError as exc:
        db.session.rollback()
        return _render({task_id: _errors_of(exc)}, 400)
    flash(_("The task is marked as done. The case handler can see it on the case."), "success")
    return redirect(url_for(".my_tasks"), 303)


def open_tasks_panel() -> dict[str, object] | None:
    """The start page's "My tasks" section: open tasks, without opening anything sealed."""
    user = _user()
    items = service.my_tasks(user, open_only=True, with_names=False)
    if not items:
        return None
    return {"lines": _lines(items, utcnow())}


def open_tasks_badge() -> tuple[int, str] | None:
    """The menu's count of open tasks."""
    count = service.open_task_count(_user())
    if not count:
        return None
    return count, ngettext("%(num)s open task", "%(num)s open tasks", count)


def shared_cases_panel() -> dict[str, object] | None:
    """The safety representative's start: the cases shared with them, closed ones too."""
    return {"url": url_for("handling.queue", state="all")}
