"""What templates write values with, in the user's language: numbers, dates, and the
choices of a select.

Each gives babel's (or Jinja's) text with a short way for what a page writes on every
row: babel looks a locale's patterns up again for each value, and a Jinja loop over a
unit picker's 500 options costs milliseconds. The results are the same
(tests/kernel/test_language.py). Registered as template filters and globals by
`init_app`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import flask_babel
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, has_request_context
from flask_babel import get_locale
from markupsafe import Markup, escape


@functools.cache
def _digit_grouping(locale: str) -> str | None:
    """The locale's thousands separator when babel writes a whole number as Python's
    `{:,}` does with that separator in place of the commas (checked here, once per
    locale), else None."""
    group = babel_numbers.get_group_symbol(locale)
    sample = 1234567
    expected = f"{sample:,}".replace(",", group)
    return group if babel_numbers.format_decimal(sample, locale=locale) == expected else None


def format_number(value: Any) -> str:
    """flask_babel's `format_number`, with a short way for a non-negative whole number
    (counts, headcounts): babel's pattern machinery took about 40 µs a number, two
    milliseconds for a page of 50 units. The result is the same (tests/kernel/test_language.py)."""
    if type(value) is int and value >= 0:
        locale = get_locale()
        group = _digit_grouping(str(locale)) if locale is not None else None
        if group is not None:
            return f"{value:,}".replace(",", group)
    return flask_babel.format_number(value)


def format_count(value: int) -> str:
    """A count (of characters, say) as the page's language writes it ("10 000" in
    Norwegian); plain digits outside a request (a command, a job), which has no language."""
    return format_number(value) if has_request_context() else str(value)


_NAMED_FORMATS = frozenset(("short", "medium", "long", "full"))

# The pattern fields written here without babel (numbers, and the locale's am/pm, read
# from babel once): the short formats of both languages use only these.
_NUMERIC_FIELDS: dict[str, Callable[[datetime], str]] = {
    "d": lambda v: str(v.day),
    "dd": lambda v: f"{v.day:02d}",
    "M": lambda v: str(v.month),
    "MM": lambda v: f"{v.month:02d}",
    "y": lambda v: str(v.year),
    "yy": lambda v: f"{v.year % 100:02d}",
    "yyyy": lambda v: f"{v.year:04d}",
    "H": lambda v: str(v.hour),
    "HH": lambda v: f"{v.hour:02d}",
    "h": lambda v: str(v.hour % 12 or 12),
    "hh": lambda v: f"{v.hour % 12 or 12:02d}",
    "m": lambda v: str(v.minute),
    "mm": lambda v: f"{v.minute:02d}",
    "s": lambda v: str(v.second),
    "ss": lambda v: f"{v.second:02d}",
}
_FIELD = re.compile(r"%\((\w+)\)s")


def _period(am: str, pm: str, value: datetime) -> str:
    return pm if value.hour >= 12 else am


@dataclass(frozen=True)
class _Pattern:
    """One of babel's parsed patterns, and (when every field is a number or am/pm) the
    way to write it without babel's per-field machinery."""

    babel: babel_dates.DateTimePattern
    fields: tuple[tuple[str, Callable[[datetime], str]], ...] | None
    time: bool  # a time's pattern, else a date's

    @property
    def text(self) -> str:
        """The pattern as %-format ("%(dd)s.%(MM)s.%(y)s"): a str, whatever babel's
        annotations say."""
        return cast(str, self.babel.format)

    def apply(self, value: datetime, locale: Locale) -> str:
        if self.fields is not None:
            return self.text % {name: field(value) for name, field in self.fields}
        day = value.date()
        if self.time:  # as babel's format_time is given it
            return self.babel.apply(value.timetz(), locale, reference_date=day)
        return self.babel.apply(day, locale)


def _compiled(pattern: babel_dates.DateTimePattern, locale: Locale, *, time: bool) -> _Pattern:
    names = _FIELD.findall(cast(str, pattern.format))
    fields: list[tuple[str, Callable[[datetime], str]]] = []
    for name in names:
        if name == "a":
            am, pm = (
                str(babel_dates.DateTimeFormat(datetime(2000, 1, 1, hour), locale)["a"])
                for hour in (1, 13)
            )
            fields.append((name, functools.partial(_period, am, pm)))
        elif name in _NUMERIC_FIELDS:
            fields.append((name, _NUMERIC_FIELDS[name]))
        else:
            return _Pattern(pattern, None, time)
    return _Pattern(pattern, tuple(fields), time)


@functools.lru_cache(maxsize=64)
def _datetime_patterns(locale: Locale, named: str) -> tuple[str, _Pattern, _Pattern]:
    """A named format's parts for the locale, as babel's `format_datetime` finds them on
    every call: the glue ("{1}, {0}"), the date's pattern and the time's."""
    format = cast(Any, named)  # one of _NAMED_FORMATS
    return (
        str(babel_dates.get_datetime_format(format, locale=locale)).replace("'", ""),
        _compiled(
            babel_dates.parse_pattern(babel_dates.get_date_format(format, locale)),
            locale,
            time=False,
        ),
        _compiled(
            babel_dates.parse_pattern(babel_dates.get_time_format(format, locale)),
            locale,
            time=True,
        ),
    )


def format_datetime(value: datetime | None = None, format: str | None = None) -> str:
    """flask_babel's `format_datetime` (in the installation's time zone and the user's
    language), with a short way for the named formats: babel looks the locale's patterns
    up and walks its field machinery again for each value, about 60 µs, three
    milliseconds for a page of 50 rows. The result is the same
    (tests/kernel/test_language.py)."""
    format = format or "medium"
    locale = get_locale()
    if value is None or locale is None or format not in _NAMED_FORMATS:
        return flask_babel.format_datetime(value, format)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    zone = flask_babel.get_timezone()
    if zone is not None:
        # pytz's zones convert correctly by astimezone (normalize is for arithmetic).
        value = value.astimezone(zone)
    glue, date_pattern, time_pattern = _datetime_patterns(locale, format)
    return glue.replace("{0}", time_pattern.apply(value, locale)).replace(
        "{1}", date_pattern.apply(value, locale)
    )


def option_tags(options: Iterable[tuple[Any, Any]], value: Any = None) -> Markup:
    """A select's `<option>`s (macros.html `select`), the one whose value is `value`
    selected: written here rather than by a template loop, as a unit picker has 500 and
    Jinja's calls per option took several milliseconds a page."""
    chosen = None if value is None else str(value)
    tags = []
    for option, label in options:
        text = str(option)
        selected = " selected" if text == chosen else ""
        tags.append(f'<option value="{escape(text)}"{selected}>{escape(label)}</option>')
    return Markup("\n".join(tags))  # noqa: S704 - the value and the label escaped above


def unit_choices(nodes: Iterable[Any]) -> list[tuple[int, str]]:
    """(id, indented name) of each unit in `org.tree()` order, for a select."""
    return [(node.unit.id, node.path_label) for node in nodes]


def format_day(value: datetime | date | None) -> str:
    """The day alone, in the user's language and the installation's time zone ("7 Dec
    2026", "7. des. 2026"): for what keeps only its day (a discreet notification)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        zone = flask_babel.get_timezone()
        value = value.astimezone(zone).date() if zone is not None else value.date()
    return str(flask_babel.format_date(value, "medium"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["format_number"] = format_number
    app.jinja_env.filters["format_datetime"] = format_datetime
    app.jinja_env.filters["format_day"] = format_day
    app.jinja_env.globals["option_tags"] = option_tags
    app.jinja_env.globals["unit_choices"] = unit_choices
