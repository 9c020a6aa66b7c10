"""The report's one source of validation, used by the form and the JSON API alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from reporting import codes
from trygg.i18n import gettext as _
from trygg.ids import ID_MAX
from trygg.validation import Count, StrictSchema, filled, storable

TEXT_MAX = 2000
NAME_MAX = 200
PEOPLE_MAX = 20
# Database ids are 32-bit: a larger number is refused here, not by the database driver.
ID_RANGE = validate.Range(min=1, max=ID_MAX, error="Invalid value.")


class Text(fields.String):
    """A string that can be stored (`trygg.validation.storable`: no NUL, no lone
    surrogate). JSON bodies are refused before their schema for the same reason
    (`trygg.api.load_json`); this keeps the report's schema whole wherever it is loaded."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise self.make_error("invalid_utf8")
        return text

    default_error_messages = {"invalid_utf8": "Not a valid string."}


def _id(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=ID_RANGE, **kwargs)


def _one_of(codeset: codes.Codes | dict[int, Any]) -> validate.OneOf:
    return validate.OneOf(list(codeset))


class PersonRefSchema(StrictSchema):
    """Someone involved: picked from the user directory (user_id) or written as text."""

    user_id = _id(load_default=None, allow_none=True)
    name = Text(load_default=None, allow_none=True, validate=validate.Length(max=NAME_MAX))

    @validates_schema
    def _either(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("user_id") is None and not (data.get("name") or "").strip():
            raise ValidationError(_("Pick a person or write a name or description."), "name")


class ReportSchema(StrictSchema):
    """An incident report from a logged-in employee (form or JSON)."""

    incident_types = fields.List(
        fields.String(validate=_one_of(codes.INCIDENT_TYPES)),
        required=True,
        validate=Count(min=1, max=len(codes.INCIDENT_TYPES)),
    )
    occurred_at = fields.AwareDateTime(required=True)
    unit_id = _id(required=True)
    place_type = fields.String(required=True, validate=_one_of(codes.PLACE_TYPES))
    channel = fields.String(load_default=None, allow_none=True, validate=_one_of(codes.CHANNELS))
    counterpart_category = fields.String(required=True, validate=_one_of(codes.COUNTERPARTS))
    counterpart_identity = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX)
    )
    counterpart_user_id = _id(load_default=None, allow_none=True)
    lone_work = fields.Boolean(load_default=None, allow_none=True)
    activity = fields.String(load_default=None, allow_none=True, validate=_one_of(codes.ACTIVITIES))
    severity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=4))
    injury_level = fields.String(load_default="none", validate=_one_of(codes.INJURY_LEVELS))
    serious_injury = fields.Boolean(load_default=False)
    injury_description = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX)
    )
    sick_leave = fields.String(load_default="none", validate=_one_of(codes.SICK_LEAVE))
    sick_leave_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=365)
    )
    police_report = fields.String(load_default="no", validate=_one_of(codes.POLICE_REPORT))
    police_details = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX)
    )
    immediate_measures = fields.List(
        fields.String(validate=_one_of(codes.IMMEDIATE_MEASURES)),
        load_default=list,
        validate=Count(max=len(codes.IMMEDIATE_MEASURES)),
    )
    immediate_measures_text = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX)
    )
    narrative = Text(required=True)
    causes = fields.List(
        fields.String(validate=_one_of(codes.CAUSES)),
        load_default=list,
        validate=Count(max=len(codes.CAUSES)),
    )
    causes_text = Text(load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX))
    exposed = fields.List(
        fields.Nested(PersonRefSchema), load_default=list, validate=Count(max=PEOPLE_MAX)
    )
    witnesses = fields.List(
        fields.Nested(PersonRefSchema), load_default=list, validate=Count(max=PEOPLE_MAX)
    )
    confidential = fields.Boolean(load_default=False)
    on_behalf_of_user_id = _id(load_default=None, allow_none=True)
    must_not_handle = fields.List(_id(), load_default=list, validate=Count(max=PEOPLE_MAX))

    @validates("narrative")
    def _narrative(self, value: str, **_kwargs: Any) -> None:
        limit = int(current_app.config["TRYGG"]["narrative_max_chars"])
        if not value.strip():
            raise ValidationError(_("Describe what happened."))
        if len(value) > limit:
            raise ValidationError(
                _(
                    "The description is %(n)s characters; the limit is %(limit)s. Shorten it.",
                    n=len(value),
                    limit=limit,
                )
            )

    @validates("occurred_at")
    def _not_in_future(self, value: datetime, **_kwargs: Any) -> None:
        now = datetime.now(UTC)
        # A few minutes of slack for clocks that run slightly fast.
        if value > now + timedelta(minutes=5):
            raise ValidationError(_("The time cannot be in the future."))
        if value < now - timedelta(days=366 * 10):
            raise ValidationError(_("The time is more than ten years ago. Check the year."))

    @validates_schema(skip_on_field_errors=False)  # named with any other errors, not after
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("sick_leave") == "none" and data.get("sick_leave_days"):
            raise ValidationError(
                _("Choose the kind of sick leave, or remove the number of days."),
                "sick_leave_days",
            )


class AttachmentOutSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class PersonOutSchema(Schema):
    user_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)


class ReportCreatedSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.String()


class ReportSummarySchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    created_at = fields.DateTime()
    incident_types = fields.List(fields.String())
    status = fields.String()
    confidential = fields.Boolean()


class ReportDetailSchema(ReportSummarySchema):
    """A report, decrypted, as its reporter (or a permitted reader) sees it."""

    occurred_at = fields.DateTime(
        metadata={"description": "An anonymous report's: its day only, as midnight (Oslo)."}
    )
    occurred_month = fields.Date()
    time_band = fields.String(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    place_type = fields.String()
    channel = fields.String(allow_none=True)
    counterpart_category = fields.String()
    counterpart_identity = fields.String(allow_none=True)
    counterpart_user_id = fields.Integer(allow_none=True)
    lone_work = fields.Boolean(allow_none=True)
    activity = fields.String(allow_none=True)
    severity = fields.Integer()
    injury_level = fields.String()
    serious_injury = fields.Boolean()
    injury_description = fields.String(allow_none=True)
    sick_leave = fields.String()
    sick_leave_days = fields.Integer(allow_none=True)
    police_report = fields.String()
    police_details = fields.String(allow_none=True)
    immediate_measures = fields.List(fields.String())
    immediate_measures_text = fields.String(allow_none=True)
    narrative = fields.String()
    causes = fields.List(fields.String())
    causes_text = fields.String(allow_none=True)
    exposed = fields.List(fields.Nested(PersonOutSchema))
    witnesses = fields.List(fields.Nested(PersonOutSchema))
    on_behalf = fields.Boolean()
    attachments = fields.List(fields.Nested(AttachmentOutSchema))


# -- the anonymous link -----------------------------------------------------------------


class AnonymousPersonSchema(StrictSchema):
    """Someone involved, described in words only: the anonymous link has no directory."""

    name = fields.String(required=True, validate=filled(NAME_MAX))


class AnonymousReportSchema(ReportSchema):
    """A report through the anonymous link: the questionnaire without identity fields.

    No confidentiality flag (anonymous reports always are), no one reported on behalf
    of, no user ids of anyone, no list of handlers to exclude; the unit is optional and
    may be any level of the tree.
    """

    class Meta(ReportSchema.Meta):
        exclude = (
            "confidential",
            "on_behalf_of_user_id",
            "counterpart_user_id",
            "must_not_handle",
        )

    unit_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID_RANGE)
    exposed = fields.List(
        fields.Nested(AnonymousPersonSchema),
        load_default=list,
        validate=Count(max=PEOPLE_MAX),
    )
    witnesses = fields.List(
        fields.Nested(AnonymousPersonSchema),
        load_default=list,
        validate=Count(max=PEOPLE_MAX),
    )


class ReceiptSchema(StrictSchema):
    """A receipt code as typed: case, spaces and dashes do not matter."""

    receipt = fields.String(required=True, validate=validate.Length(max=100))


class ReceiptIssuedSchema(Schema):
    receipt = fields.String(metadata={"description": "Shown once; not stored anywhere."})
    reference = fields.String()
