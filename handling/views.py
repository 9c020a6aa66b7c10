"""Case handling's pages: the handler's queue and case page, the reporter's view of their
case, and the admin's handler groups, routing rules and deadline policies.

Views are thin: form → schema → service → 303 redirect with a confirmation, or the same
page again with 400 and the messages next to the fields (typed values kept). A page that
shows case content opens it through the service, which audits every opening; when a
refused form shows the case page again, that reading is committed on its own, because
the request's 4xx answer rolls everything else back. A case the user may not see
answers 404, never 403, so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_datetime, format_timedelta, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers.response import Response

from handling import codes, schemas, service
from handling.models import Case, CaseEvent, Deadline, HandlerGroup
from handling.workflow import (
    FINISHED_STATES,
    STATES,
    CaseError,
    CaseNotFound,
    allowed_next,
    state_label,
)
from reporting import codes as rcodes
from reporting import service as reporting
from reporting import views as reporting_views
from reporting.models import Report
from trygg import org
from trygg.accounts import service as accounts
from trygg.accounts.models import Role, User
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors
from trygg.web import register_nav

bp = Blueprint("handling", __name__, template_folder="templates")

OSLO = ZoneInfo("Europe/Oslo")
# Who may open a case page: handlers of its group, and a safety representative where
# the exposed employee agreed to share (the service decides which).
READ_LEVELS = ("handler", "safety_rep")
ACCESS_HISTORY_ROWS = 50

Page = str | tuple[str, int]


def register(app: Flask) -> None:
    """Register the pages and their menu entries (called from handling/setup.py)."""
    app.register_blueprint(bp)
    register_nav("handling.queue", _l("Cases"), Role.HANDLER, Role.SAFETY_REP)
    register_nav("handling.admin_groups", _l("Handler groups"), Role.ADMIN, menu="admin")
    register_nav("handling.admin_rules", _l("Routing rules"), Role.ADMIN, menu="admin")
    register_nav("handling.admin_policies", _l("Deadline policies"), Role.ADMIN, menu="admin")


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


# -- presentation helpers ---------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineLine:
    """One deadline as a page shows it."""

    kind: str
    label: str
    due_at: datetime
    # met, cancelled, overdue, due_soon, ok
    status: str
    text: str


def deadline_line(row: Deadline, now: datetime) -> DeadlineLine:
    """A deadline with the time left, how late it is, or when it was met."""
    label = rcodes.label(codes.DEADLINE_KINDS, row.kind)
    if row.met_at is not None:
        text = _("Met %(when)s", when=format_datetime(row.met_at, "short"))
        if row.met_at > row.due_at:
            text = _("Met late, %(when)s", when=format_datetime(row.met_at, "short"))
        return DeadlineLine(row.kind, label, row.due_at, "met", text)
    if row.cancelled_at is not None:
        return DeadlineLine(row.kind, label, row.due_at, "cancelled", _("No longer needed"))
    status = service.deadline_status(row.due_at, now)
    if status == "overdue":
        text = _("%(time)s overdue", time=format_timedelta(now - row.due_at))
    else:
        text = _("%(time)s left", time=format_timedelta(row.due_at - now))
    return DeadlineLine(row.kind, label, row.due_at, status, text)


def local_input(moment: datetime | None) -> str:
    """A UTC time as the value of a datetime-local input, in Oslo time."""
    if moment is None:
        return ""
    return moment.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M")


class Names:
    """Audit-style actor labels ("user:42", "reporter", "system") as names, cached."""

    def __init__(self) -> None:
        self._users: dict[int, str] = {}

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._users:
            person = accounts.get_user(user_id)
            self._users[user_id] = person.name if person is not None else _("Deleted user")
        return self._users[user_id]

    def actor(self, label: str) -> str:
        if label.startswith("user:") and label[5:].isdigit():
            return self.user(int(label[5:]))
        return {
            "reporter": _("The reporter"),
            "system": _("Trygg (automatic)"),
            "anonymous": _("Not logged in"),
            "cli": _("The command line on the server"),
        }.get(label, label)


ACCESS_ACTIONS = {
    "case.read": _l("Opened the case"),
    "report.read": _l("Opened the report"),
    "case.access_denied": _l("Refused: conflict of interest"),
    "case.grant": _l("Gave access to"),
}
ACCESS_PARTS = {
    "case": _l("case page"),
    "messages": _l("messages"),
    "report": _l("report"),
    "attachment": _l("attachment"),
    "task": _l("follow-up task"),
    "debriefing": _l("debriefing"),
}


def _code(codeset: rcodes.Codes, code: Any) -> str:
    return rcodes.label(codeset, code) if isinstance(code, str) else ""


def event_text(event: CaseEvent, names: Names, groups: Mapping[int, str]) -> str:
    """What an event's codes say, in words (never content: events hold none)."""
    c = event.codes or {}
    kind = event.kind
    if kind == "opened":
        return _("Track: %(track)s", track=_code(codes.TRACKS, c.get("track")))
    if kind == "routed":
        text = groups.get(c.get("group") or 0, _("no group"))
        if c.get("warning"):
            text += " – " + _code(codes.ROUTING_WARNINGS, c["warning"])
        return text
    if kind == "transition":
        text = _(
            "From “%(from)s” to “%(to)s”",
            **{"from": state_label(c.get("from", "")), "to": state_label(c.get("to", ""))},
        )
        if c.get("track"):
            text += ". " + _("Track: %(track)s", track=_code(codes.TRACKS, c["track"]))
        if c.get("forwarded_to"):
            text += ". " + _code(codes.FORWARD_TARGETS, c["forwarded_to"])
        return text
    if kind == "track_changed":
        return _(
            "From “%(before)s” to “%(after)s”",
            before=_code(codes.TRACKS, c.get("before")),
            after=_code(codes.TRACKS, c.get("after")),
        )
    if kind == "assigned":
        who = names.user(c.get("to")) if c.get("to") else _("the group's queue")
        return _("To %(who)s", who=who)
    if kind == "granted":
        return _("To %(who)s", who=names.user(c.get("to")))
    if kind in {"task_added", "task_updated"}:
        text = _code(codes.TASK_TEMPLATES, c.get("template"))
        if c.get("status"):
            text += ": " + _code(codes.TASK_STATUSES, c["status"])
        return text
    if kind == "message":
        if c.get("internal"):
            return _("Internal note")
        if c.get("identity"):
            return _("The reporter told who they are")
        if c.get("author") == "reporter":
            return _("From the reporter")
        return _("To the reporter")
    if kind == "attachments_added":
        count = int(c.get("count") or 0)
        return ngettext("%(num)s file", "%(num)s files", count)
    if kind == "deadline_met":
        text = _code(codes.DEADLINE_KINDS, c.get("kind"))
        return text + (" – " + _("after the deadline") if c.get("late") else "")
    return ""


@dataclass
class Forms:
    """Which form on a page was sent and refused: its typed values and its errors.

    Forms are named by a prefix (element ids are "f-<prefix>-<field>"), so one page can
    hold several forms with fields of the same name.
    """

    active: str | None = None
    data: MultiDict[str, str] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def is_active(self, prefix: str) -> bool:
        return prefix == self.active

    def err(self, prefix: str) -> dict[str, list[str]]:
        return self.errors if prefix == self.active else {}

    def value(self, prefix: str, name: str, default: Any = "") -> Any:
        if prefix == self.active and self.data is not None:
            return self.data.get(name, "")
        return default

    def checked(self, prefix: str, name: str, default: bool = False) -> bool:
        """A checkbox as sent ("on"; a hidden "off" may come before it), else `default`."""
        if prefix == self.active and self.data is not None:
            return "on" in self.data.getlist(name)
        return bool(default)

    def values(self, prefix: str, name: str, default: Iterable[Any] = ()) -> list[str]:
        if prefix == self.active and self.data is not None:
            return self.data.getlist(name)
        return [str(v) for v in default]


def _errors_of(exc: ValidationError | CaseError) -> dict[str, list[str]]:
    if isinstance(exc, CaseError):
        return exc.messages()
    return flatten_errors(translate_errors(exc.messages))


@bp.context_processor
def handling_helpers() -> dict[str, Any]:
    return {
        "codes": codes,
        "rcodes": rcodes,
        "label": rcodes.label,
        "states": STATES,
        "state_label": state_label,
        "local_input": local_input,
        "format_date": format_date,
    }


# -- reading forms ----------------------------------------------------------------------


def _text(name: str) -> str | None:
    """A text field, stripped; None when empty (the schema then applies its default)."""
    value = request.form.get(name, "").strip()
    return value or None


def _int(value: str | None) -> int | str | None:
    """A whole number, None when empty, or the text itself so the schema names the error."""
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value


def _moment(name: str) -> str | None:
    """A datetime-local field (Oslo wall time) as an ISO time with its offset."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=OSLO)
    return parsed.isoformat()


def _yes_no(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


def _present(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out empty values, so required fields say "required" and defaults apply."""
    return {k: v for k, v in data.items() if v is not None}


# -- the queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: Case
    report: Report
    unit: str
    deadline: DeadlineLine | None
    overdue: int


@bp.get("/cases")
@allow(Role.HANDLER, Role.SAFETY_REP)
def queue() -> Page:
    """The caller's cases, nearest open deadline first, with filters and overdue counts."""
    raw = {
        name: value
        for name in service.QUEUE_FILTERS
        if (value := request.args.get(name, "").strip())
    }
    errors: dict[str, list[str]] = {}
    try:
        filters = schemas.QueueFilterSchema().load(raw)
    except ValidationError as exc:
        errors = _errors_of(exc)
        filters = schemas.QueueFilterSchema().load({})
    now = utcnow()
    result = service.queue_for(_user(), filters, now=now)
    units = {u.id: u.name for u in org.all_units()}
    rows = [
        QueueRow(
            case=item.case,
            report=item.case.report,
            unit=units.get(item.case.report.unit_id or 0, ""),
            deadline=deadline_line(item.next_deadline, now) if item.next_deadline else None,
            overdue=item.overdue_deadlines,
        )
        for item in result.items
    ]
    html = render_template(
        "handling/queue.html",
        queue=result,
        rows=rows,
        filters=raw,
        errors=errors,
        nodes=org.tree(),
        filtered=bool(raw),
    )
    return (html, 400) if errors else html


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


def _people() -> list[User]:
    return [u for u in accounts.list_users() if u.active]


def section52_applies(case: Case) -> bool:
    report = case.report
    return case.section_5_2 or report.severity == 4 or report.serious_injury


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
        context.update(
            next_states=allowed_next(case.state),
            finished=case.state in FINISHED_STATES,
            eligible=service.eligible_handlers(case),
            grant_candidates=service.grant_candidates(case),
            all_groups=service.handler_groups(),
            people=_people(),
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


@bp.get("/cases/<int:case_id>")
@allow(Role.HANDLER, Role.SAFETY_REP)
def case(case_id: int) -> Page:
    """One case: report, deadlines, follow-up, messages, timeline, access history."""
    return _render_case(_case_or_404(case_id, READ_LEVELS))


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@allow(Role.HANDLER)
def case_attachment(case_id: int, attachment_id: int) -> Response:
    """Download an attachment of the case's report: its handlers only, never inline.

    The download is audited as a reading of the report (who, which file), and shows in
    the case's access history.
    """
    case = _case_or_404(case_id)
    try:
        return reporting_views.stream_attachment(case.report, attachment_id, actor_label(_user()))
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


@bp.post("/cases/<int:case_id>/transition")
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


@bp.post("/cases/<int:case_id>/track")
@allow(Role.HANDLER)
def track(case_id: int) -> Page | Response:
    """Move the case to another track (it may be routed to another group)."""

    def run(case: Case) -> None:
        data = schemas.TrackSchema().load(
            _present({"track": _text("track"), "section_5_2": _yes_no("section_5_2")})
        )
        service.change_track(case, actor=_user(), **data)

    return _act(case_id, "track", run, _("The track is changed."))


@bp.post("/cases/<int:case_id>/assignment")
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


@bp.post("/cases/<int:case_id>/grants")
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


@bp.post("/cases/<int:case_id>/tasks")
@allow(Role.HANDLER)
def add_task(case_id: int) -> Page | Response:
    """Add a follow-up task for the exposed employee (from a template)."""

    def run(case: Case) -> None:
        data = schemas.TaskCreateSchema().load(
            _present({"template": _text("template"), **_task_fields()})
        )
        service.add_task(case, actor=_user(), **data)

    return _act(case_id, "task-new", run, _("The follow-up task is added."))


@bp.post("/cases/<int:case_id>/tasks/<int:task_id>")
@allow(Role.HANDLER)
def update_task(case_id: int, task_id: int) -> Page | Response:
    """Change a follow-up task: status, responsible person, due time, note, consent."""

    def run(case: Case) -> None:
        task = service.get_task(case, task_id)
        data = schemas.TaskUpdateSchema().load(_task_fields())
        service.update_task(case, task, actor=_user(), **data)

    return _act(case_id, f"task-{task_id}", run, _("The follow-up task is updated."))


@bp.post("/cases/<int:case_id>/debriefing")
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


@bp.post("/cases/<int:case_id>/section52")
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


@bp.post("/cases/<int:case_id>/messages")
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


# -- the reporter's side ----------------------------------------------------------------


@bp.route("/my-reports/<int:report_id>/case", methods=["GET", "POST"])
@allow()
def reporter_case(report_id: int) -> Page | Response:
    """The reporter's view of their case: state in plain words, feedback, messages."""
    user = _user()

    def own() -> Report:
        try:
            return reporting.own_report(user, report_id)
        except reporting.ReportNotFound:
            abort(404)

    report = own()
    actor = reporting.reporter_actor(report, user)
    forms = Forms()
    if request.method == "POST":
        try:
            data = schemas.ReporterMessageInSchema().load(_present({"body": _text("body")}))
            service.post_reporter_message(report, data["body"], actor=actor)
        except (ValidationError, CaseError) as exc:
            forms = Forms("reply", request.form, _errors_of(exc))
        except CaseNotFound:
            abort(404)
        else:
            flash(_("Your message is sent to the case handler."), "success")
            return redirect(url_for(".reporter_case", report_id=report_id), 303)
        db.session.rollback()
        report = own()
    try:
        view = service.reporter_view(report, actor=actor)
    except CaseNotFound:
        abort(404)
    report_page = (
        url_for("reporting.my_report", report_id=report.id)
        if "reporting.my_report" in current_app.view_functions
        else None
    )
    html = render_template(
        "handling/reporter_case.html",
        view=view,
        report=report,
        forms=forms,
        errors=forms.errors,
        report_page=report_page,
        finished=view.state in FINISHED_STATES,
    )
    if forms.errors:
        db.session.commit()  # keep the audited reading; the 400 rolls back the rest
        return html, 400
    return html


# -- admin ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningRow:
    reference: str
    warning: str
    group: str
    opened_at: datetime


def _warning_rows() -> list[WarningRow]:
    """Routing warnings for admins: the case's reference and the reason, no content."""
    groups = {g.id: g.name for g in service.handler_groups()}
    rows = []
    for w in service.routing_warnings():
        found = service.get_case(w.case_id)
        rows.append(
            WarningRow(
                reference=found.report.reference if found is not None else str(w.case_id),
                warning=rcodes.label(codes.ROUTING_WARNINGS, w.warning),
                group=groups.get(w.group_id or 0, ""),
                opened_at=w.opened_at,
            )
        )
    return rows


def _handlers() -> list[User]:
    return [u for u in accounts.list_users() if u.has_role(Role.HANDLER)]


@bp.get("/admin/handler-groups")
@allow(Role.ADMIN)
def admin_groups() -> str:
    """Handler groups with their members, and the routing warnings."""
    return render_template(
        "handling/admin_groups.html",
        groups=service.handler_groups(),
        names=Names(),
        warnings=_warning_rows(),
    )


@bp.route("/admin/handler-groups/new", methods=["GET", "POST"])
@bp.route("/admin/handler-groups/<int:group_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_group_form(group_id: int | None = None) -> Page | Response:
    """Create or change a handler group: name, members, default and fallback."""
    group: HandlerGroup | None = None
    if group_id is not None:
        try:
            group = service.get_group(group_id)
        except CaseNotFound:
            abort(404)
    forms = Forms()
    if request.method == "POST":
        try:
            data = schemas.HandlerGroupSchema().load(
                {
                    "name": request.form.get("name", "").strip(),
                    "member_ids": [_int(v) for v in request.form.getlist("member_ids")],
                    "is_default": request.form.get("is_default") == "on",
                    "is_fallback": request.form.get("is_fallback") == "on",
                    "escalation_ids": [_int(v) for v in request.form.getlist("escalation_ids")],
                }
            )
            saved = service.save_group(actor=actor_label(_user()), group=group, **data)
        except (ValidationError, CaseError) as exc:
            forms = Forms("group", request.form, _errors_of(exc))
            db.session.rollback()
            if group_id is not None:
                group = service.get_group(group_id)
        else:
            flash(_("The handler group %(name)s is saved.", name=saved.name), "success")
            return redirect(url_for(".admin_groups"), 303)
    html = render_template(
        "handling/admin_group_form.html",
        group=group,
        forms=forms,
        errors=forms.errors,
        handlers=_handlers(),
        contacts=[u for u in accounts.list_users() if u.has_role(Role.HANDLER, Role.ADMIN)],
    )
    return (html, 400) if forms.errors else html


def _render_rules(forms: Forms | None = None) -> Page:
    forms = forms or Forms()
    html = render_template(
        "handling/admin_rules.html",
        rules=service.routing_rules(),
        groups=service.handler_groups(),
        units={u.id: u.name for u in org.all_units()},
        nodes=org.tree(),
        warnings=_warning_rows(),
        forms=forms,
        errors=forms.errors,
    )
    return (html, 400) if forms.errors else html


@bp.get("/admin/routing-rules")
@allow(Role.ADMIN)
def admin_rules() -> Page:
    """Routing rules (unit subtree, incident type, track → group) and warnings."""
    return _render_rules()


@bp.post("/admin/routing-rules")
@allow(Role.ADMIN)
def admin_rule_create() -> Page | Response:
    """Add a routing rule; empty criteria match anything."""
    try:
        data = schemas.RoutingRuleSchema().load(
            _present(
                {
                    "group_id": _int(request.form.get("group_id")),
                    "unit_id": _int(request.form.get("unit_id")),
                    "incident_type": _text("incident_type"),
                    "track": _text("track"),
                }
            )
        )
        service.create_rule(actor=actor_label(_user()), **data)
    except (ValidationError, CaseError) as exc:
        db.session.rollback()
        return _render_rules(Forms("rule", request.form, _errors_of(exc)))
    flash(_("The routing rule is added."), "success")
    return redirect(url_for(".admin_rules"), 303)


@bp.post("/admin/routing-rules/<int:rule_id>/delete")
@allow(Role.ADMIN)
def admin_rule_delete(rule_id: int) -> Response:
    """Remove a routing rule (cases already routed stay where they are)."""
    rule = next((r for r in service.routing_rules() if r.id == rule_id), None)
    if rule is None:
        abort(404)
    service.delete_rule(rule, actor=actor_label(_user()))
    flash(_("The routing rule is removed."), "success")
    return redirect(url_for(".admin_rules"), 303)


POLICY_ROWS_MAX = 500


def _policy_rows() -> tuple[list[dict[str, Any]], list[str]]:
    """The policy table as sent: rows to keep, and each row's form prefix (for errors)."""
    form = request.form
    rows: list[dict[str, Any]] = []
    sources: list[str] = []
    for index in range(POLICY_ROWS_MAX):
        src = f"p{index}"
        if f"{src}-kind" not in form:
            break
        if form.get(f"{src}-remove") == "on":
            continue
        rows.append(
            {
                "kind": form.get(f"{src}-kind", ""),
                "track": form.get(f"{src}-track") or None,
                "incident_type": form.get(f"{src}-incident_type") or None,
                "min_severity": _int(form.get(f"{src}-min_severity")) or 1,
                "amount": _int(form.get(f"{src}-amount")) or 0,
                "unit": form.get(f"{src}-unit", ""),
                "active": form.get(f"{src}-active") == "on",
            }
        )
        sources.append(src)
    if form.get("new-kind"):
        rows.append(
            {
                "kind": form.get("new-kind", ""),
                "track": form.get("new-track") or None,
                "incident_type": form.get("new-incident_type") or None,
                "min_severity": _int(form.get("new-min_severity")) or 1,
                "amount": _int(form.get("new-amount")) or 0,
                "unit": form.get("new-unit", ""),
                "active": True,
            }
        )
        sources.append("new")
    return rows, sources


def _policy_errors(messages: Any, sources: list[str]) -> dict[str, list[str]]:
    """Nested schema errors ({"policies": {0: {"amount": [...]}}}) as "p3-amount" keys."""
    out: dict[str, list[str]] = {}
    nested = messages.get("policies") if isinstance(messages, dict) else None
    if isinstance(nested, dict):
        for index, fields_ in nested.items():
            src = sources[int(index)] if int(index) < len(sources) else "new"
            for name, msgs in (fields_ or {}).items():
                out.setdefault(f"{src}-{name}", []).extend(map(str, msgs))
    return out or flatten_errors(messages)


def _case_error_keys(errors: dict[str, list[str]], sources: list[str]) -> dict[str, list[str]]:
    """The service's "policies.3.amount" keys as the form's "p3-amount"."""
    out: dict[str, list[str]] = {}
    for key, msgs in errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "policies" and parts[1].isdigit():
            index = int(parts[1])
            src = sources[index] if index < len(sources) else "new"
            out.setdefault(f"{src}-{parts[2]}", []).extend(msgs)
        else:
            out.setdefault(key, []).extend(msgs)
    return out


@bp.route("/admin/deadline-policies", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_policies() -> Page | Response:
    """The deadline policies: change durations, switch rows off, add or remove rows."""
    forms = Forms()
    if request.method == "POST":
        rows, sources = _policy_rows()
        try:
            data = schemas.DeadlinePoliciesSchema().load({"policies": rows})
            service.replace_policies(data["policies"], actor=actor_label(_user()))
        except ValidationError as exc:
            errors = _policy_errors(translate_errors(exc.messages), sources)
            forms = Forms("policies", request.form, errors)
        except CaseError as exc:
            forms = Forms("policies", request.form, _case_error_keys(exc.messages(), sources))
        else:
            flash(_("The deadline policies are saved. New cases use them."), "success")
            return redirect(url_for(".admin_policies"), 303)
        db.session.rollback()
    html = render_template(
        "handling/admin_policies.html",
        policies=service.policies(),
        forms=forms,
        errors=forms.errors,
        severities=rcodes.SEVERITIES,
    )
    return (html, 400) if forms.errors else html
