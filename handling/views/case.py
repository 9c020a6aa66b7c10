"""The handler's case page and the steps taken on it."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    flash,
    redirect,
    request,
    url_for,
)
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from handling import schemas, service
from handling.loaders import load_case
from handling.models import Case
from handling.presenters import (
    Forms,
    Names,
    _errors_of,
)
from handling.states import AccessLevel, CaseState
from handling.views.base import READ_LEVELS, Page, _user, bp
from handling.views.inputs import load_form
from handling.views.workspace import _picker_query, _render_case, section_of
from handling.workflow import (
    STATES,
    CaseError,
    state_label,
)
from reporting import service as reporting
from trygg import downloads
from trygg.accounts import service as accounts
from trygg.accounts.models import Role
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.security import allow

# -- the case page ----------------------------------------------------------------------


@bp.get("/cases/<id:case_id>")
@allow(Role.HANDLER, Role.SAFETY_REP)
def case(case_id: int) -> Page:
    """One case: report, deadlines, follow-up, messages, timeline, access history."""
    found = load_case(case_id, READ_LEVELS)
    query, form = _picker_query()
    if len(query) > service.QUERY_MAX:
        message = _("Search with at most %(num)s characters.", num=service.QUERY_MAX)
        return _render_case(found, Forms(f"find-{form}", request.args, {"person": [message]}), 400)
    return _render_case(found)


@bp.get("/cases/<id:case_id>/attachments/<id:attachment_id>")
@allow(Role.HANDLER)
def case_attachment(case_id: int, attachment_id: int) -> Response:
    """Download an attachment of the case's report: its handlers only, never inline.

    The download is audited as a reading of the report (who, which file), and shows in
    the case's access history.
    """
    case = load_case(case_id)
    actor = actor_label(_user())
    return downloads.sealed_download(
        lambda: reporting.attachment_download(case.report, attachment_id, actor=actor)
    )


Action = Callable[[Case], str | None]


def _act(case_id: int, prefix: str, action: Action, done: str) -> Page | Response:
    """Run one form's action on a case the user handles.

    Success: a 303 back to the case page with `done` as confirmation (to the queue when
    the user no longer handles the case, e.g. after recusal). Refusal: nothing is kept,
    and the case page comes again with 400, the form open and its messages.
    """
    found = load_case(case_id)
    try:
        message = action(found)
    except (ValidationError, CaseError) as exc:
        errors = _errors_of(exc)
    else:
        section = section_of(prefix)
        if service.access_level(_user(), found) != AccessLevel.HANDLER:
            flash(message or done, "success")
            return redirect(url_for(".queue"), 303)
        # Shown under the section's heading, where the address's #section lands.
        flash(message or done, f"success#{section}" if section else "success")
        return redirect(url_for(".case", case_id=case_id, _anchor=section), 303)
    db.session.rollback()
    found = load_case(case_id)
    return _render_case(found, Forms(prefix, request.form, errors), 400)


TRANSITION_DONE = {
    CaseState.ACKNOWLEDGED: _l("The report is acknowledged."),
    CaseState.TRIAGED: _l("The case is triaged."),
    CaseState.CLOSED: _l("The case is closed. The reporter can now read your feedback."),
    CaseState.DROPPED: _l("The case is dropped."),
    CaseState.REOPENED: _l("The case is reopened."),
}


@bp.post("/cases/<id:case_id>/transition")
@allow(Role.HANDLER)
def transition(case_id: int) -> Page | Response:
    """Move the case to another state, with the fields the step's guard needs."""
    to = request.form.get("to", "")

    def run(case: Case) -> str:
        data = load_form(schemas.TransitionSchema())
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
        data = load_form(schemas.TrackSchema())
        service.change_track(case, actor=_user(), **data)

    return _act(case_id, "track", run, _("The track is changed."))


@bp.post("/cases/<id:case_id>/assignment")
@allow(Role.HANDLER)
def assignment(case_id: int) -> Page | Response:
    """Assign the case to a handler or another group, pass it on to a colleague chosen
    for the user, or step aside (recuse)."""
    recusing = request.form.get("recuse") == "true"
    giving = request.form.get("pass_on") == "true"

    def run(case: Case) -> str | None:
        data = load_form(schemas.AssignmentSchema())
        user = _user()
        if data["recuse"]:
            service.recuse(case, user, data["reason"])
            return _("You have stepped aside. The case went to a colleague.")
        if data["pass_on"]:
            service.pass_on(case, data["reason"], actor=user)
            # The receiver is never the reporter; the case page names them anyway.
            name = Names().user(case.assigned_user_id)
            return _("The case went to %(name)s.", name=name)
        handler = None
        if data["handler_id"] is not None:
            handler = accounts.get_user(data["handler_id"])
            if handler is None:
                raise CaseError(_("Pick a person from the list."), "handler_id")
        group = service.choose_group(data["group_id"]) if data["group_id"] is not None else None
        # Sent as it was shown, it is refused by the field (service.assign), with no
        # event in the timeline.
        service.assign(case, handler, data["reason"], actor=user, group=group)
        return None

    prefix = "recuse" if recusing else "give" if giving else "assign"
    return _act(case_id, prefix, run, _("The assignment is saved."))


@bp.post("/cases/<id:case_id>/grants")
@allow(Role.HANDLER)
def grant(case_id: int) -> Page | Response:
    """Give a colleague in the case's group, who joined after it came, access to it."""

    def run(case: Case) -> str:
        data = load_form(schemas.GrantSchema())
        row = service.grant_access(case, data["user_id"], data["reason"], actor=_user())
        return _("%(name)s now has access to the case.", name=Names().user(row.user_id))

    return _act(case_id, "grant", run, "")


@bp.post("/cases/<id:case_id>/tasks")
@allow(Role.HANDLER)
def add_task(case_id: int) -> Page | Response:
    """Add a follow-up task for the exposed employee (from a template)."""

    def run(case: Case) -> None:
        data = load_form(schemas.TaskCreateSchema())
        service.add_task(case, actor=_user(), **data)

    return _act(case_id, "task-new", run, _("The follow-up task is added."))


@bp.post("/cases/<id:case_id>/tasks/<id:task_id>")
@allow(Role.HANDLER)
def update_task(case_id: int, task_id: int) -> Page | Response:
    """Change a follow-up task: status, responsible person, due time, note, consent."""

    def run(case: Case) -> None:
        task = service.get_task(case, task_id)
        data = load_form(schemas.TaskUpdateSchema())
        service.update_task(case, task, actor=_user(), **data)

    return _act(case_id, f"task-{task_id}", run, _("The follow-up task is updated."))


@bp.post("/cases/<id:case_id>/debriefing")
@allow(Role.HANDLER)
def debriefing(case_id: int) -> Page | Response:
    """Record a debriefing or learning review."""

    def run(case: Case) -> None:
        data = load_form(schemas.DebriefingSchema())
        said = ("participant_roles", "support_offered", "outcome", "further_needs")
        if not any(data.get(name) and str(data[name]).strip() for name in said):
            # The form comes with the day filled in: sent as it came, it recorded a
            # debriefing of no one and nothing, which then counted for closing the case.
            raise CaseError(
                _(
                    "Say who took part, the support offered or what came of it: "
                    "a debriefing with only a date records nothing."
                ),
                "participant_roles",
            )
        service.record_debriefing(case, actor=_user(), **data)

    return _act(case_id, "debriefing", run, _("The debriefing is recorded."))


@bp.post("/cases/<id:case_id>/section52")
@allow(Role.HANDLER)
def section52(case_id: int) -> Page | Response:
    """Record the § 5-2 notifications, the copy to the safety rep and NAV's form."""

    def run(case: Case) -> None:
        # The form always shows every field: one left out means "none".
        data = load_form(schemas.Section52Schema(), absent_as_empty=True)
        service.update_section52(case, actor=_user(), **data)

    return _act(case_id, "section52", run, _("The section 5-2 checklist is saved."))


@bp.post("/cases/<id:case_id>/messages")
@allow(Role.HANDLER)
def post_message(case_id: int) -> Page | Response:
    """Write to the reporter, or an internal note only handlers of the case see."""
    internal = request.form.get("internal") == "true"

    def run(case: Case) -> None:
        data = load_form(schemas.MessageInSchema())
        service.post_message(case, _user(), data["body"], data["internal"])

    done = _("The internal note is saved.") if internal else _("The message is sent.")
    return _act(case_id, "message", run, done)
