"""The handler's case page and the steps taken on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from handling import schemas, service
from handling.models import Case
from handling.presenters import (
    ACCESS_ACTIONS,
    ACCESS_PARTS,
    OSLO,
    Forms,
    Names,
    _errors_of,
    deadline_line,
    event_text,
)
from handling.views.base import ACCESS_HISTORY_ROWS, READ_LEVELS, Page, _user, bp
from handling.views.inputs import _int, _moment, _present, _text, _yes_no
from handling.workflow import (
    FINISHED_STATES,
    STATES,
    CaseError,
    CaseNotFound,
    allowed_next,
    state_label,
)
from reporting import service as reporting
from trygg import downloads, org
from trygg.accounts import service as accounts
from trygg.accounts.models import Role, User
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.security import allow

# -- the case page ----------------------------------------------------------------------


def _case_or_404(case_id: int, levels: tuple[str, ...] = ("handler",)) -> Case:
    """The case if the user may see it at one of `levels`; else 404.

    A form that changes the case locks its row for the rest of the request (as the JSON
    API does). An excluded handler's attempt is audited, and that entry is committed
    although the answer is an error.
    """
    lock = request.method not in {"GET", "HEAD"}
    try:
        return service.case_for(_user(), case_id, levels=levels, lock=lock)
    except CaseNotFound:
        db.session.commit()
        abort(404)


def _people(case: Case, eligible: list[User]) -> list[User]:
    """Who may be made responsible for a follow-up task: the case's eligible handlers,
    the line managers of the report's unit and the units above it, and whoever already
    is responsible for one of its tasks (never every user of a large organisation)."""
    unit = org.get_unit(case.report.unit_id) if case.report.unit_id else None
    units = [unit, *org.ancestors(unit)] if unit is not None else []
    people = {u.id: u for u in eligible}
    for manager in accounts.managers_of([u.id for u in units]):
        people.setdefault(manager.id, manager)
    for task in case.tasks:
        if task.responsible_user_id is not None and task.responsible_user_id not in people:
            responsible = accounts.get_user(task.responsible_user_id)
            if responsible is not None:
                people[responsible.id] = responsible
    return sorted(people.values(), key=lambda u: (u.name, u.id))


def section52_applies(case: Case) -> bool:
    report = case.report
    return case.section_5_2 or report.requires_section_5_2


def _render_case(case: Case, forms: Forms | None = None, status: int = 200) -> Page:
    """The case page for the current user's access level (the opening is audited)."""
    user = _user()
    forms = forms or Forms()
    content = service.open_case_content(case, user, part="case")
    now = utcnow()
    names = Names()
    groups = {g.id: g.name for g in service.handler_groups()}
    report = case.report
    unit = org.get_unit(report.unit_id) if report.unit_id else None
    context: dict[str, Any] = {
        "case": case,
        "report": report,
        "content": content,
        "r": content.report or {},
        "unit": unit,
        "names": names,
        "groups": groups,
        "forms": forms,
        "errors": forms.errors,
        "deadlines": [deadline_line(d, now) for d in case.deadlines],
        "next_deadline": service.next_open_deadline(case),
        "handler": content.level == "handler",
    }
    if content.level == "handler":
        eligible = service.eligible_handlers(case)
        people = _people(case, eligible)
        names.remember(people)
        context.update(
            next_states=allowed_next(case.state),
            finished=case.state in FINISHED_STATES,
            eligible=eligible,
            grant_candidates=service.grant_candidates(case),
            all_groups=service.handler_groups(),
            people=people,
            events=[(e, event_text(e, names, groups)) for e in content.events],
            access=service.access_history(case, limit=ACCESS_HISTORY_ROWS),
            access_rows=ACCESS_HISTORY_ROWS,
            access_actions=ACCESS_ACTIONS,
            access_parts=ACCESS_PARTS,
            section52=section52_applies(case),
            today=datetime.now(OSLO).date().isoformat(),
        )
    html = render_template("handling/case.html", **context)
    if status >= 400:
        # The request's error answer rolls back; the reading of the content must stay.
        db.session.commit()
        return html, status
    return html


@bp.get("/cases/<id:case_id>")
@allow(Role.HANDLER, Role.SAFETY_REP)
def case(case_id: int) -> Page:
    """One case: report, deadlines, follow-up, messages, timeline, access history."""
    return _render_case(_case_or_404(case_id, READ_LEVELS))


@bp.get("/cases/<id:case_id>/attachments/<id:attachment_id>")
@allow(Role.HANDLER)
def case_attachment(case_id: int, attachment_id: int) -> Response:
    """Download an attachment of the case's report: its handlers only, never inline.

    The download is audited as a reading of the report (who, which file), and shows in
    the case's access history.
    """
    case = _case_or_404(case_id)
    try:
        actor = actor_label(_user())
        return downloads.sealed_download(
            lambda: reporting.attachment_download(case.report, attachment_id, actor=actor)
        )
    except reporting.ReportNotFound:
        abort(404)


Action = Callable[[Case], str | None]


def _act(case_id: int, prefix: str, action: Action, done: str) -> Page | Response:
    """Run one form's action on a case the user handles.

    Success: a 303 back to the case page with `done` as confirmation (to the queue when
    the user no longer handles the case, e.g. after recusal). Refusal: nothing is kept,
    and the case page comes again with 400, the form open and its messages.
    """
    found = _case_or_404(case_id)
    try:
        message = action(found)
    except (ValidationError, CaseError) as exc:
        errors = _errors_of(exc)
    except CaseNotFound:
        abort(404)
    else:
        flash(message or done, "success")
        if service.access_level(_user(), found) != "handler":
            return redirect(url_for(".queue"), 303)
        return redirect(url_for(".case", case_id=case_id), 303)
    db.session.rollback()
    found = _case_or_404(case_id)
    return _render_case(found, Forms(prefix, request.form, errors), 400)


TRANSITION_DONE = {
    "acknowledged": _l("The report is acknowledged."),
    "triaged": _l("The case is triaged."),
    "closed": _l("The case is closed. The reporter can now read your feedback."),
    "dropped": _l("The case is dropped."),
    "reopened": _l("The case is reopened."),
}


@bp.post("/cases/<id:case_id>/transition")
@allow(Role.HANDLER)
def transition(case_id: int) -> Page | Response:
    """Move the case to another state, with the fields the step's guard needs."""
    to = request.form.get("to", "")

    def run(case: Case) -> str:
        data = schemas.TransitionSchema().load(
            _present(
                {
                    "to": to,
                    "track": _text("track"),
                    "section_5_2": _yes_no("section_5_2"),
                    "closing_note": _text("closing_note"),
                    "causes": request.form.getlist("causes"),
                    "feedback": _text("feedback"),
                    "no_follow_up_reason": _text("no_follow_up_reason"),
                    "reason": _text("reason"),
                    "forwarded_to": _text("forwarded_to"),
                }
            )
        )
        target = data.pop("to")
        service.transition(case, target, actor=_user(), **data)
        done = TRANSITION_DONE.get(target)
        return str(done) if done else _("The case is now “%(state)s”.", state=state_label(target))

    return _act(case_id, f"to-{to}" if to in STATES else "to", run, "")


@bp.post("/cases/<id:case_id>/track")
@allow(Role.HANDLER)
def track(case_id: int) -> Page | Response:
    """Move the case to another track (it may be routed to another group)."""

    def run(case: Case) -> None:
        data = schemas.TrackSchema().load(
            _present({"track": _text("track"), "section_5_2": _yes_no("section_5_2")})
        )
        service.change_track(case, actor=_user(), **data)

    return _act(case_id, "track", run, _("The track is changed."))


@bp.post("/cases/<id:case_id>/assignment")
@allow(Role.HANDLER)
def assignment(case_id: int) -> Page | Response:
    """Assign the case to a handler or another group, or step aside (recuse)."""
    recusing = request.form.get("recuse") == "true"

    def run(case: Case) -> str | None:
        data = schemas.AssignmentSchema().load(
            _present(
                {
                    "handler_id": _int(request.form.get("handler_id")),
                    "group_id": _int(request.form.get("group_id")),
                    "reason": _text("reason"),
                    "recuse": recusing,
                }
            )
        )
        user = _user()
        if data["recuse"]:
            service.recuse(case, user, data["reason"])
            return _("You have stepped aside. The case went to a colleague.")
        handler = None
        if data["handler_id"] is not None:
            handler = accounts.get_user(data["handler_id"])
            if handler is None:
                raise CaseError(_("Pick a person from the list."), "handler_id")
        group = service.choose_group(data["group_id"]) if data["group_id"] is not None else None
        service.assign(case, handler, data["reason"], actor=user, group=group)
        return None

    return _act(case_id, "recuse" if recusing else "assign", run, _("The assignment is saved."))


@bp.post("/cases/<id:case_id>/grants")
@allow(Role.HANDLER)
def grant(case_id: int) -> Page | Response:
    """Give a colleague in the case's group, who joined after it came, access to it."""

    def run(case: Case) -> str:
        data = schemas.GrantSchema().load(
            _present({"user_id": _int(request.form.get("user_id")), "reason": _text("reason")})
        )
        row = service.grant_access(case, data["user_id"], data["reason"], actor=_user())
        return _("%(name)s now has access to the case.", name=Names().user(row.user_id))

    return _act(case_id, "grant", run, "")


def _task_fields() -> dict[str, Any]:
    """The task fields the form holds; a form without a field leaves it unchanged.

    The consent checkbox comes with a hidden "off" before it, so that unticking it is
    sent too.
    """
    form = request.form
    found: dict[str, Any] = {}
    if "status" in form:
        found["status"] = _text("status")
    if "responsible_user_id" in form:
        found["responsible_user_id"] = _int(form.get("responsible_user_id"))
    if "due_at" in form:
        found["due_at"] = _moment("due_at")
    if "note" in form:
        found["note"] = _text("note")
    if "consent_to_share" in form:
        found["consent_to_share"] = "on" in form.getlist("consent_to_share")
    return found


@bp.post("/cases/<id:case_id>/tasks")
@allow(Role.HANDLER)
def add_task(case_id: int) -> Page | Response:
    """Add a follow-up task for the exposed employee (from a template)."""

    def run(case: Case) -> None:
        data = schemas.TaskCreateSchema().load(
            _present({"template": _text("template"), **_task_fields()})
        )
        service.add_task(case, actor=_user(), **data)

    return _act(case_id, "task-new", run, _("The follow-up task is added."))


@bp.post("/cases/<id:case_id>/tasks/<id:task_id>")
@allow(Role.HANDLER)
def update_task(case_id: int, task_id: int) -> Page | Response:
    """Change a follow-up task: status, responsible person, due time, note, consent."""

    def run(case: Case) -> None:
        task = service.get_task(case, task_id)
        data = schemas.TaskUpdateSchema().load(_task_fields())
        service.update_task(case, task, actor=_user(), **data)

    return _act(case_id, f"task-{task_id}", run, _("The follow-up task is updated."))


@bp.post("/cases/<id:case_id>/debriefing")
@allow(Role.HANDLER)
def debriefing(case_id: int) -> Page | Response:
    """Record a debriefing or learning review."""

    def run(case: Case) -> None:
        data = schemas.DebriefingSchema().load(
            _present(
                {
                    "held_on": _text("held_on"),
                    "participant_roles": request.form.getlist("participant_roles"),
                    "support_offered": request.form.getlist("support_offered"),
                    "outcome": _text("outcome"),
                    "further_needs": _text("further_needs"),
                    "consent_to_share_summary": request.form.get("consent_to_share_summary")
                    == "on",
                }
            )
        )
        service.record_debriefing(case, actor=_user(), **data)

    return _act(case_id, "debriefing", run, _("The debriefing is recorded."))


@bp.post("/cases/<id:case_id>/section52")
@allow(Role.HANDLER)
def section52(case_id: int) -> Page | Response:
    """Record the § 5-2 notifications, the copy to the safety rep and NAV's form."""

    def run(case: Case) -> None:
        data = schemas.Section52Schema().load(
            {
                "labour_inspection_notified_at": _moment("labour_inspection_notified_at"),
                "labour_inspection_notified_by_id": _int(
                    request.form.get("labour_inspection_notified_by_id")
                ),
                "police_notified_at": _moment("police_notified_at"),
                "police_notified_by_id": _int(request.form.get("police_notified_by_id")),
                "safety_rep_copied_at": _moment("safety_rep_copied_at"),
                "nav_form_sent": _yes_no("nav_form_sent"),
                "nav_form_sent_on": _text("nav_form_sent_on"),
            }
        )
        service.update_section52(case, actor=_user(), **data)

    return _act(case_id, "section52", run, _("The section 5-2 checklist is saved."))


@bp.post("/cases/<id:case_id>/messages")
@allow(Role.HANDLER)
def post_message(case_id: int) -> Page | Response:
    """Write to the reporter, or an internal note only handlers of the case see."""
    internal = request.form.get("internal") == "true"

    def run(case: Case) -> None:
        data = schemas.MessageInSchema().load(
            _present({"body": _text("body"), "internal": request.form.get("internal")})
        )
        service.post_message(case, _user(), data["body"], data["internal"])

    done = _("The internal note is saved.") if internal else _("The message is sent.")
    return _act(case_id, "message", run, done)
