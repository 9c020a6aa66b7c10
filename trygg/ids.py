"""The `id` URL converter: every integer id in a path (`/cases/<id:case_id>`).

A path whose id no row can have (above what the id columns hold) is not found: Flask
answers 404 before any view runs, the database never sees a number it would
refuse (PostgreSQL's INTEGER ends at 2^31 - 1, SQLite's at 2^63 - 1, Python's int goes
on), and no view needs a guard of its own.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

# Every id column is an INTEGER (a test keeps it so): 32-bit signed on PostgreSQL. SQLite
# would store more, but no row is given an id above this (trygg.privacy.RANDOM_ID_MAX).
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """A non-negative integer no larger than an id column holds."""

    def __init__(self, map: Map) -> None:  # noqa: A002 - werkzeug's parameter name
        super().__init__(map, max=ID_MAX)

    def to_python(self, value: str) -> int:
        # Not found, rather than "try the next rule": werkzeug checks a rule's methods
        # before its converters, so a path whose other methods matched would be a 405.
        try:
            number: int = super().to_python(value)
        except ValidationError:
            raise NotFound() from None
        return number


def init_app(app: Flask) -> None:
    """Register the converter; before any blueprint adds a rule that uses it."""
    app.url_map.converters["id"] = IdConverter
