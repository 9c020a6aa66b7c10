"""Reading an import file: CSV text to numbered rows, and the plan an import makes.

Shared by the unit and user imports (trygg/accounts/import_units.py, import_users.py).
A file is UTF-8 (a byte-order mark, as spreadsheets write it, is allowed), separated by
commas or semicolons (whichever the header line uses), with a header line naming the
columns. Cells that hold several values (roles, units) separate them with `|`.

An import is all or nothing per file: every line is checked first, and one error
anywhere means nothing is stored; the errors name their line. A dry run checks the same
way and lists what would change, storing nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from trygg.i18n import lazy_gettext as _l

# The most lines a file may have (a large employer, with room to spare).
MAX_LINES = 100_000
LIST_SEPARATOR = "|"


class ImportFileError(Exception):
    """The file as a whole cannot be read (not UTF-8, no header, a missing column)."""


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True)
class Change:
    """What one line does: "create" or "update" (with the fields that change)."""

    line: int
    kind: str
    key: str
    fields: tuple[str, ...] = ()


@dataclass
class Plan:
    """The outcome of checking a file: its errors, or the changes to make."""

    errors: list[LineError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    # Run by `apply`, one per change, in order.
    steps: list[Callable[[], None]] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for c in self.changes if c.kind == "create")

    @property
    def updated(self) -> int:
        return sum(1 for c in self.changes if c.kind == "update")

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def error(self, line: int, message: object) -> None:
        self.errors.append(LineError(line, str(message)))


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]
    # More cells than the header has columns (a stray separator): refused.
    extra: bool = False

    def get(self, column: str) -> str | None:
        """The stripped cell, or None when the file has no such column."""
        value = self.cells.get(column)
        return None if value is None else value.strip()


def split_list(value: str | None) -> list[str] | None:
    """A `|`-separated cell as its values (None: the column is not in the file)."""
    if value is None:
        return None
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def read(data: bytes, required: Iterable[str], optional: Iterable[str]) -> list[Row]:
    """The file's rows, numbered by the line they start on (the header is line 1).

    Raises ImportFileError when the file cannot be read or its header does not fit.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _l("The file is not UTF-8 text. Save it as \u201cCSV UTF-8\u201d and try again.")
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    required, optional = list(required), list(optional)
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFileError(
            _l("The header line lacks the column %(column)s.", column=", ".join(missing))
        )
    unknown = [name for name in header if name not in required + optional]
    if unknown:
        raise ImportFileError(
            _l(
                "Unknown column %(column)s. The columns are: %(columns)s.",
                column=", ".join(unknown),
                columns=", ".join(required + optional),
            )
        )
    if len(set(header)) != len(header):
        raise ImportFileError(_l("A column is named twice in the header line."))
    return _rows(reader, header)


def _rows(reader: Any, header: list[str]) -> list[Row]:
    rows: list[Row] = []
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            extra = len(cells) > len(header)
            rows.append(Row(line, dict(zip(header, cells, strict=False)), extra))
        if len(rows) > MAX_LINES:
            raise ImportFileError(_l("The file has more than %(max)s lines.", max=MAX_LINES))
        line = reader.line_num + 1
    return rows


def too_many_cells(row: Row) -> str | None:
    """The error for a line with more cells than columns, or None."""
    if row.extra:
        return str(_l("This line has more cells than the header has columns."))
    return None


def apply(plan: Plan, tick: Callable[[], None] = lambda: None) -> None:
    """Make the plan's changes (the caller commits), calling `tick` after each."""
    if plan.errors:
        raise ValueError("a plan with errors is not applied")
    for step in plan.steps:
        step()
        tick()
