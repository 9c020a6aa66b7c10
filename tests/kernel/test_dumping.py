"""trygg.dumping gives exactly marshmallow's dump: every field kind it plans itself, the
ones it leaves to marshmallow, dicts and objects, None, missing keys and defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from marshmallow import Schema, fields, post_dump

from trygg import dumping


class Inner(Schema):
    id = fields.Integer()
    at = fields.DateTime(allow_none=True)


class Everything(Schema):
    number = fields.Integer()
    as_text = fields.Integer(as_string=True)
    name = fields.String(allow_none=True)
    flag = fields.Boolean()
    when = fields.DateTime()
    day = fields.Date()
    custom_day = fields.Date(format="%d.%m.%Y")
    tags = fields.List(fields.String())
    nested = fields.Nested(Inner, allow_none=True)
    many = fields.List(fields.Nested(Inner))
    many_flag = fields.Nested(Inner, many=True)
    renamed = fields.Integer(data_key="renamed_out")
    sourced = fields.String(attribute="source_name")
    dotted = fields.Integer(attribute="nested.id")
    defaulted = fields.String(dump_default="standard")
    computed = fields.Method("twice")
    secret = fields.String(load_only=True)

    def twice(self, obj):
        value = obj["number"] if isinstance(obj, dict) else obj.number
        return value * 2


class Hooked(Schema):
    id = fields.Integer()

    @post_dump
    def stamp(self, data, **_kwargs):
        return {**data, "hooked": True}


@dataclass
class Thing:
    number: int
    name: str | None
    flag: bool


MOMENT = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
FULL = {
    "number": 7,
    "as_text": 8,
    "name": "Åse",
    "flag": False,
    "when": MOMENT,
    "day": date(2026, 12, 5),
    "custom_day": date(2026, 1, 2),
    "tags": ["threat", None],
    "nested": {"id": 3, "at": None},
    "many": [{"id": 1, "at": MOMENT}],
    "many_flag": [{"id": 2}],
    "renamed": 9,
    "source_name": "from source",
    "secret": "never out",
}


@pytest.mark.parametrize(
    "data",
    [
        FULL,
        {**FULL, "name": None, "nested": None, "when": None, "tags": None},
        {"number": 1},  # most keys missing: skipped, or their default
        {"number": 2, "defaulted": "given"},
    ],
    ids=["full", "nones", "missing", "default given"],
)
def test_a_dict_dumps_as_marshmallow_dumps_it(data):
    assert dumping.dump(Everything, data) == Everything().dump(data)


def test_objects_lists_and_hooks_dump_as_marshmallow_dumps_them():
    things = [Thing(1, "a", True), Thing(2, None, False)]

    class ThingSchema(Schema):
        number = fields.Integer()
        name = fields.String(allow_none=True)
        flag = fields.Boolean()
        absent = fields.String()

    assert dumping.dump(ThingSchema, things, many=True) == ThingSchema(many=True).dump(things)
    assert dumping.dump(Hooked, {"id": 4}) == {"id": 4, "hooked": True}


def test_the_suite_checks_every_dump_against_marshmallow(app):
    # trygg.dumping compares itself with marshmallow when the app is testing: the API
    # tests run that check on every list and case they dump.
    assert app.testing
