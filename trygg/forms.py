"""Reading an HTML form into a schema's input: pages load what they are sent with the same
schema as the JSON API, and this turns `request.form` into what that schema loads, so no
view rebuilds the dict field by field (issue 11, item 5)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from flask import request
from marshmallow import Schema, fields
from werkzeug.datastructures import MultiDict

from trygg.validation import needs_text

_WHOLE = re.compile(r"\d+", re.ASCII)


def form_input(
    schema: Schema,
    form: MultiDict[str, str] | None = None,
    *,
    local_time: tzinfo | None = None,
    absent_as_empty: bool = False,
    prefix: str = "",
) -> dict[str, Any]:
    """The schema's fields that `form` (default: `request.form`) holds, as the schema
    loads them (the JSON API sends the same as JSON).

    - A List field takes every value of its name, empty ones left out, each read as
      its inner field is.
    - A Boolean takes the name's last value (a checkbox after its hidden "off"): "on",
      "off", "true", "yes" and the like as True or False (so a form shown again ticks
      what was sent); other text unchanged, so the schema names the error.
    - An Integer: digits as an int; other text unchanged, so the schema names
      the error (ids are strict integers).
    - An AwareDateTime without an offset (a browser's datetime-local) is read as wall
      time in `local_time`, when given; unparseable text goes on unchanged.
    - Text is stripped. Empty is "" for text that cannot be empty (validation.needs_text:
      the schema says "required", even in a partial change), None where the field
      allows None (which clears it), else left out, so a required field says
      "required" and a default applies.

    Names the schema does not know (csrf_token) are not read. A field the form does not
    send is left out, or with `absent_as_empty` treated as sent empty (a form that always
    shows every field, where an absent one means "none"). With `prefix`, the form's names
    are the schema's behind "prefix-" (one row of a table of rows, as "p3-amount").
    """
    form = request.form if form is None else form
    data: dict[str, Any] = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        sent_as = f"{prefix}-{key}" if prefix else key
        if sent_as not in form and not absent_as_empty:
            continue
        if isinstance(field, fields.List):
            values = [v.strip() for v in form.getlist(sent_as)]
            data[key] = [_typed(field.inner, v, local_time) for v in values if v]
            continue
        sent = form.getlist(sent_as)
        value = (sent[-1] if isinstance(field, fields.Boolean) else sent[0]) if sent else ""
        value = value.strip()
        if not value:
            if needs_text(field):
                data[key] = ""
            elif field.allow_none:
                data[key] = None
            continue
        data[key] = _typed(field, value, local_time)
    return data


def _typed(field: fields.Field, value: str, local_time: tzinfo | None) -> Any:
    if isinstance(field, fields.Integer) and _WHOLE.fullmatch(value):
        return int(value)
    if isinstance(field, fields.Boolean) and value in field.truthy | field.falsy:
        return value in field.truthy
    if isinstance(field, fields.AwareDateTime) and local_time is not None:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=local_time)
        return moment.isoformat()
    return value
