"""Case handling's admin shapes: handler groups, routing rules, deadline policies and
routing warnings (the admin pages and `handling/api/admin.py`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from handling import codes
from handling.schemas import _id, _one_of, _optional_code
from reporting.codes import INCIDENT_TYPES
from trygg.i18n import gettext as _
from trygg.validation import StrictSchema, filled

# -- input ------------------------------------------------------------------------------


class RoutingRuleSchema(StrictSchema):
    group_id = _id(required=True)
    unit_id = _id()
    incident_type = _optional_code(INCIDENT_TYPES)
    track = _optional_code(codes.TRACKS)


class HandlerGroupSchema(StrictSchema):
    name = fields.String(required=True, validate=filled(120))
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
