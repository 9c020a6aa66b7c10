"""trygg.forms.form_input: an HTML form read into the input its schema loads (the same
input the JSON API sends)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from marshmallow import ValidationError, fields
from werkzeug.datastructures import MultiDict

from trygg.forms import form_input
from trygg.validation import StrictSchema

OSLO = ZoneInfo("Europe/Oslo")


class TaskSchema(StrictSchema):
    title = fields.String(required=True)
    note = fields.String(load_default=None, allow_none=True)
    owner_id = fields.Integer(allow_none=True, strict=True)
    helper_ids = fields.List(fields.Integer(strict=True), load_default=list)
    due_at = fields.AwareDateTime(allow_none=True)
    shared = fields.Boolean(load_default=False)
    status = fields.String(load_default="open")


def load(*pairs: tuple[str, str], **options):
    schema = TaskSchema()
    return schema.load(form_input(schema, MultiDict(pairs), local_time=OSLO, **options))


def test_a_filled_form_loads_as_the_api_would_send_it():
    data = load(
        ("csrf_token", "abc"),
        ("title", "  Call the ward  "),
        ("owner_id", "12"),
        ("helper_ids", "3"),
        ("helper_ids", ""),
        ("helper_ids", "4"),
        ("due_at", "2026-07-01T14:30"),
        ("shared", "off"),
        ("shared", "on"),
    )
    assert data == {
        "title": "Call the ward",
        "note": None,
        "owner_id": 12,
        "helper_ids": [3, 4],
        "due_at": datetime(2026, 7, 1, 12, 30, tzinfo=UTC),
        "shared": True,
        "status": "open",
    }


def test_an_unticked_checkbox_after_its_hidden_off_is_false():
    assert load(("title", "x"), ("shared", "off"))["shared"] is False


def test_empty_clears_a_field_that_allows_none_and_is_left_out_otherwise():
    data = load(("title", "x"), ("owner_id", " "), ("due_at", ""), ("status", ""))
    assert data["owner_id"] is None
    assert data["due_at"] is None
    assert data["status"] == "open"


def test_a_required_field_left_empty_is_missing_not_invalid():
    with pytest.raises(ValidationError) as refused:
        load(("title", "   "))
    assert refused.value.messages == {"title": ["Missing data for required field."]}


def test_text_that_is_not_a_number_reaches_the_schema_to_be_named():
    with pytest.raises(ValidationError) as refused:
        load(("title", "x"), ("owner_id", "twelve"), ("due_at", "soon"))
    assert set(refused.value.messages) == {"owner_id", "due_at"}


def test_fields_not_sent_are_left_out_unless_absent_means_empty():
    schema = TaskSchema()
    form = MultiDict([("title", "x")])
    assert form_input(schema, form) == {"title": "x"}
    every = form_input(schema, form, absent_as_empty=True)
    assert every == {"title": "x", "note": None, "owner_id": None, "helper_ids": [], "due_at": None}


def test_a_row_of_a_table_is_read_by_its_prefix():
    schema = TaskSchema()
    form = MultiDict(
        [("p0-title", "first"), ("p1-title", "second"), ("p1-helper_ids", "7"), ("title", "x")]
    )
    assert form_input(schema, form, prefix="p1") == {"title": "second", "helper_ids": [7]}
    assert form_input(schema, form, prefix="p0") == {"title": "first"}
    assert form_input(schema, form, prefix="p2") == {}


def test_a_checkbox_is_read_as_a_boolean_so_a_form_shown_again_ticks_what_was_sent():
    schema = TaskSchema()
    assert form_input(schema, MultiDict([("shared", "off")])) == {"shared": False}
    assert form_input(schema, MultiDict([("shared", "off"), ("shared", "on")])) == {"shared": True}
    # Text that is no yes or no reaches the schema, which names the error.
    assert form_input(schema, MultiDict([("shared", "maybe")])) == {"shared": "maybe"}
    with pytest.raises(ValidationError) as refused:
        load(("title", "x"), ("shared", "maybe"))
    assert set(refused.value.messages) == {"shared"}
