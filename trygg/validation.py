"""Shared validation pieces: the strict schema base and translated error messages.

marshmallow's built-in messages are English. `translate_errors` maps each of them (and
the templated ones, such as length limits) to a gettext message in the user's language,
so pages and the JSON API give the same, translated field messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from trygg.formatting import format_count
from trygg.i18n import gettext as _
from trygg.ids import ID_MAX


class StrictSchema(Schema):
    """Unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = RAISE


# marshmallow's own message for a required field left out (translated by _fixed).
REQUIRED = "Missing data for required field."


def _fixed() -> dict[str, str]:
    return {
        REQUIRED: _("This field is required."),
        "Unknown field.": _("This field is not expected here."),
        "Field may not be null.": _("This field cannot be empty."),
        "Not a valid string.": _("Enter text."),
        "Not a valid integer.": _("Enter a whole number."),
        "Not a valid number.": _("Enter a number."),
        "Not a valid boolean.": _("Choose yes or no."),
        "Not a valid email address.": _("Enter a valid e-mail address."),
        "Not a valid list.": _("Send a list of values."),
        "Not a valid datetime.": _("Enter a valid date and time."),
        "Not a valid aware datetime.": _(
            "Give the date and time with its offset from UTC, for example "
            "2026-03-01T14:30:00+01:00."
        ),
        "Not a valid date.": _("Enter a valid date."),
        "Not a valid mapping type.": _("Send an object."),
        "Invalid input type.": _("This value has the wrong type."),
        "Invalid value.": _("This value is not allowed."),
        "Invalid type.": _("This value has the wrong type."),
        "Number too large.": _("The number is too large."),
        "Not a valid utf-8 string.": _("Enter text."),
        "Special numeric values (nan or infinity) are not permitted.": _("Enter a number."),
        "Not a valid naive datetime.": _("Enter a valid date and time."),
        "Not a valid time.": _("Enter a valid time."),
        "Not a valid URL.": _("Enter a valid address."),
        "Not a valid UUID.": _("This value is not allowed."),
    }


def _count(digits: str) -> str:
    """A number of characters as the page's language writes it, as the forms' own hints
    do ("10 000" in Norwegian), not as marshmallow does ("10000")."""
    return format_count(int(digits))


_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^Longer than maximum length (\d+)\.$"),
        lambda m: _("Use at most %(n)s characters.", n=_count(m.group(1))),
    ),
    (
        re.compile(r"^Shorter than minimum length (\d+)\.$"),
        lambda m: _("Use at least %(n)s characters.", n=_count(m.group(1))),
    ),
    (
        re.compile(r"^Length must be between 0 and (\d+)\.$"),
        lambda m: _("Use at most %(n)s characters.", n=_count(m.group(1))),
    ),
    (
        re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
        lambda m: _(
            "Use from %(a)s to %(b)s characters.", a=_count(m.group(1)), b=_count(m.group(2))
        ),
    ),
    (
        re.compile(
            r"^Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)\.$"
        ),
        lambda m: _("Choose a value from %(a)s to %(b)s.", a=m.group(1), b=m.group(2)),
    ),
    (
        re.compile(r"^Must be greater than or equal to (-?[\d.]+)\.$"),
        lambda m: _("Use a value of at least %(n)s.", n=m.group(1)),
    ),
    (
        re.compile(r"^Must be less than or equal to (-?[\d.]+)\.$"),
        lambda m: _("Use a value of at most %(n)s.", n=m.group(1)),
    ),
    (
        re.compile(r"^Must be greater than (-?[\d.]+)\.$"),
        lambda m: _("Use a value greater than %(n)s.", n=m.group(1)),
    ),
    (
        re.compile(r"^Must be less than (-?[\d.]+)\.$"),
        lambda m: _("Use a value less than %(n)s.", n=m.group(1)),
    ),
    (
        re.compile(r"^Length must be (\d+)\.$"),
        lambda m: _("Use exactly %(n)s characters.", n=m.group(1)),
    ),
    (re.compile(r"^Must be one of: .*\.$"), lambda m: _("Choose one of the listed values.")),
]


def translate_message(message: str) -> str:
    fixed = _fixed()
    if message in fixed:
        return fixed[message]
    for pattern, render in _PATTERNS:
        match = pattern.match(message)
        if match:
            return render(match)
    return message


def translate_errors(messages: Any) -> Any:
    """Translate a marshmallow error structure, keeping its shape."""
    if isinstance(messages, dict):
        return {str(k): translate_errors(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [translate_errors(m) for m in messages]
    return translate_message(str(messages))


def as_choices(errors: dict[str, list[str]], names: Iterable[str]) -> dict[str, list[str]]:
    """A required list or group of buttons left empty says "Choose one of the options."
    where a text field says "This field is required." ("Du må fylle ut dette feltet":
    there is nothing to fill in on a list)."""
    required = _fixed()[REQUIRED]
    out = dict(errors)
    for name in names:
        if name in out:
            out[name] = [_("Choose one of the options.") if m == required else m for m in out[name]]
    return out


def flatten_errors(messages: Any) -> dict[str, list[str]]:
    """Field name → list of messages, for showing next to form fields."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(value, dict):
                for sub in value.values():
                    out.setdefault(str(key), []).extend(flatten_errors({"": sub}).get("", []))
            elif isinstance(value, list):
                out.setdefault(str(key), []).extend(
                    str(v) for v in value if not isinstance(v, dict)
                )
            else:
                out.setdefault(str(key), []).append(str(value))
    return out


# -- text that cannot be stored ----------------------------------------------------------

NUL = "\x00"


def storable(text: str) -> bool:
    """Whether a text can be stored: no NUL (PostgreSQL cannot hold it in text) and no
    half of a UTF-16 surrogate pair (JSON's "\\ud800" gives one; it has no UTF-8)."""
    if NUL in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable_at(value: Any, path: str = "") -> str | None:
    """Where, in a JSON value, the first text that cannot be stored is: its dotted path
    ("narrative", "exposed.0.name", as the API names fields in its errors; "" for the
    value itself or for a key that holds such a character), or None if there is none.

    No one types either character: what holds one is refused with `unstorable_message()`
    before it reaches the database (trygg/web.py for the address and forms, trygg/api.py
    for JSON bodies, trygg/paging.py for cursors).
    """
    if isinstance(value, str):
        return None if storable(value) else path
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, inner in items:
        if isinstance(key, str) and not storable(key):
            return path
        found = unstorable_at(inner, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def unstorable_message() -> str:
    return _(
        "What you sent contains a character that text cannot hold (NUL, or half of a "
        "Unicode pair), and nothing was stored. Remove it (it often comes with text "
        "copied from another program) and send again."
    )


def in_form_order(errors: dict[str, list[str]], order: Sequence[str]) -> dict[str, list[str]]:
    """Field errors in the order the form shows its fields (others after them), so an
    error summary reads from the top of the form down."""
    rank = {name: i for i, name in enumerate(order)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def small_int(text: str | None, default: int, *, maximum: int = ID_MAX) -> int:
    """A whole number typed into a URL or form ("?page=2"), else `default`.

    Only ASCII digits count (`str.isdigit` also accepts "²", which `int` refuses), and
    the value is capped at `maximum` (a 32-bit column's limit by default), so neither a
    superscript nor 2**70 can reach the database as a 500.
    """
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 12:
        return default
    return min(int(text), maximum)


class Count(validate.Length):
    """How many items a list may hold, with messages about choices, not characters
    ("Give at most 4", where Length would say "Use at most 4 characters").

    A Length, so the OpenAPI document shows minItems/maxItems.
    """

    def __init__(self, *, min: int | None = None, max: int) -> None:  # noqa: A002
        super().__init__(min=min, max=max)

    def __call__(self, value: Any) -> Any:
        if self.min is not None and len(value) < self.min:
            if self.min == 1:
                raise ValidationError(_("Choose at least one."))
            raise ValidationError(_("Choose at least %(n)s.", n=self.min))
        if self.max is not None and len(value) > self.max:
            raise ValidationError(_("Give at most %(n)s.", n=self.max))
        return value


class NotEmpty(validate.Length):
    """At least one character, and if not, the required message (see `filled`)."""

    def __init__(self) -> None:
        super().__init__(min=1, error=REQUIRED)


def needs_text(field: fields.Field | None) -> bool:
    """A text field that cannot be empty (`filled`): sent empty, it is kept as "" so the
    schema says it is required, also in a partial change, where a left-out field would
    mean "unchanged"."""
    return isinstance(field, fields.String) and any(
        isinstance(v, NotEmpty) for v in field.validators
    )


def filled(maximum: int) -> list[validate.Validator]:
    """A required text field's validators: empty says "This field is required." (not
    "Use from 1 to 254 characters."), too long says how long it may be."""
    return [NotEmpty(), validate.Length(max=maximum)]
