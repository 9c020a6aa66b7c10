"""Reading an HTML form into a schema's input: pages load what they are sent with the same
schema as the JSON API, and this turns `request.form` into what that schema loads, so no
view rebuilds the dict field by field (issue 11, item 5)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from flask import g, request
from marshmallow import Schema, fields
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from trygg.i18n import gettext as _
from trygg.validation import NUL, needs_text, storable

F = TypeVar("F", bound=Callable[..., Any])

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


# -- a NUL pasted into a form page ------------------------------------------------------


def flags_nul(view: F) -> F:
    """This form page names a NUL by its field and shows the form again, instead of the
    request-wide 400 (`trygg.web.refuse_unstorable`).

    NUL comes with text pasted from another program and cannot be seen: a page that
    answered "the request could not be understood" lost everything typed in a long
    form. For such a page the NUL is taken out of the form before the view reads it
    (`drop_nul`); the view refuses the form once with `nul_errors()`, so the text is
    stored only as the reporter has seen it.
    """
    view._trygg_flags_nul = True  # type: ignore[attr-defined]
    return view


def flagging_nul(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(view, "_trygg_flags_nul", False))


def drop_nul() -> bool:
    """Take NUL out of the request's form values, remembering the fields that held one;
    whether the form can be stored now (False for a NUL in a field's name, or half of a
    Unicode pair, which no one types: those are still the request-wide 400)."""
    sent = list(request.form.items(multi=True))
    held = [key for key, value in sent if NUL in value]
    cleaned = [(key, value.replace(NUL, "")) for key, value in sent]
    if not all(storable(key) and storable(value) for key, value in cleaned):
        return False
    if held:
        request.__dict__["form"] = ImmutableMultiDict(cleaned)  # as trygg/uploads.py does
    g._trygg_nul_fields = list(dict.fromkeys(held))
    return True


def nul_errors(names: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The message for each field a NUL was taken out of (`drop_nul`), under the error
    key the page uses for it (`names`: input name → that key, where they differ)."""
    names = names or {}
    return {names.get(name, name): [nul_message()] for name in nul_fields()}


def nul_fields() -> list[str]:
    """The form fields a NUL was taken out of (`drop_nul`), in the order sent."""
    found: list[str] = g.get("_trygg_nul_fields", [])
    return found


def nul_message() -> str:
    return _(
        "This field held a character that text cannot hold (NUL), which often comes with "
        "text copied from another program. It has been taken out: check the text and "
        "send again."
    )
