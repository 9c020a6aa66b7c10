"""Retention's one source of validation, and its output shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from retention.codes import HOLD_REASONS
from retention.exports.access import REQUEST_REASONS
from retention.exports.document import REASONS, RECIPIENTS, SECTIONS
from retention.service.policies import MAX_MONTHS
from trygg.language import LANGUAGES
from trygg.validation import Count, StrictSchema, filled


class PolicySchema(Schema):
    id = fields.Integer()
    scope = fields.String()
    track = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    months = fields.Integer()
    rule = fields.String()


class PolicyInSchema(StrictSchema):
    months = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_MONTHS)
    )


class HoldInSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.OneOf(sorted(HOLD_REASONS)))


class HoldByReferenceInSchema(HoldInSchema):
    reference = fields.String(required=True, validate=filled(32))


class HoldSchema(Schema):
    reason = fields.String()
    placed_by = fields.String()
    placed_at = fields.DateTime()


class CaseRetentionSchema(Schema):
    """When a finished case is to be deleted (None while it is open), and any hold."""

    delete_on = fields.DateTime(allow_none=True)
    rule = fields.String(allow_none=True)
    hold = fields.Nested(HoldSchema, allow_none=True)


class StatusSchema(Schema):
    due_now = fields.Integer()
    due_within_30_days = fields.Integer()
    held = fields.Integer()
    deleted = fields.Integer()


class ExportInSchema(StrictSchema):
    """What a handler chooses for an export: for whom, why, which sections, which form."""

    recipient = fields.String(required=True, validate=validate.OneOf(sorted(RECIPIENTS)))
    reason = fields.String(required=True, validate=validate.OneOf(sorted(REASONS)))
    sections = fields.List(
        fields.String(validate=validate.OneOf(list(SECTIONS))),
        required=True,
        validate=Count(min=1, max=len(SECTIONS)),
    )
    format = fields.String(load_default="pdf", validate=validate.OneOf(["pdf", "json"]))


class ConsentRequestInSchema(StrictSchema):
    """A handler asks a protected reporter whether they agree to be named to these kinds
    of recipient of an export."""

    recipients = fields.List(
        fields.String(validate=validate.OneOf(sorted(RECIPIENTS))),
        required=True,
        validate=Count(min=1, max=len(RECIPIENTS)),
        metadata={"description": "Codes: " + ", ".join(sorted(RECIPIENTS))},
    )


class ConsentRequestOutSchema(Schema):
    """The kinds of recipient asked about now, and all that wait for the reporter."""

    asked = fields.List(fields.String())
    waiting = fields.List(fields.String())


class FormatQuerySchema(StrictSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "pdf"]))
    lang = fields.String(
        load_default=None,
        validate=validate.OneOf(sorted(LANGUAGES)),
        metadata={
            "description": "The PDF's language where you have not chosen one on your "
            "account (the account page's link gives the page's); without it, the one "
            "Accept-Language asks for."
        },
    )


class AccessRequestInSchema(StrictSchema):
    """An admin answers a person's access request: who (e-mail), why, which form."""

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    reason = fields.String(required=True, validate=validate.OneOf(sorted(REQUEST_REASONS)))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "pdf"]))


class EraseUserInSchema(StrictSchema):
    """Erase an account's personal data: the address, and a confirmation."""

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    confirm = fields.Boolean(required=True, validate=validate.Equal(True))
