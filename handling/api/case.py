"""The handler's API: the queue, a case and the steps taken on it."""

from __future__ import annotations

from flask import Response, jsonify, request
from marshmallow import ValidationError

from handling import schemas, service
from handling.api.base import NOT_FOUND, _user, bp
from handling.loaders import load_case, load_case_to_grant
from handling.presenters import (
    _assignment,
    _detail,
    _summary,
    queue_summary,
)
from handling.states import AccessLevel, Side
from reporting import service as reporting
from trygg import downloads, dumping
from trygg.accounts.models import Role, User
from trygg.api import ApiError, documented, load_json, schema_error
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.i18n import gettext as _
from trygg.security import allow

# -- the handler's side -----------------------------------------------------------------


@bp.get("/cases")
@allow(Role.HANDLER, Role.SAFETY_REP)
@documented(
    "The caller's queue, a page at a time. Filters: state, track, deadline, unit_id, "
    'incident_type, assigned (me, none). q: part of a reference ("00012"), or for a '
    "handler part of a name the case names (the exposed person, the reporter of a named "
    "report; read in the app from the caller's newest 5,000 matching cases, each case "
    "shown for its name audited as a read). sort: reference, type, unit, state, severity, "
    "occurred, deadline (the default: nearest first), assignee, unread or reporter, with "
    '"-" before it for descending. limit: 1 to 200 rows, 50 by default; after: the '
    "previous page's next_cursor, under the same sort.",
    response=schemas.QueueSchema,
    tags=("cases",),
    errors=(400,),
    query=schemas.QueueFilterSchema,
)
def queue() -> Response:
    """The caller's cases with the counts over their active cases; no case content."""
    try:
        filters = schemas.QueueFilterSchema().load(request.args.to_dict())
    except ValidationError as exc:
        raise schema_error(exc) from None
    now = utcnow()
    limit, after = filters.pop("limit"), filters.pop("after")
    sort, q = filters.pop("sort"), filters.pop("q")
    if "state" not in request.args:
        filters["state"] = service.default_state(_user())
    result = service.queue_for(_user(), filters, now=now, limit=limit, after=after, sort=sort, q=q)
    cases = [
        {
            **queue_summary(item, now),
            "assigned_user_name": item.assignee,
            "occurred_month": item.case.report.occurred_month,
            "unread_messages": item.unread,
        }
        for item in result.items
    ]
    return jsonify(
        dumping.dump(
            schemas.QueueSchema,
            {
                "cases": cases,
                "overdue_cases": result.overdue_cases,
                "overdue_deadlines": result.overdue_deadlines,
                "due_soon_cases": result.due_soon_cases,
                "active_cases": result.active_cases,
                "mine": result.mine,
                "unassigned": result.unassigned,
                "name_search": result.name_search,
                "next_cursor": result.next_cursor,
            },
        )
    )


@bp.get("/cases/<id:case_id>")
@allow(Role.HANDLER, Role.SAFETY_REP)
@documented(
    "One case, decrypted (every read is audited)",
    response=schemas.CaseDetailSchema,
    tags=("cases",),
    errors=NOT_FOUND,
)
def case_detail(case_id: int) -> Response:
    """The case page's data: report, deadlines, tasks, messages, timeline, access history."""
    case = load_case(case_id, (AccessLevel.HANDLER, AccessLevel.SAFETY_REP))
    content = service.open_case_content(case, _user(), part="case")
    return jsonify(dumping.dump(schemas.CaseDetailSchema, _detail(content, utcnow())))


@bp.get("/cases/<id:case_id>/attachments/<id:attachment_id>")
@allow(Role.HANDLER)
@documented(
    "Download an attachment of the case's report (application/octet-stream; audited)",
    tags=("cases",),
    errors=NOT_FOUND,
)
def case_attachment(case_id: int, attachment_id: int) -> Response:
    """The decrypted file, as a download (never inline), for the case's handlers."""
    case = load_case(case_id)
    actor = actor_label(_user())
    return downloads.sealed_download(
        lambda: reporting.attachment_download(case.report, attachment_id, actor=actor)
    )


@bp.post("/cases/<id:case_id>/transitions")
@allow(Role.HANDLER)
@documented(
    "Move the case to another state, with the fields its guard needs",
    body=schemas.TransitionSchema,
    response=schemas.CaseSummarySchema,
    tags=("cases",),
    errors=(404, 409),
)
def transition(case_id: int) -> Response:
    """One workflow step; 409 when the transition table forbids it."""
    case = load_case(case_id)
    data = load_json(schemas.TransitionSchema())
    to = data.pop("to")
    service.transition(case, to, actor=_user(), **data)
    return jsonify(schemas.CaseSummarySchema().dump(_summary(case, utcnow())))


@bp.put("/cases/<id:case_id>/track")
@allow(Role.HANDLER)
@documented(
    "Move the case to another track (re-routes it and recomputes its deadlines)",
    body=schemas.TrackSchema,
    response=schemas.CaseSummarySchema,
    tags=("cases",),
    errors=(404, 409),
)
def track(case_id: int) -> Response:
    """Change track without revealing the reporter; the case may move to another group."""
    case = load_case(case_id)
    data = load_json(schemas.TrackSchema())
    service.change_track(case, actor=_user(), **data)
    return jsonify(schemas.CaseSummarySchema().dump(_summary(case, utcnow())))


@bp.get("/cases/<id:case_id>/messages")
@allow(Role.HANDLER)
@documented(
    "The case's messages and internal notes (audited)",
    response=schemas.MessageOutSchema(many=True),
    tags=("cases",),
    errors=NOT_FOUND,
)
def case_messages(case_id: int) -> Response:
    """Messages with the reporter and handlers' internal notes, oldest first."""
    case = load_case(case_id)
    user = _user()
    messages = service.messages_for(case, Side.HANDLER, actor=actor_label(user), reader=user)
    return jsonify(schemas.MessageOutSchema(many=True).dump(messages))


@bp.post("/cases/<id:case_id>/messages")
@allow(Role.HANDLER)
@documented(
    'Write to the reporter, or an internal note ("internal": true)',
    body=schemas.MessageInSchema,
    response=schemas.MessageOutSchema,
    status=201,
    tags=("cases",),
    errors=NOT_FOUND,
    links={"GetMessages": ("api_handling.case_messages", {"case_id": "$request.path.case_id"})},
)
def post_case_message(case_id: int) -> tuple[Response, int]:
    """Store a sealed message; internal notes are never shown to the reporter."""
    case = load_case(case_id)
    data = load_json(schemas.MessageInSchema())
    user = _user()
    message = service.post_message(case, user, data["body"], data["internal"])
    service.record_read(case, actor_label(user), part="messages", level=AccessLevel.HANDLER)
    out = {
        "id": message.id,
        "author_kind": message.author_kind,
        "author_user_id": user.id,
        "author_name": user.name,
        "internal": message.internal,
        "body": data["body"].strip(),
        "created_at": message.created_at,
    }
    return jsonify(schemas.MessageOutSchema().dump(out)), 201


@bp.post("/cases/<id:case_id>/tasks")
@allow(Role.HANDLER)
@documented(
    "Add a follow-up task for the exposed employee",
    body=schemas.TaskCreateSchema,
    response=schemas.TaskOutSchema,
    status=201,
    tags=("cases",),
    errors=(404, 409),
    links={
        "UpdateTask": (
            "api_handling.update_task",
            {"case_id": "$request.path.case_id", "task_id": "$response.body#/id"},
        )
    },
)
def add_task(case_id: int) -> tuple[Response, int]:
    """A task from a template; its due time defaults to the matching deadline."""
    case = load_case(case_id)
    data = load_json(schemas.TaskCreateSchema())
    task = service.add_task(case, actor=_user(), **data)
    service.record_read(case, actor_label(_user()), part="task", level=AccessLevel.HANDLER)
    view = service.TaskView(task, data.get("note"))
    return jsonify(schemas.TaskOutSchema().dump(view)), 201


@bp.patch("/cases/<id:case_id>/tasks/<id:task_id>")
@allow(Role.HANDLER)
@documented(
    "Change a follow-up task (status, responsible person, due time, note, consent)",
    body=schemas.TaskUpdateSchema,
    response=schemas.TaskOutSchema,
    tags=("cases",),
    errors=(404, 409),
)
def update_task(case_id: int, task_id: int) -> Response:
    """Marking a task done meets its deadline (leader contact, individual talk, ...)."""
    case = load_case(case_id)
    task = service.get_task(case, task_id)
    data = load_json(schemas.TaskUpdateSchema())
    service.update_task(case, task, actor=_user(), **data)
    service.record_read(case, actor_label(_user()), part="task", level=AccessLevel.HANDLER)
    return jsonify(schemas.TaskOutSchema().dump(service.task_view(case, task)))


@bp.post("/cases/<id:case_id>/debriefing")
@allow(Role.HANDLER)
@documented(
    "Record a debriefing or learning review",
    body=schemas.DebriefingSchema,
    response=schemas.DebriefingOutSchema,
    status=201,
    tags=("cases",),
    errors=(404, 409),
)
def debriefing(case_id: int) -> tuple[Response, int]:
    """Participants by role, support offered, sealed outcome and further needs, consent."""
    case = load_case(case_id)
    data = load_json(schemas.DebriefingSchema())
    row = service.record_debriefing(case, actor=_user(), **data)
    service.record_read(case, actor_label(_user()), part="debriefing", level=AccessLevel.HANDLER)
    view = service.DebriefingView(row, data.get("outcome"), data.get("further_needs"))
    return jsonify(schemas.DebriefingOutSchema().dump(view)), 201


@bp.post("/cases/<id:case_id>/assignment")
@allow(Role.HANDLER)
@documented(
    "Assign the case to a handler or another group; pass it on to a colleague of its "
    'group chosen for you ("pass_on": true, while no one else has it: the least busy, in '
    "a confidential report one at random; the one way to pass a confidential case on for "
    "a handler who may not name a colleague); or recuse yourself (with a reason)",
    body=schemas.AssignmentSchema,
    response=schemas.AssignmentOutSchema,
    tags=("cases",),
    errors=(404, 409),
)
def assignment(case_id: int) -> Response:
    """Reassignment and recusal; the reason is kept as an internal note."""
    case = load_case(case_id)
    data = load_json(schemas.AssignmentSchema())
    user = _user()
    if data["recuse"]:
        service.recuse(case, user, data["reason"])
        return jsonify(schemas.AssignmentOutSchema().dump(_assignment(case, True)))
    if data["pass_on"]:
        service.pass_on(case, data["reason"], actor=user)
        return jsonify(schemas.AssignmentOutSchema().dump(_assignment(case, False)))
    handler = None
    if data["handler_id"] is not None:
        handler = db.session.get(User, data["handler_id"])
        if handler is None:
            raise ApiError(400, {"handler_id": [_("Pick a person from the list.")]})
    group = service.choose_group(data["group_id"]) if data["group_id"] is not None else None
    service.assign(case, handler, data["reason"], actor=user, group=group)
    return jsonify(schemas.AssignmentOutSchema().dump(_assignment(case, False)))


@bp.post("/cases/<id:case_id>/grants")
@allow(Role.HANDLER)
@documented(
    "Give a colleague in the case's group access to it, with a reason (handlers with "
    "access, or the group's lead)",
    body=schemas.GrantSchema,
    response=schemas.GrantOutSchema,
    status=201,
    tags=("cases",),
    errors=(400, 404),
)
def grant(case_id: int) -> tuple[Response, int]:
    """Access to an existing case is given by those who have it; audited, on its timeline."""
    case = load_case_to_grant(case_id)
    data = load_json(schemas.GrantSchema())
    row = service.grant_access(case, data["user_id"], data["reason"], actor=_user())
    return jsonify(schemas.GrantOutSchema().dump(row)), 201


@bp.route("/cases/<id:case_id>/section52", methods=["PUT", "POST"])
@allow(Role.HANDLER)
@documented(
    "Record the § 5-2 notifications, the copy to the safety representative and NAV's form",
    body=schemas.Section52Schema,
    response=schemas.Section52OutSchema,
    tags=("cases",),
    errors=(404, 409),
)
def section52(case_id: int) -> Response:
    """Only the fields sent change; both notifications recorded meet the § 5-2 deadline."""
    case = load_case(case_id)
    data = load_json(schemas.Section52Schema())
    service.update_section52(case, actor=_user(), **data)
    return jsonify(schemas.Section52OutSchema().dump(case.section52))
