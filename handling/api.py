"""The case handling JSON API: the handler's queue and cases, the reporter's side of the
conversation, and the admin's routing and deadline policies.

A case the caller may not see answers 404, never 403, so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from handling import schemas, service
from handling.models import Case, Deadline, DeadlinePolicy, FollowUpTask, RoutingRule
from handling.workflow import CaseError, CaseNotFound, allowed_next
from reporting import service as reporting
from reporting import views as reporting_views
from trygg.accounts.models import Role, User
from trygg.api import ApiError, documented, load_json
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.security import allow
from trygg.validation import translate_errors

bp = Blueprint("api_handling", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])
NOT_FOUND = (404,)


def _not_found() -> ApiError:
    return ApiError(404, {"_request": [_("Not found.")]})


@contextmanager
def domain_errors() -> Iterator[None]:
    """Domain errors as JSON: field messages with the error's status."""
    try:
        yield
    except CaseNotFound:
        raise _not_found() from None
    except CaseError as exc:
        raise ApiError(exc.status, exc.messages()) from None


def handles_domain_errors(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with domain_errors():
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _case(case_id: int, levels: tuple[str, ...] = ("handler",)) -> Case:
    """The case, if the caller may see it at one of `levels`; else 404.

    Calls that change the case lock its row for the rest of the request. A refused
    attempt by an excluded handler is audited; that entry is committed even though the
    answer is an error.
    """
    lock = request.method not in {"GET", "HEAD"}
    try:
        return service.case_for(_user(), case_id, levels=levels, lock=lock)
    except CaseNotFound:
        db.session.commit()
        raise _not_found() from None


# -- dumping ----------------------------------------------------------------------------


def _deadline(row: Deadline | None, now: datetime) -> dict[str, Any] | None:
    if row is None:
        return None
    if row.met_at is not None:
        status, left = "met", None
    elif row.cancelled_at is not None:
        status, left = "cancelled", None
    else:
        status = service.deadline_status(row.due_at, now)
        left = int((row.due_at - now).total_seconds())
    return {
        "id": row.id,
        "kind": row.kind,
        "due_at": row.due_at,
        "met_at": row.met_at,
        "cancelled_at": row.cancelled_at,
        "status": status,
        "seconds_left": left,
    }


def _summary(case: Case, now: datetime) -> dict[str, Any]:
    nearest = service.next_open_deadline(case)
    report = case.report
    return {
        "id": case.id,
        "report_id": case.report_id,
        "reference": report.reference,
        "anonymous": report.anonymous,
        "confidential": report.confidential,
        "track": case.track,
        "state": case.state,
        "group_id": case.group_id,
        "group_name": case.group.name if case.group is not None else None,
        "assigned_user_id": case.assigned_user_id,
        "section_5_2": case.section_5_2,
        "follow_up_duty": case.follow_up_duty,
        "routing_warning": case.routing_warning,
        "opened_at": case.opened_at,
        "incident_types": report.incident_types,
        "severity": report.severity,
        "unit_id": report.unit_id,
        "next_deadline": _deadline(nearest, now),
        "deadline_status": service.deadline_status(nearest.due_at if nearest else None, now),
        "overdue_deadlines": sum(1 for d in case.deadlines if d.is_open and d.due_at < now),
    }


def _task(view: service.TaskView) -> dict[str, Any]:
    task: FollowUpTask = view.task
    return {
        "id": task.id,
        "template": task.template,
        "responsible_user_id": task.responsible_user_id,
        "due_at": task.due_at,
        "status": task.status,
        "note": view.note,
        "consent_to_share": task.consent_to_share,
        "created_at": task.created_at,
        "completed_at": task.completed_at,
    }


def _debriefing(view: service.DebriefingView) -> dict[str, Any]:
    row = view.debriefing
    return {
        "id": row.id,
        "held_on": row.held_on,
        "participant_roles": row.participant_roles,
        "support_offered": row.support_offered,
        "outcome": view.outcome,
        "further_needs": view.further_needs,
        "consent_to_share_summary": row.consent_to_share_summary,
        "created_at": row.created_at,
    }


def _section52(case: Case) -> dict[str, Any] | None:
    row = case.section52
    if row is None:
        return None
    return {name: getattr(row, name) for name in service.SECTION52_FIELDS}


def _detail(content: service.CaseContent, now: datetime) -> dict[str, Any]:
    case = content.case
    data = _summary(case, now)
    handler = content.level == "handler"
    data.update(
        level=content.level,
        allowed_transitions=allowed_next(case.state) if handler else [],
        causes=case.causes,
        forwarded_to=case.forwarded_to,
        report=content.report,
        closing_note=content.closing_note,
        feedback=content.feedback,
        drop_reason=content.drop_reason,
        no_follow_up_reason=content.no_follow_up_reason,
        deadlines=[_deadline(d, now) for d in case.deadlines],
        tasks=[_task(t) for t in content.tasks],
        debriefings=[_debriefing(d) for d in content.debriefings],
        section52=_section52(case) if handler else None,
        messages=[m.__dict__ for m in content.messages],
        events=[
            {"id": e.id, "at": e.at, "kind": e.kind, "codes": e.codes, "actor": e.actor}
            for e in content.events
        ],
        access_history=[a.__dict__ for a in service.access_history(case)] if handler else [],
    )
    return data


def _assignment(case: Case, recused: bool) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "group_id": case.group_id,
        "assigned_user_id": case.assigned_user_id,
        "recused": recused,
    }


# -- the handler's side -----------------------------------------------------------------


@bp.get("/cases")
@allow(Role.HANDLER, Role.SAFETY_REP)
@documented(
    "The caller's queue, nearest deadline first (filters: state, track, deadline, unit_id, "
    "incident_type, assigned)",
    response=schemas.QueueSchema,
    tags=("cases",),
    errors=(400,),
)
def queue() -> Response:
    """The caller's cases with overdue counts; no case content."""
    try:
        filters = schemas.QueueFilterSchema().load(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(400, translate_errors(exc.messages)) from None
    now = utcnow()
    result = service.queue_for(_user(), filters, now=now)
    return jsonify(
        schemas.QueueSchema().dump(
            {
                "cases": [_summary(item.case, now) for item in result.items],
                "overdue_cases": result.overdue_cases,
                "overdue_deadlines": result.overdue_deadlines,
                "due_soon_cases": result.due_soon_cases,
                "active_cases": result.active_cases,
            }
        )
    )


@bp.get("/cases/<int:case_id>")
@allow(Role.HANDLER, Role.SAFETY_REP)
@documented(
    "One case, decrypted (every read is audited)",
    response=schemas.CaseDetailSchema,
    tags=("cases",),
    errors=NOT_FOUND,
)
@handles_domain_errors
def case_detail(case_id: int) -> Response:
    """The case page's data: report, deadlines, tasks, messages, timeline, access history."""
    case = _case(case_id, ("handler", "safety_rep"))
    content = service.open_case_content(case, _user(), part="case")
    return jsonify(schemas.CaseDetailSchema().dump(_detail(content, utcnow())))


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@allow(Role.HANDLER)
@documented(
    "Download an attachment of the case's report (application/octet-stream; audited)",
    tags=("cases",),
    errors=NOT_FOUND,
)
def case_attachment(case_id: int, attachment_id: int) -> Response:
    """The decrypted file, as a download (never inline), for the case's handlers."""
    case = _case(case_id)
    try:
        return reporting_views.stream_attachment(case.report, attachment_id, actor_label(_user()))
    except reporting.ReportNotFound:
        raise _not_found() from None


@bp.post("/cases/<int:case_id>/transitions")
@allow(Role.HANDLER)
@documented(
    "Move the case to another state, with the fields its guard needs",
    body=schemas.TransitionSchema,
    response=schemas.CaseSummarySchema,
    tags=("cases",),
    errors=(404, 409),
)
@handles_domain_errors
def transition(case_id: int) -> Response:
    """One workflow step; 409 when the transition table forbids it."""
    case = _case(case_id)
    data = load_json(schemas.TransitionSchema())
    to = data.pop("to")
    service.transition(case, to, actor=_user(), **data)
    return jsonify(schemas.CaseSummarySchema().dump(_summary(case, utcnow())))


@bp.put("/cases/<int:case_id>/track")
@allow(Role.HANDLER)
@documented(
    "Move the case to another track (re-routes it and recomputes its deadlines)",
    body=schemas.TrackSchema,
    response=schemas.CaseSummarySchema,
    tags=("cases",),
    errors=(404, 409),
)
@handles_domain_errors
def track(case_id: int) -> Response:
    """Change track without revealing the reporter; the case may move to another group."""
    case = _case(case_id)
    data = load_json(schemas.TrackSchema())
    service.change_track(case, actor=_user(), **data)
    return jsonify(schemas.CaseSummarySchema().dump(_summary(case, utcnow())))


@bp.get("/cases/<int:case_id>/messages")
@allow(Role.HANDLER)
@documented(
    "The case's messages and internal notes (audited)",
    response=schemas.MessageOutSchema(many=True),
    tags=("cases",),
    errors=NOT_FOUND,
)
@handles_domain_errors
def case_messages(case_id: int) -> Response:
    """Messages with the reporter and handlers' internal notes, oldest first."""
    case = _case(case_id)
    messages = service.messages_for(case, "handler", actor=actor_label(_user()))
    return jsonify(schemas.MessageOutSchema(many=True).dump([m.__dict__ for m in messages]))


@bp.post("/cases/<int:case_id>/messages")
@allow(Role.HANDLER)
@documented(
    'Write to the reporter, or an internal note ("internal": true)',
    body=schemas.MessageInSchema,
    response=schemas.MessageOutSchema,
    status=201,
    tags=("cases",),
    errors=NOT_FOUND,
)
@handles_domain_errors
def post_case_message(case_id: int) -> tuple[Response, int]:
    """Store a sealed message; internal notes are never shown to the reporter."""
    case = _case(case_id)
    data = load_json(schemas.MessageInSchema())
    user = _user()
    message = service.post_message(case, user, data["body"], data["internal"])
    service.record_read(case, actor_label(user), part="messages", level="handler")
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


@bp.post("/cases/<int:case_id>/tasks")
@allow(Role.HANDLER)
@documented(
    "Add a follow-up task for the exposed employee",
    body=schemas.TaskCreateSchema,
    response=schemas.TaskOutSchema,
    status=201,
    tags=("cases",),
    errors=(404, 409),
)
@handles_domain_errors
def add_task(case_id: int) -> tuple[Response, int]:
    """A task from a template; its due time defaults to the matching deadline."""
    case = _case(case_id)
    data = load_json(schemas.TaskCreateSchema())
    task = service.add_task(case, actor=_user(), **data)
    service.record_read(case, actor_label(_user()), part="task", level="handler")
    view = service.TaskView(task, data.get("note"))
    return jsonify(schemas.TaskOutSchema().dump(_task(view))), 201


@bp.patch("/cases/<int:case_id>/tasks/<int:task_id>")
@allow(Role.HANDLER)
@documented(
    "Change a follow-up task (status, responsible person, due time, note, consent)",
    body=schemas.TaskUpdateSchema,
    response=schemas.TaskOutSchema,
    tags=("cases",),
    errors=(404, 409),
)
@handles_domain_errors
def update_task(case_id: int, task_id: int) -> Response:
    """Marking a task done meets its deadline (leader contact, individual talk, ...)."""
    case = _case(case_id)
    task = service.get_task(case, task_id)
    data = load_json(schemas.TaskUpdateSchema())
    service.update_task(case, task, actor=_user(), **data)
    service.record_read(case, actor_label(_user()), part="task", level="handler")
    return jsonify(schemas.TaskOutSchema().dump(_task(service.task_view(case, task))))


@bp.post("/cases/<int:case_id>/debriefing")
@allow(Role.HANDLER)
@documented(
    "Record a debriefing or learning review",
    body=schemas.DebriefingSchema,
    response=schemas.DebriefingOutSchema,
    status=201,
    tags=("cases",),
    errors=(404, 409),
)
@handles_domain_errors
def debriefing(case_id: int) -> tuple[Response, int]:
    """Participants by role, support offered, sealed outcome and further needs, consent."""
    case = _case(case_id)
    data = load_json(schemas.DebriefingSchema())
    row = service.record_debriefing(case, actor=_user(), **data)
    service.record_read(case, actor_label(_user()), part="debriefing", level="handler")
    view = service.DebriefingView(row, data.get("outcome"), data.get("further_needs"))
    return jsonify(schemas.DebriefingOutSchema().dump(_debriefing(view))), 201


@bp.post("/cases/<int:case_id>/assignment")
@allow(Role.HANDLER)
@documented(
    "Assign the case to a handler or another group, or recuse yourself (with a reason)",
    body=schemas.AssignmentSchema,
    response=schemas.AssignmentOutSchema,
    tags=("cases",),
    errors=(404, 409),
)
@handles_domain_errors
def assignment(case_id: int) -> Response:
    """Reassignment and recusal; the reason is kept as an internal note."""
    case = _case(case_id)
    data = load_json(schemas.AssignmentSchema())
    user = _user()
    if data["recuse"]:
        service.recuse(case, user, data["reason"])
        return jsonify(schemas.AssignmentOutSchema().dump(_assignment(case, True)))
    handler = None
    if data["handler_id"] is not None:
        handler = db.session.get(User, data["handler_id"])
        if handler is None:
            raise ApiError(400, {"handler_id": [_("Pick a person from the list.")]})
    group = service.choose_group(data["group_id"]) if data["group_id"] is not None else None
    service.assign(case, handler, data["reason"], actor=user, group=group)
    return jsonify(schemas.AssignmentOutSchema().dump(_assignment(case, False)))


@bp.route("/cases/<int:case_id>/section52", methods=["PUT", "POST"])
@allow(Role.HANDLER)
@documented(
    "Record the § 5-2 notifications, the copy to the safety representative and NAV's form",
    body=schemas.Section52Schema,
    response=schemas.Section52OutSchema,
    tags=("cases",),
    errors=(404, 409),
)
@handles_domain_errors
def section52(case_id: int) -> Response:
    """Only the fields sent change; both notifications recorded meet the § 5-2 deadline."""
    case = _case(case_id)
    data = load_json(schemas.Section52Schema())
    service.update_section52(case, actor=_user(), **data)
    return jsonify(schemas.Section52OutSchema().dump(_section52(case)))


@bp.post("/cases/<int:case_id>/grants")
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
@handles_domain_errors
def grant(case_id: int) -> tuple[Response, int]:
    """Access to an existing case is given by those who have it; audited, on its timeline."""
    case = service.get_case(case_id)
    if case is None or not service.may_grant(_user(), case):
        raise _not_found()
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    data = load_json(schemas.GrantSchema())
    row = service.grant_access(case, data["user_id"], data["reason"], actor=_user())
    return jsonify(schemas.GrantOutSchema().dump(row)), 201


# -- the reporter's side ----------------------------------------------------------------


def _own_report(report_id: int) -> Any:
    try:
        return reporting.own_report(_user(), report_id)
    except reporting.ReportNotFound:
        raise _not_found() from None


def _reporter_view(report: Any) -> dict[str, Any]:
    view = service.reporter_view(report, actor=reporting.reporter_actor(report, _user()))
    return {
        "report_id": report.id,
        "reference": report.reference,
        "state": view.state,
        "state_text": view.state_text,
        "status": view.status,
        "feedback": view.feedback,
        "messages": [m.__dict__ for m in view.messages],
    }


@bp.get("/reports/<int:report_id>/messages")
@allow()
@documented(
    "Your report's case: its state in plain words, the feedback when closed, and messages",
    response=schemas.ReporterCaseSchema,
    tags=("reports",),
    errors=NOT_FOUND,
)
@handles_domain_errors
def reporter_messages(report_id: int) -> Response:
    """Owner only; internal notes never appear."""
    report = _own_report(report_id)
    return jsonify(schemas.ReporterCaseSchema().dump(_reporter_view(report)))


@bp.post("/reports/<int:report_id>/messages")
@allow()
@documented(
    "Answer the case handler about your report",
    body=schemas.ReporterMessageInSchema,
    response=schemas.ReporterMessageOutSchema,
    status=201,
    tags=("reports",),
    errors=NOT_FOUND,
)
@handles_domain_errors
def reporter_post_message(report_id: int) -> tuple[Response, int]:
    """The reporter writes to the handler (owner only)."""
    report = _own_report(report_id)
    data = load_json(schemas.ReporterMessageInSchema())
    actor = reporting.reporter_actor(report, _user())
    message = service.post_reporter_message(report, data["body"], actor=actor)
    case = service.reporter_case(report)
    service.record_read(case, actor, part="messages", level="reporter")
    out = {
        "id": service.public_message_id(case, message.id),
        "author_kind": "reporter",
        "body": data["body"].strip(),
        "created_at": message.created_at,
    }
    return jsonify(schemas.ReporterMessageOutSchema().dump(out)), 201


# -- admin ------------------------------------------------------------------------------


def _admin() -> str:
    return actor_label(_user())


def _group_out(group: Any) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "member_ids": group.member_ids,
        "is_default": group.is_default,
        "is_fallback": group.is_fallback,
    }


def _rule_out(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "group_id": rule.group_id,
        "unit_id": rule.unit_id,
        "incident_type": rule.incident_type,
        "track": rule.track,
    }


def _policy_out(policy: DeadlinePolicy) -> dict[str, Any]:
    return {
        name: getattr(policy, name)
        for name in ("id", "kind", "track", "incident_type", "min_severity", "amount", "unit")
    } | {"active": policy.active}


@bp.get("/admin/handler-groups")
@allow(Role.ADMIN)
@documented(
    "Handler groups and their members",
    response=schemas.HandlerGroupOutSchema(many=True),
    tags=("admin",),
)
def handler_groups() -> Response:
    """Every group with member ids and its default/fallback flags."""
    return jsonify([_group_out(g) for g in service.handler_groups()])


@bp.post("/admin/handler-groups")
@allow(Role.ADMIN)
@documented(
    "Create a handler group",
    body=schemas.HandlerGroupSchema,
    response=schemas.HandlerGroupOutSchema,
    status=201,
    tags=("admin",),
)
@handles_domain_errors
def create_handler_group() -> tuple[Response, int]:
    """Members must hold the handler role; one default and one fallback group at most."""
    data = load_json(schemas.HandlerGroupSchema())
    group = service.save_group(actor=_admin(), **data)
    return jsonify(schemas.HandlerGroupOutSchema().dump(_group_out(group))), 201


@bp.put("/admin/handler-groups/<int:group_id>")
@allow(Role.ADMIN)
@documented(
    "Change a handler group (name, members, flags)",
    body=schemas.HandlerGroupSchema,
    response=schemas.HandlerGroupOutSchema,
    tags=("admin",),
    errors=NOT_FOUND,
)
@handles_domain_errors
def update_handler_group(group_id: int) -> Response:
    """New members' conflicts of interest with the group's cases are recorded first."""
    group = service.get_group(group_id)
    data = load_json(schemas.HandlerGroupSchema())
    service.save_group(actor=_admin(), group=group, **data)
    return jsonify(schemas.HandlerGroupOutSchema().dump(_group_out(group)))


@bp.get("/admin/routing-rules")
@allow(Role.ADMIN)
@documented(
    "Routing rules (unit subtree, incident type, track → group)",
    response=schemas.RoutingRuleOutSchema(many=True),
    tags=("admin",),
)
def routing_rules() -> Response:
    """Every rule; the most specific matching one routes a case."""
    return jsonify([_rule_out(r) for r in service.routing_rules()])


@bp.post("/admin/routing-rules")
@allow(Role.ADMIN)
@documented(
    "Add a routing rule (empty criteria match anything)",
    body=schemas.RoutingRuleSchema,
    response=schemas.RoutingRuleOutSchema,
    status=201,
    tags=("admin",),
)
@handles_domain_errors
def create_routing_rule() -> tuple[Response, int]:
    """New cases are routed by it; existing cases stay where they are."""
    data = load_json(schemas.RoutingRuleSchema())
    rule = service.create_rule(actor=_admin(), **data)
    return jsonify(schemas.RoutingRuleOutSchema().dump(_rule_out(rule))), 201


@bp.delete("/admin/routing-rules/<int:rule_id>")
@allow(Role.ADMIN)
@documented("Remove a routing rule", tags=("admin",), errors=NOT_FOUND)
def delete_routing_rule(rule_id: int) -> Response:
    """Existing cases stay where they are."""
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise _not_found()
    service.delete_rule(rule, actor=_admin())
    return jsonify({})


@bp.get("/admin/routing-warnings")
@allow(Role.ADMIN)
@documented(
    "Active cases routed to the fallback group or to no one (no content)",
    response=schemas.RoutingWarningSchema(many=True),
    tags=("admin",),
)
def routing_warnings() -> Response:
    """Case ids with the warning code, so an admin can fix routing or groups."""
    return jsonify(
        schemas.RoutingWarningSchema(many=True).dump(
            [w.__dict__ for w in service.routing_warnings()]
        )
    )


@bp.get("/admin/deadline-policies")
@allow(Role.ADMIN)
@documented("The deadline policies", response=schemas.DeadlinePoliciesOutSchema, tags=("admin",))
def deadline_policies() -> Response:
    """Every policy row (kind, track, incident type, minimum severity → duration)."""
    return jsonify({"policies": [_policy_out(p) for p in service.policies()]})


@bp.put("/admin/deadline-policies")
@allow(Role.ADMIN)
@documented(
    "Replace the deadline policies",
    body=schemas.DeadlinePoliciesSchema,
    response=schemas.DeadlinePoliciesOutSchema,
    tags=("admin",),
)
@handles_domain_errors
def replace_deadline_policies() -> Response:
    """New cases, triage and track changes use the new policies."""
    data = load_json(schemas.DeadlinePoliciesSchema())
    rows = service.replace_policies(data["policies"], actor=_admin())
    return jsonify({"policies": [_policy_out(p) for p in rows]})
