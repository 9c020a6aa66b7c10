"""Reading form fields for the schemas: stripped text, numbers, Oslo times, yes/no."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    request,
)

from handling.presenters import OSLO

# -- reading forms ----------------------------------------------------------------------


def _text(name: str) -> str | None:
    """A text field, stripped; None when empty (the schema then applies its default)."""
    value = request.form.get(name, "").strip()
    return value or None


def _int(value: str | None) -> int | str | None:
    """A whole number, None when empty, or the text itself so the schema names the error."""
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value


def _moment(name: str) -> str | None:
    """A datetime-local field (Oslo wall time) as an ISO time with its offset."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=OSLO)
    return parsed.isoformat()


def _yes_no(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


def _present(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out empty values, so required fields say "required" and defaults apply."""
    return {k: v for k, v in data.items() if v is not None}
