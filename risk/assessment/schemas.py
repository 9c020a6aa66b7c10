"""Input and output of the assessment pages and API (one schema per input, both use it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_date
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from reporting import codes as rcodes
from risk.assessment.codes import (
    COMMENT_ROLES,
    FACTORS,
    LOWERS,
    MEASURE_STATES,
    PARTICIPANT_ROLES,
    RESULTS,
    TRIGGER_KINDS,
    VERSION_STATES,
    trigger_reason,
)
from risk.assessment.matrix import SIZES
from trygg.i18n import lazy_gettext as _l
from trygg.validation import StrictSchema, filled, needs_text

SHORT = filled(200)
NAME_MAX = 200  # a participant's name
TEXT = validate.Length(max=5000)

# Fields that a form sends as several values of one name.
LIST_FIELDS = (
    "factors",
    "scope_types",
    "scope_counterparts",
    "scope_places",
    "scope_activities",
    "scope_time_bands",
)


def _codes(codes: dict[str, Any]) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(list(codes))), load_default=list)


class _Blank(StrictSchema):
    """Form posts send "" for an empty optional field: treat it as not given. A text
    field that cannot be empty keeps its "": emptied in a change form, it says "This
    field is required." instead of leaving the old value and reporting success."""

    @pre_load
    def _drop_blank(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        return {
            k: v
            for k, v in data.items()
            if k != "csrf_token" and (v != "" or needs_text(self.load_fields.get(k)))
        }


# An assessment's dates fall between EARLIEST and YEARS_AHEAD years from today: year 1
# or 9999 is a slip of the keyboard, and a review due in 2099 would never fall due.
EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 10
VERSION_DATES = ("period_start", "period_end", "next_review")


def years_ahead(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def before_earliest() -> object:
    return _l("Enter a date on or after %(day)s.", day=format_date(EARLIEST))


def date_errors(values: dict[str, Any]) -> dict[str, Any]:
    """Field → message for every date of a version that is out of reach or out of
    order, all at once: a form says each of them in one round. A date out of reach is
    not also compared with the others (one message a field)."""
    # Imported here: triggers imports the incident trends, which import this module's
    # users (risk.patterns), so a module-level import would make a cycle.
    from risk.assessment.triggers import now_local

    last = years_ahead(now_local(), YEARS_AHEAD)
    errors: dict[str, Any] = {}
    for name in VERSION_DATES:
        day = values.get(name)
        if day is not None and day < EARLIEST:
            errors[name] = before_earliest()
        elif day is not None and day > last:
            errors[name] = _l(
                "Enter a date at most %(n)s years ahead (by %(day)s).",
                n=YEARS_AHEAD,
                day=format_date(last),
            )
    in_reach = {k: v for k, v in values.items() if k not in errors}
    return errors | date_order_errors(in_reach)


def _raise_date_errors(values: dict[str, Any]) -> None:
    errors = date_errors(values)
    if errors:
        raise ValidationError({field: [str(m)] for field, m in errors.items()})


def date_order_errors(values: dict[str, Any]) -> dict[str, Any]:
    """Field → message where the dates are out of order: the period runs forwards, and
    its next review is not before the period starts (a review due before the
    assessment applies would be overdue from the start)."""
    start, end = values.get("period_start"), values.get("period_end")
    review = values.get("next_review")
    errors: dict[str, Any] = {}
    if start and end and end < start:
        errors["period_end"] = _l("The end of the period comes before its start.")
    if start and review and review < start:
        errors["next_review"] = _l("The next review cannot come before the period starts.")
    return errors


class AssessmentInSchema(_Blank):
    unit_id = fields.Integer(required=True)
    title = fields.String(required=True, validate=SHORT)
    work_kind = fields.String(validate=validate.Length(max=120))
    matrix_size = fields.Integer(load_default=5, validate=validate.OneOf(SIZES))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    next_review = fields.Date(required=True)
    notes = fields.String(load_default="", validate=TEXT)

    @validates_schema(skip_on_field_errors=False)
    def _dates(self, data: dict[str, Any], **_kw: Any) -> None:
        """Said together with the form's other mistakes, not after they are mended."""
        _raise_date_errors(data)


class ParticipantSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(list(PARTICIPANT_ROLES)))
    name = fields.String(required=True, validate=filled(NAME_MAX))


class VersionInSchema(_Blank):
    """A change of the draft: only the fields given. A version cannot be without its
    dates, so they are required: one the form sends empty is refused at its field
    (views.common.parse), not read as "unchanged" and reported saved."""

    title = fields.String(validate=SHORT)
    work_kind = fields.String(validate=validate.Length(max=120))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    next_review = fields.Date(required=True)
    notes = fields.String(validate=TEXT)
    participants = fields.List(fields.Nested(ParticipantSchema))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)

    @validates_schema(skip_on_field_errors=False)
    def _dates(self, data: dict[str, Any], **_kw: Any) -> None:
        """The dates given; the service compares them with those kept as well."""
        _raise_date_errors(data)


class StatusInSchema(_Blank):
    status = fields.String(required=True, validate=validate.OneOf(list(VERSION_STATES)))


class ItemInSchema(_Blank):
    hazard = fields.String(required=True, validate=filled(300))
    description = fields.String(load_default="", validate=TEXT)
    factors = _codes(FACTORS)
    existing_measures = fields.String(load_default="", validate=TEXT)
    likelihood = fields.Integer(required=True)
    consequence = fields.Integer(required=True)
    likelihood_after = fields.Integer(load_default=None, allow_none=True)
    consequence_after = fields.Integer(load_default=None, allow_none=True)
    scope_unit_id = fields.Integer(load_default=None, allow_none=True)
    scope_types = _codes(rcodes.INCIDENT_TYPES)
    scope_counterparts = _codes(rcodes.COUNTERPARTS)
    scope_places = _codes(rcodes.PLACE_TYPES)
    scope_activities = _codes(rcodes.ACTIVITIES)
    scope_time_bands = _codes(rcodes.TIME_BANDS)
    scope_lone_work = fields.Boolean(load_default=None, allow_none=True)


class MeasureInSchema(_Blank):
    item_ref = fields.Integer(required=True)
    goal = fields.String(required=True, validate=filled(300))
    what = fields.String(required=True, validate=filled(5000))
    collective = fields.Boolean(load_default=True)
    lowers = fields.String(load_default="likelihood", validate=validate.OneOf(list(LOWERS)))
    affected = fields.String(load_default="", validate=validate.Length(max=300))
    responsible_id = fields.Integer(required=True)
    deadline = fields.Date(required=True)
    status = fields.String(load_default="planned", validate=validate.OneOf(list(MEASURE_STATES)))
    done_on = fields.Date(load_default=None, allow_none=True)
    is_training = fields.Boolean(load_default=False)
    repeat_months = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=60)
    )
    replaces_id = fields.Integer(load_default=None, allow_none=True)


class MeasureUpdateSchema(MeasureInSchema):
    """A partial change: only the fields given."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class EvaluationInSchema(_Blank):
    result = fields.String(required=True, validate=validate.OneOf(list(RESULTS)))
    evaluated_on = fields.Date(load_default=None, allow_none=True)
    next_step = fields.String(load_default="", validate=TEXT)


class CommentInSchema(_Blank):
    body = fields.String(required=True, validate=filled(5000))
    kind = fields.String(load_default="comment", validate=validate.OneOf(("comment", "statement")))


class SummaryInSchema(_Blank):
    summary_risks = fields.String(required=True, validate=filled(5000))
    summary_routines = fields.String(required=True, validate=filled(5000))
    summary_contact = fields.String(required=True, validate=filled(2000))
    summary_show_levels = fields.Boolean(load_default=False)


class LevelInSchema(StrictSchema):
    """One level of the admin's matrix form (its fields sent as "l2-name_nb", …); a
    level without a name in either language is left out. The service checks the rest
    (names in both languages, rising thresholds, readable colours)."""

    name_nb = fields.String(load_default="", validate=validate.Length(max=60))
    name_en = fields.String(load_default="", validate=validate.Length(max=60))
    demand_nb = fields.String(load_default="", validate=validate.Length(max=200))
    demand_en = fields.String(load_default="", validate=validate.Length(max=200))
    colour = fields.String(load_default="#ffffff", validate=validate.Length(max=7))
    min_score = fields.Integer(load_default=0, strict=True)


# -- answers ----------------------------------------------------------------------------


class LevelSchema(Schema):
    rank = fields.Integer()
    name = fields.String()
    demand = fields.String()
    colour = fields.String()
    pattern = fields.String()


class CellSchema(Schema):
    count = fields.Integer(allow_none=True, metadata={"description": "Null when hidden."})
    mark = fields.String(metadata={"description": "shown, primary (1 to k-1) or secondary."})


class TrendRowSchema(Schema):
    period = fields.String()
    cell = fields.Nested(CellSchema)


class ItemSchema(Schema):
    """An item as the assessment shows it (dumped from display.ItemView)."""

    id = fields.Integer(attribute="item.id")
    ref = fields.Integer(attribute="item.ref")
    hazard = fields.String(attribute="item.hazard")
    description = fields.String(attribute="item.description")
    factors = fields.List(fields.String(), attribute="item.factors")
    existing_measures = fields.String(attribute="item.existing_measures")
    likelihood = fields.Integer(attribute="item.likelihood")
    consequence = fields.Integer(attribute="item.consequence")
    likelihood_after = fields.Integer(attribute="item.likelihood_after", allow_none=True)
    consequence_after = fields.Integer(attribute="item.consequence_after", allow_none=True)
    level = fields.Nested(LevelSchema, allow_none=True)
    level_after = fields.Nested(LevelSchema, allow_none=True)
    scope_unit_id = fields.Integer(attribute="item.scope_unit_id", allow_none=True)
    scope_types = fields.List(fields.String(), attribute="item.scope_types")
    scope_counterparts = fields.List(fields.String(), attribute="item.scope_counterparts")
    scope_places = fields.List(fields.String(), attribute="item.scope_places")
    scope_activities = fields.List(fields.String(), attribute="item.scope_activities")
    scope_time_bands = fields.List(fields.String(), attribute="item.scope_time_bands")
    scope_lone_work = fields.Boolean(attribute="item.scope_lone_work", allow_none=True)
    trend = fields.List(
        fields.Nested(TrendRowSchema),
        attribute="trend_rows",
        metadata={"description": "Incidents in the item's scope per ended quarter."},
    )
    trend_withheld = fields.String(attribute="trend.withheld", allow_none=True)
    linked_cases = fields.Nested(CellSchema, attribute="linked")


class ParticipantOutSchema(Schema):
    role = fields.String()
    name = fields.String()


class VersionSchema(Schema):
    number = fields.Integer()
    status = fields.String(validate=validate.OneOf(list(VERSION_STATES)))
    period_start = fields.Date()
    period_end = fields.Date()
    next_review = fields.Date()
    notes = fields.String()
    approved_at = fields.DateTime(allow_none=True)
    approved_by_id = fields.Integer(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    participants = fields.List(fields.Nested(ParticipantOutSchema))


class AssessmentSchema(Schema):
    """An assessment with one version (the newest unless another was asked for)."""

    id = fields.Integer()
    unit_id = fields.Integer()
    title = fields.String()
    work_kind = fields.String(allow_none=True)
    matrix_size = fields.Integer()
    owner_id = fields.Integer(allow_none=True)
    version = fields.Nested(VersionSchema, attribute="shown")
    versions = fields.Method("_numbers", metadata={"description": "Version numbers."})

    def _numbers(self, obj: Any) -> list[int]:
        return [v.number for v in obj.versions]


class AssessmentDetailSchema(AssessmentSchema):
    items = fields.List(fields.Nested(ItemSchema))
    took_part = fields.Dict(
        keys=fields.String(),
        values=fields.Boolean(),
        metadata={"description": "Whether the safety representative and AMU took part."},
    )


class AssessmentListSchema(Schema):
    assessments = fields.List(fields.Nested(AssessmentSchema))


class EvaluationSchema(Schema):
    id = fields.Integer()
    result = fields.String(validate=validate.OneOf(list(RESULTS)))
    evaluated_on = fields.Date()
    evaluated_by_id = fields.Integer(allow_none=True)
    next_step = fields.String()


class MeasureSchema(Schema):
    id = fields.Integer()
    item_ref = fields.Integer()
    goal = fields.String()
    what = fields.String()
    collective = fields.Boolean()
    lowers = fields.String()
    affected = fields.String()
    responsible_id = fields.Integer(allow_none=True)
    deadline = fields.Date()
    status = fields.String()
    done_on = fields.Date(allow_none=True)
    is_training = fields.Boolean()
    repeat_months = fields.Integer(allow_none=True)
    replaces_id = fields.Integer(allow_none=True)
    evaluations = fields.List(fields.Nested(EvaluationSchema))


class MeasureListSchema(Schema):
    measures = fields.List(fields.Nested(MeasureSchema))


class TriggerSchema(Schema):
    id = fields.Integer()
    item_ref = fields.Integer(allow_none=True)
    kind = fields.String(validate=validate.OneOf(list(TRIGGER_KINDS)))
    reason = fields.Function(
        trigger_reason,
        metadata={"type": "string", "description": "Why, in words; never names anyone."},
    )
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class TriggerListSchema(Schema):
    triggers = fields.List(fields.Nested(TriggerSchema))


class CommentSchema(Schema):
    id = fields.Integer()
    role = fields.String(validate=validate.OneOf(list(COMMENT_ROLES)))
    kind = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class CaseLinkInSchema(StrictSchema):
    assessment_id = fields.Integer(required=True)
    item_ref = fields.Integer(required=True)


class CaseItemSchema(Schema):
    assessment_id = fields.Integer()
    title = fields.String()
    ref = fields.Integer()
    hazard = fields.String()
    linked = fields.Boolean(metadata={"description": "Whether this case is linked to it."})


class CaseItemListSchema(Schema):
    items = fields.List(fields.Nested(CaseItemSchema))
