"""Case handling's one source of validation (pages and JSON API), and its output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from handling import codes
from handling.workflow import STATES
from reporting.codes import CAUSES, INCIDENT_TYPES
from reporting.schemas import ReportDetailSchema
from trygg import paging
from trygg.ids import ID_MAX
from trygg.validation import StrictSchema

TEXT_MAX = 10_000


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
    length = validate.Length(min=min_length, max=TEXT_MAX)
    if required:
        return fields.String(required=True, validate=length)
    return fields.String(load_default=None, allow_none=True, validate=length)


def _optional_code(values: Any) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=_one_of(values))


# -- input ------------------------------------------------------------------------------


class QueueFilterSchema(StrictSchema):
    """Filters for the queue (query-string parameters)."""

    state = fields.String(load_default="active", validate=_one_of([*STATES, "active", "all"]))
    track = _optional_code(codes.TRACKS)
    deadline = _optional_code(codes.DEADLINE_STATUSES)
    unit_id = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=ID_MAX)
    )
    incident_type = _optional_code(INCIDENT_TYPES)
    assigned = _optional_code(["me", "none"])
    limit = paging.limit_field()
    # The last row's (next_due_at, opened_at, id) on the page before.
    after = paging.Cursor((datetime, datetime, int))


class TransitionSchema(StrictSchema):
    """A workflow step with the fields its guard needs (see handling/workflow.py)."""

    to = fields.String(required=True, validate=_one_of(STATES))
    track = _optional_code(codes.TRACKS)
    section_5_2 = fields.Boolean(load_default=None, allow_none=True)
    closing_note = _text()
    causes = fields.List(
        fields.String(validate=_one_of(CAUSES)),
        load_default=list,
        validate=validate.Length(max=len(CAUSES)),
    )
    feedback = _text()
    no_follow_up_reason = _text()
    reason = _text()
    forwarded_to = _optional_code(codes.FORWARD_TARGETS)


class TrackSchema(StrictSchema):
    track = fields.String(required=True, validate=_one_of(codes.TRACKS))
    section_5_2 = fields.Boolean(load_default=None, allow_none=True)


class MessageInSchema(StrictSchema):
    body = _text(required=True, min_length=1)
    internal = fields.Boolean(load_default=False)


class ReporterMessageInSchema(StrictSchema):
    body = _text(required=True, min_length=1)


class AnonymousMessageInSchema(StrictSchema):
    """The anonymous reporter writes; `identity`: the text says who they are (final)."""

    body = _text(required=True, min_length=1)
    identity = fields.Boolean(load_default=False)


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
    """Assign (handler_id; null: back to the group queue), move (group_id) or recuse."""

    handler_id = _id()
    group_id = _id()
    reason = _text()
    recuse = fields.Boolean(load_default=False)

    @validates_schema
    def _recusal_has_reason(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("recuse") and not (data.get("reason") or "").strip():
            raise ValidationError(_("Write why you step aside."), "reason")


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


class RoutingRuleSchema(StrictSchema):
    group_id = _id(required=True)
    unit_id = _id()
    incident_type = _optional_code(INCIDENT_TYPES)
    track = _optional_code(codes.TRACKS)


class HandlerGroupSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    member_ids = fields.List(_id(nullable=False, default=False), load_default=list)
    is_default = fields.Boolean(load_default=False)
    is_fallback = fields.Boolean(load_default=False)
    # None (left out): keep them. Told of § 5-2 and passed deadlines; none: the admins.
    escalation_ids = fields.List(_id(nullable=False, default=False), load_default=None)


class DeadlinePolicySchema(StrictSchema):
    kind = fields.String(required=True, validate=_one_of(codes.DEADLINE_KINDS))
    track = _optional_code(codes.TRACKS)
    incident_type = _optional_code(INCIDENT_TYPES)
    min_severity = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 4))
    amount = fields.Integer(load_default=0, strict=True, validate=validate.Range(0, 10_000))
    unit = fields.String(required=True, validate=_one_of(codes.DURATION_UNITS))
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _positive(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("unit") != "same_day" and data.get("amount", 0) < 1:
            raise ValidationError(_("Enter a duration of at least 1."), "amount")


class DeadlinePoliciesSchema(StrictSchema):
    """The whole policy table (PUT replaces it)."""

    policies = fields.List(fields.Nested(DeadlinePolicySchema), required=True)


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


class QueueSchema(Schema):
    cases = fields.List(fields.Nested(CaseSummarySchema))
    overdue_cases = fields.Integer()
    overdue_deadlines = fields.Integer()
    due_soon_cases = fields.Integer()
    active_cases = fields.Integer()
    # Give it as `after` for the next page; null on the last page.
    next_cursor = fields.String(allow_none=True)


class TaskOutSchema(Schema):
    id = fields.Integer()
    template = fields.String()
    responsible_user_id = fields.Integer(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    status = fields.String()
    note = fields.String(allow_none=True)
    consent_to_share = fields.Boolean()
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class DebriefingOutSchema(Schema):
    id = fields.Integer()
    held_on = fields.Date()
    participant_roles = fields.List(fields.String())
    support_offered = fields.List(fields.String())
    outcome = fields.String(allow_none=True)
    further_needs = fields.String(allow_none=True)
    consent_to_share_summary = fields.Boolean()
    created_at = fields.DateTime()


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


class ReporterMessageOutSchema(Schema):
    id = fields.Integer()
    author_kind = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


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


class AnonymousMessageOutSchema(Schema):
    """A message as the anonymous reporter sees it: who wrote it, and only the day."""

    author_kind = fields.String(metadata={"description": '"handler" or "reporter"'})
    body = fields.String()
    day = fields.Date(metadata={"description": "The day it was written (Oslo)."})
    identity = fields.Boolean(metadata={"description": "You said who you are in it."})


class AnonymousCaseSchema(Schema):
    """What the anonymous reporter sees of their report: its case in plain words."""

    reference = fields.String()
    status = fields.String()
    status_text = fields.String()
    state = fields.String()
    state_text = fields.String()
    feedback = fields.String(allow_none=True, metadata={"description": "When closed."})
    identity_revealed = fields.Boolean()
    messages = fields.List(fields.Nested(AnonymousMessageOutSchema))


class ReporterCaseSchema(Schema):
    """The reporter's view: the state in plain words, feedback when closed, messages."""

    report_id = fields.Integer()
    reference = fields.String()
    state = fields.String()
    state_text = fields.String()
    status = fields.String()
    feedback = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(ReporterMessageOutSchema))


class HandlerGroupOutSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    member_ids = fields.List(fields.Integer())
    escalation_ids = fields.List(fields.Integer())
    is_default = fields.Boolean()
    is_fallback = fields.Boolean()


class RoutingRuleOutSchema(Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    unit_id = fields.Integer(allow_none=True)
    incident_type = fields.String(allow_none=True)
    track = fields.String(allow_none=True)


class DeadlinePolicyOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    track = fields.String(allow_none=True)
    incident_type = fields.String(allow_none=True)
    min_severity = fields.Integer()
    amount = fields.Integer()
    unit = fields.String()
    active = fields.Boolean()


class DeadlinePoliciesOutSchema(Schema):
    policies = fields.List(fields.Nested(DeadlinePolicyOutSchema))


class RoutingWarningSchema(Schema):
    case_id = fields.Integer()
    warning = fields.String()
    group_id = fields.Integer(allow_none=True)
    opened_at = fields.DateTime()
