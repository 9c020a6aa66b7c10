"""Dumping an output schema fast: marshmallow's own dump, planned once per schema class.

A list page dumps thousands of values (the queue's 50 rows of 25 fields), and
marshmallow spends several method calls on each: the lookup, the default, the
formatting. `dump(SchemaClass, obj)` gives exactly what `SchemaClass().dump(obj)` gives,
from a plan made once per class: for each field the same key, the same lookup (a dict's
key, else the attribute), the same `dump_default` and the same formatting (numbers,
text, ISO dates and times, lists and nested schemas of those). Any other field type, a
dotted `attribute`, and a schema with dump hooks or its own `get_attribute` are left to
marshmallow, field by field or whole. The schema stays the contract (and the OpenAPI
document); with `TESTING` set, every call also runs marshmallow and checks that the two
agree, so the whole suite compares them on real data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from flask import current_app, has_app_context
from marshmallow import Schema, fields, missing, utils
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Dumper = Callable[[Any], Any]


def dump(schema: type[Schema], obj: Any, *, many: bool = False) -> Any:
    """`schema().dump(obj, many=many)`, faster (see the module's docstring)."""
    one = _plan(schema)
    out = [one(item) for item in obj] if many and obj is not None else one(obj)
    if has_app_context() and current_app.testing:
        expected = schema().dump(obj, many=many)
        assert out == expected, f"{schema.__name__}: {out!r} != {expected!r}"  # noqa: S101
    return out


@cache
def _plan(schema: type[Schema]) -> Dumper:
    return _dumper(schema())


def _dumper(schema: Schema) -> Dumper:
    """One object's dump for a schema instance (its fields are bound, its options set)."""
    hooks = schema._hooks  # noqa: SLF001 - marshmallow's record of the schema's hooks
    if (
        hooks[PRE_DUMP]
        or hooks[POST_DUMP]
        or type(schema).get_attribute is not Schema.get_attribute
        or schema.dict_class is not dict
    ):
        return lambda obj: schema.dump(obj, many=False)
    planned: list[tuple[str, str, Dumper, Any]] = []
    left: list[tuple[str, str, fields.Field]] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        source = field.attribute if field.attribute is not None else name
        convert = _converter(field)
        if convert is None or "." in source or not _plain_lookup(field):
            left.append((key, name, field))
        else:
            planned.append((key, source, convert, field.dump_default))
    accessor = schema.get_attribute

    def one(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        is_dict = type(obj) is dict
        for key, source, convert, default in planned:
            if is_dict:
                value = obj[source] if source in obj else getattr(obj, source, missing)
            else:
                value = utils.get_value(obj, source, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = None if value is None else convert(value)
        for key, name, field in left:
            value = field.serialize(name, obj, accessor=accessor)
            if value is not missing:
                out[key] = value
        return out

    return one


def _plain_lookup(field: fields.Field) -> bool:
    """The field reads its value the default way (no override of the lookup)."""
    kind = type(field)
    return (
        field._CHECK_ATTRIBUTE  # noqa: SLF001
        and kind.get_value is fields.Field.get_value
        and kind.serialize is fields.Field.serialize
    )


def _converter(field: fields.Field) -> Dumper | None:
    """What marshmallow's `_serialize` does to a value that is not None, for the field
    types whose formatting is plain (exactly those types, not subclasses); None for any
    other."""
    kind = type(field)
    if isinstance(field, fields.Integer) and kind is fields.Integer and not field.as_string:
        return int
    if kind is fields.String:
        return utils.ensure_text_type
    if kind in (fields.Boolean, fields.Raw):
        return _same
    if isinstance(field, fields.DateTime | fields.Date) and kind in (fields.DateTime, fields.Date):
        formatting = field.format or field.DEFAULT_FORMAT
        return field.SERIALIZATION_FUNCS.get(formatting)
    if isinstance(field, fields.List) and kind is fields.List:
        inner = _converter(field.inner)
        if inner is None:
            return None
        return lambda values: [None if v is None else inner(v) for v in values]
    if isinstance(field, fields.Nested) and kind is fields.Nested:
        nested = field.schema
        one = _dumper(nested)
        if nested.many or field.many:
            return lambda values: [one(v) for v in values]
        return one
    return None


def _same(value: Any) -> Any:
    return value
