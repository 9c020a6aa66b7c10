"""Case handling's one source of validation (pages and JSON API), and its output shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from handling import codes
from handling.service import queue_order
from handling.workflow import STATES
from reporting.codes import CAUSES, INCIDENT_TYPES
from reporting.schemas import ReportDetailSchema
from trygg import paging
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.ids import ID_MAX
from trygg.validation import Count, StrictSchema, filled

TEXT_MAX = 10_000
QUERY_MAX = 100


def _id(*, required: bool = False, nullable: bool = True, default: bool = True) -> fields.Integer:
    """A row id: a strict integer from 1 to the largest id a row can have."""
    ids = validate.Range(min=1, max=ID_MAX)
    if required:
        return fields.Integer(required=True, strict=True, validate=ids)
    if default:
        return fields.Integer(load_default=None, allow_none=nullable, strict=True, validate=ids)
    return fields.Integer(allow_none=nullable, strict=True, validate=ids)


def _one_of(values: Any) -> validate.OneOf:
    return validate.OneOf(list(values))


def _text(*, required: bool = False, min_length: int = 0) -> fields.String:
    if required and min_length == 1:
        return fields.String(required=True, validate=filled(TEXT_MAX))
    length = validate.Length(min=min_length, max=TEXT_MAX)
    if required:
        return fields.String(required=True, validate=length)
    return fields.String(load_default=None, allow_none=True, validate=length)


def _optional_code(values: Any) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=_one_of(values))


# -- input ------------------------------------------------------------------------------


class QueueFilterSchema(StrictSchema):
    """Filters, search and order for the queue (query-string parameters)."""

    state = fields.String(load_default="active", validate=_one_of([*STATES, "active", "all"]))
    track = _optional_code(codes.TRACKS)
    deadline = _optional_code(codes.DEADLINE_STATUSES)
    unit_id = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=ID_MAX)
    )
    incident_type = _optional_code(INCIDENT_TYPES)
    assigned = _optional_code(["me", "none"])
    # A reference or part of one ("00012"); for handlers also a name the case names.
    q = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(
            max=QUERY_MAX, error=_l("Search with at most %(n)s characters.", n=QUERY_MAX)
        ),
    )
    # A column, "-" before it for descending (handling/service/queue_order.py).
    sort = fields.String(
        load_default=queue_order.DEFAULT_SORT,
        validate=validate.OneOf(queue_order.SORT_VALUES, error=queue_order.SORT_ERROR),
    )
    limit = paging.limit_field()
    # The previous page's next_cursor: the last row's sort key (under the same sort).
    after = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=400))

    @post_load
    def _cursor(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """`after` decoded as the key of `sort`; a cursor of another sort is refused."""
        if data.get("q") is not None:
            data["q"] = data["q"].strip() or None
        if data.get("after") is not None:
            try:
                sort = queue_order.Sort.parse(data["sort"])
                data["after"] = sort.cursor(data["after"])
            except ValidationError as exc:
                raise ValidationError({"after": exc.messages}) from None
        return data


class TransitionSchema(StrictSchema):
    """A workflow step with the fields its guard needs (see handling/workflow.py)."""

    to = fields.String(required=True, validate=_one_of(STATES))
    track = _optional_code(codes.TRACKS)
    section_5_2 = fields.Boolean(load_default=None, allow_none=True)
    closing_note = _text()
    causes = fields.List(
        fields.String(validate=_one_of(CAUSES)),
        load_default=list,
        validate=Count(max=len(CAUSES)),
    )
    feedback = _text()
    no_follow_up_reason = _text()
    reason = _text()
    forwarded_to = _optional_code(codes.FORWARD_TARGETS)
    # Acknowledging a case no one owns assigns it to you; false leaves it to the group.
    take_case = fields.Boolean(load_default=True)


class TrackSchema(StrictSchema):
    track = fields.String(required=True, validate=_one_of(codes.TRACKS))
    section_5_2 = fields.Boolean(load_default=None, allow_none=True)


class MessageInSchema(StrictSchema):
    body = _text(required=True, min_length=1)
    internal = fields.Boolean(load_default=False)


class TaskCreateSchema(StrictSchema):
    template = fields.String(required=True, validate=_one_of(codes.TASK_TEMPLATES))
    responsible_user_id = _id()
    due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    status = fields.String(load_default="open", validate=_one_of(codes.TASK_STATUSES))
    note = _text()
    consent_to_share = fields.Boolean(load_default=False)


class TaskUpdateSchema(StrictSchema):
    """Only the fields sent are changed."""

    responsible_user_id = _id(default=False)
    due_at = fields.AwareDateTime(allow_none=True)
    status = fields.String(validate=_one_of(codes.TASK_STATUSES))
    note = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    consent_to_share = fields.Boolean()

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError(_("Change at least one field."), "_request")


class DebriefingSchema(StrictSchema):
    held_on = fields.Date(required=True)
    participant_roles = fields.List(
        fields.String(validate=_one_of(codes.PARTICIPANT_ROLES)), load_default=list
    )
    support_offered = fields.List(
        fields.String(validate=_one_of(codes.SUPPORT_OFFERED)), load_default=list
    )
    outcome = _text()
    further_needs = _text()
    consent_to_share_summary = fields.Boolean(load_default=False)


class AssignmentSchema(StrictSchema):
    """Assign (handler_id; null: back to the group queue), move (group_id), pass on to a
    colleague chosen for the caller (pass_on), or recuse."""

    handler_id = _id()
    group_id = _id()
    reason = _text()
    recuse = fields.Boolean(load_default=False)
    pass_on = fields.Boolean(load_default=False)

    @validates_schema
    def _recusal_has_reason(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("recuse") and not (data.get("reason") or "").strip():
            raise ValidationError(_("Write why you step aside."), "reason")

    @validates_schema
    def _pass_on_alone(self, data: dict[str, Any], **_kwargs: Any) -> None:
        chosen = data.get("handler_id") is not None or data.get("group_id") is not None
        if data.get("pass_on") and (chosen or data.get("recuse")):
            raise ValidationError(
                _(
                    "Either pass the case on to a colleague chosen for you, or choose a "
                    "handler or a group or step aside: not both."
                ),
                "pass_on",
            )


class Section52Schema(StrictSchema):
    """Only the fields sent are changed."""

    required = fields.Boolean()
    labour_inspection_notified_at = fields.AwareDateTime(allow_none=True)
    labour_inspection_notified_by_id = _id(default=False)
    police_notified_at = fields.AwareDateTime(allow_none=True)
    police_notified_by_id = _id(default=False)
    safety_rep_copied_at = fields.AwareDateTime(allow_none=True)
    nav_form_sent = fields.Boolean(allow_none=True)
    nav_form_sent_on = fields.Date(allow_none=True)


# -- output -----------------------------------------------------------------------------


class DeadlineOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    due_at = fields.DateTime()
    met_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    # met, cancelled, overdue, due_soon, ok
    status = fields.String()
    # Positive: time left; negative: how late (for an open deadline, else null).
    seconds_left = fields.Integer(allow_none=True)


class CaseSummarySchema(Schema):
    id = fields.Integer()
    report_id = fields.Integer()
    reference = fields.String()
    # Sent through the anonymous link: the reporter has no account, is told nothing,
    # and reads messages only when they come back with their receipt code.
    anonymous = fields.Boolean()
    confidential = fields.Boolean()
    track = fields.String()
    state = fields.String()
    group_id = fields.Integer(allow_none=True)
    group_name = fields.String(allow_none=True)
    assigned_user_id = fields.Integer(allow_none=True)
    section_5_2 = fields.Boolean()
    follow_up_duty = fields.Boolean()
    routing_warning = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    incident_types = fields.List(fields.String())
    severity = fields.Integer()
    unit_id = fields.Integer(allow_none=True)
    next_deadline = fields.Nested(DeadlineOutSchema, allow_none=True)
    deadline_status = fields.String()
    overdue_deadlines = fields.Integer()


class QueueCaseSchema(CaseSummarySchema):
    """A queue row: the summary, the owner's name and the caller's unread messages."""

    assigned_user_name = fields.String(allow_none=True)
    occurred_month = fields.Date()
    unread_messages = fields.Integer()


class NameSearchSchema(Schema):
    # How many of the caller's cases had their names read, and whether the bound
    # (limit) left older ones out.
    searched = fields.Integer()
    capped = fields.Boolean()
    limit = fields.Integer()


class QueueSchema(Schema):
    cases = fields.List(fields.Nested(QueueCaseSchema))
    overdue_cases = fields.Integer()
    overdue_deadlines = fields.Integer()
    due_soon_cases = fields.Integer()
    active_cases = fields.Integer()
    mine = fields.Integer()
    unassigned = fields.Integer()
    name_search = fields.Nested(NameSearchSchema, allow_none=True)
    # Give it as `after` for the next page; null on the last page.
    next_cursor = fields.String(allow_none=True)


class TaskOutSchema(Schema):
    """Dumps a service.TaskView: the task, with its note opened."""

    id = fields.Integer(attribute="task.id")
    template = fields.String(attribute="task.template")
    responsible_user_id = fields.Integer(attribute="task.responsible_user_id", allow_none=True)
    due_at = fields.DateTime(attribute="task.due_at", allow_none=True)
    status = fields.String(attribute="task.status")
    note = fields.String(allow_none=True)
    consent_to_share = fields.Boolean(attribute="task.consent_to_share")
    responsible_excluded = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "The open task's responsible person was excluded from the case "
            "since: they no longer see it or get reminders; choose someone else. Null for "
            "a safety representative."
        },
    )
    created_at = fields.DateTime(attribute="task.created_at")
    completed_at = fields.DateTime(attribute="task.completed_at", allow_none=True)


class DebriefingOutSchema(Schema):
    """Dumps a service.DebriefingView: the debriefing, with its texts opened."""

    id = fields.Integer(attribute="debriefing.id")
    held_on = fields.Date(attribute="debriefing.held_on")
    participant_roles = fields.List(fields.String(), attribute="debriefing.participant_roles")
    support_offered = fields.List(fields.String(), attribute="debriefing.support_offered")
    outcome = fields.String(allow_none=True)
    further_needs = fields.String(allow_none=True)
    consent_to_share_summary = fields.Boolean(attribute="debriefing.consent_to_share_summary")
    created_at = fields.DateTime(attribute="debriefing.created_at")


class Section52OutSchema(Schema):
    required = fields.Boolean()
    labour_inspection_notified_at = fields.DateTime(allow_none=True)
    labour_inspection_notified_by_id = fields.Integer(allow_none=True)
    police_notified_at = fields.DateTime(allow_none=True)
    police_notified_by_id = fields.Integer(allow_none=True)
    safety_rep_copied_at = fields.DateTime(allow_none=True)
    nav_form_sent = fields.Boolean(allow_none=True)
    nav_form_sent_on = fields.Date(allow_none=True)


class MessageOutSchema(Schema):
    id = fields.Integer()
    author_kind = fields.String()
    author_user_id = fields.Integer(allow_none=True)
    author_name = fields.String(allow_none=True)
    internal = fields.Boolean()
    identity = fields.Boolean(
        metadata={"description": "The reporter says who they are in this message."}
    )
    body = fields.String()
    created_at = fields.DateTime(
        metadata={"description": "An anonymous reporter's messages: midnight (Oslo) only."}
    )


class EventOutSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    codes = fields.Dict(keys=fields.String())
    actor = fields.String()


class AccessRecordSchema(Schema):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    part = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)


class CaseDetailSchema(CaseSummarySchema):
    """A case, decrypted. A safety representative gets only what was shared."""

    level = fields.String()
    allowed_transitions = fields.List(fields.String())
    causes = fields.List(fields.String())
    forwarded_to = fields.String(allow_none=True)
    report = fields.Nested(ReportDetailSchema, allow_none=True)
    closing_note = fields.String(allow_none=True)
    feedback = fields.String(allow_none=True)
    drop_reason = fields.String(allow_none=True)
    no_follow_up_reason = fields.String(allow_none=True)
    deadlines = fields.List(fields.Nested(DeadlineOutSchema))
    tasks = fields.List(fields.Nested(TaskOutSchema))
    debriefings = fields.List(fields.Nested(DebriefingOutSchema))
    section52 = fields.Nested(Section52OutSchema, allow_none=True)
    messages = fields.List(fields.Nested(MessageOutSchema))
    events = fields.List(fields.Nested(EventOutSchema))
    access_history = fields.List(fields.Nested(AccessRecordSchema))


class GrantSchema(StrictSchema):
    """Give `user_id` (a member of the case's group) access to the case, with a reason."""

    user_id = _id(required=True)
    reason = _text(required=True)


class GrantOutSchema(Schema):
    case_id = fields.Integer()
    user_id = fields.Integer()
    kind = fields.String()
    granted_by = fields.String()
    created_at = fields.AwareDateTime()


class AssignmentOutSchema(Schema):
    case_id = fields.Integer()
    group_id = fields.Integer(allow_none=True)
    assigned_user_id = fields.Integer(allow_none=True)
    recused = fields.Boolean()
