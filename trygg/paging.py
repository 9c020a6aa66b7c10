"""Keyset (seek) pagination for every list: a bounded page size and an opaque cursor.

A list is read in a fixed order that ends in a unique column (the row id). A page is
the first `limit` rows after the cursor, which names the sort key of the last row
shown; one row more is read to know whether a next page exists. No list counts or skips
rows with OFFSET, so every page costs the same however long the list.

The cursor is the last row's sort key as URL-safe base64 JSON: not a secret (it holds
only what the page already shows, such as times and ids), and a cursor that does not
decode to the expected shape is a 400 with a translated message.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, NamedTuple, TypeVar

from flask import render_template
from marshmallow import ValidationError, fields, validate

from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.validation import StrictSchema, flatten_errors, storable, translate_errors

T = TypeVar("T")

# What a list shows without `limit`, and the most it shows.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def limit_field(default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> fields.Integer:
    """The `limit` query parameter: 1 to `maximum` rows, `default` when not given."""
    return fields.Integer(
        load_default=default,
        validate=validate.Range(
            min=1,
            max=maximum,
            error=_l("Show from %(a)s to %(b)s rows per page.", a=1, b=maximum),
        ),
    )


class Cursor(fields.Field):
    """The `after` query parameter: the cursor a previous page gave, loaded as the sort
    key it names (each part of the kinds given, or None)."""

    def __init__(self, kinds: Sequence[type], **kwargs: Any) -> None:
        super().__init__(load_default=None, allow_none=True, **kwargs)
        self.kinds = tuple(kinds)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or len(value) > 400:
            raise ValidationError(_not_a_cursor())
        return decode(value, self.kinds)


def _not_a_cursor() -> str:
    return _("This page link is not valid. Start again from the first page.")


def encode(key: Sequence[Any]) -> str:
    """A cursor for a row's sort key (datetimes, dates, ints, strings or None)."""
    parts = [v.isoformat() if isinstance(v, date) else v for v in key]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The sort key in a cursor, each part of the given kind (or None).

    Raises ValidationError for anything that is not a cursor this list gave.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != len(kinds):
            raise ValueError(cursor)
        return tuple(_part(value, kind) for value, kind in zip(parts, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError(_not_a_cursor()) from None


def _part(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(value)
        return moment
    if kind is date:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    if kind is int and (type(value) is not int or not 0 <= value < 2**63):
        raise ValueError(value)
    if kind is str and (not isinstance(value, str) or not storable(value)):
        # NUL or half a surrogate: no list gave it, and the database could not take it.
        raise ValueError(value)
    return value


@dataclass
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def page_of(rows: Sequence[T], limit: int, key: Any) -> Page[T]:
    """Cut `limit + 1` rows read to a page; `key(row)` gives a row's sort key."""
    if len(rows) > limit:
        return Page(list(rows[:limit]), encode(key(rows[limit - 1])))
    return Page(list(rows), None)


class PageArgs(NamedTuple):
    limit: int
    after: tuple[Any, ...] | None


def page_args(
    args: Any,
    kinds: Sequence[type],
    *,
    default: int = DEFAULT_PAGE_SIZE,
    maximum: int = MAX_PAGE_SIZE,
) -> PageArgs:
    """`limit` and `after` from a query string (other parameters are the page's own).

    Raises ValidationError with a translated message per field.
    """
    schema = StrictSchema.from_dict(
        {"limit": limit_field(default, maximum), "after": Cursor(kinds)}
    )()
    data = schema.load({k: args[k] for k in ("limit", "after") if args.get(k, "") != ""})
    return PageArgs(data["limit"], data["after"])


def refused(exc: ValidationError) -> tuple[str, int]:
    """An HTML list page's answer to a page size or cursor it does not accept."""
    fields_ = flatten_errors(translate_errors(exc.messages))
    text = " ".join(m for ms in fields_.values() for m in ms)
    html = render_template(
        "error.html", code=400, title=_("This page cannot be shown"), message=text
    )
    return html, 400
