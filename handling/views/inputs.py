"""Reading form fields for the schemas: the kernel's form_input with Oslo wall time."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from handling.presenters import OSLO
from trygg.forms import form_input


def load_form(schema: Schema, *, absent_as_empty: bool = False) -> Any:
    """The request's form loaded with `schema`, the one the JSON API loads (a
    datetime-local field is Oslo wall time); ValidationError names what is wrong."""
    return schema.load(form_input(schema, local_time=OSLO, absent_as_empty=absent_as_empty))
