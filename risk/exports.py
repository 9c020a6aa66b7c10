"""What the trends page shows, as chart data, CSV and XLSX: the same cells, the same marks.

Nothing here decides what may be shown: every value comes from a TrendTable, which
risk.statistics has protected.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response
from flask_babel import format_decimal

from risk.dimensions import DEADLINE_DIMENSIONS
from risk.service import TrendTable
from risk.statistics import HIDDEN, PRIMARY, SECONDARY, Cell
from trygg.i18n import gettext as _

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def mark_text(cell: Cell | None, k: int) -> str:
    """How a hidden cell reads: "<k" (primary), ":" (secondary), "·" (row hidden)."""
    if cell is None:
        return ""
    if cell.mark == PRIMARY:
        return f"<{k}"
    if cell.mark == SECONDARY:
        return ":"
    if cell.mark == HIDDEN:
        return "·"
    return str(cell.count)


def legend(k: int) -> list[tuple[str, str]]:
    return [
        (f"<{k}", _("Fewer than %(k)s: too few to show.", k=k)),
        (":", _("Hidden so that a small number elsewhere cannot be worked out.")),
        (
            "·",
            _(
                "Hidden with its whole row: the row's total is hidden, or the row would let "
                "a hidden number be worked out."
            ),
        ),
    ]


def header(table: TrendTable) -> list[str]:
    return [
        _("Period"),
        _("Incidents"),
        _("Same period last year"),
        _("Per 100 employees"),
        _("Average of 3 months"),
        *[label for _code, label in table.categories],
        *([_("Share done in time, per cent")] if _has_share(table) else []),
    ]


def _has_share(table: TrendTable) -> bool:
    return any(row.share_in_time is not None for row in table.rows) or bool(
        table.query.by and table.query.by.code in DEADLINE_DIMENSIONS
    )


def body(table: TrendTable, *, numbers: bool) -> list[list[Any]]:
    """The table's rows; hidden cells as their marks (numbers as int/float if `numbers`)."""

    def value(cell: Cell | None) -> Any:
        if numbers and cell is not None and cell.count is not None:
            return cell.count
        return mark_text(cell, table.k)

    def figure(x: float | None) -> Any:
        if x is None:
            return ""
        return x if numbers else format_decimal(x, "0.0")

    out = []
    for row in table.rows:
        line = [
            row.label,
            value(row.total),
            value(row.last_year),
            figure(row.rate),
            figure(row.average),
        ]
        line += [value(c) for c in row.cells]
        if _has_share(table):
            line.append(figure(row.share_in_time))
        out.append(line)
    return out


def title(table: TrendTable) -> str:
    q = table.query
    period = f"{q.first:%Y-%m} – {q.last:%Y-%m}"
    if q.by:
        return _(
            "%(unit)s: incidents %(period)s, by %(dimension)s",
            unit=table.node_name,
            period=period,
            dimension=str(q.by.label).lower(),
        )
    return _("%(unit)s: incidents %(period)s", unit=table.node_name, period=period)


def chart_data(table: TrendTable) -> dict[str, Any]:
    """What trends.js draws: hidden values are null (a gap), never a guess."""
    labels = [row.label for row in table.rows]
    data: dict[str, Any] = {
        "labels": labels,
        "line": {
            "total": [row.total.count for row in table.rows],
            "average": [row.average for row in table.rows],
            "last_year": [row.last_year.count if row.last_year else None for row in table.rows],
            "names": [_("Incidents"), _("Average of 3 months"), _("Same period last year")],
        },
        "bars": None,
    }
    if table.categories:
        data["bars"] = {
            "title": str(table.query.by.label) if table.query.by else "",
            "series": [
                {"name": label, "values": [row.cells[i].count for row in table.rows]}
                for i, (_code, label) in enumerate(table.categories)
            ],
        }
    return data


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a unit named "=..."), quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _filename(table: TrendTable, kind: str) -> str:
    q = table.query
    return f"trends-{q.node}-{q.first:%Y-%m}-{q.last:%Y-%m}.{kind}"


def response(table: TrendTable, kind: str) -> Response:
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow([_safe(title(table))])
        writer.writerow([_safe(h) for h in header(table)])
        writer.writerows([_safe(v) for v in line] for line in body(table, numbers=False))
        writer.writerow([])
        for mark, meaning in legend(table.k):
            writer.writerow([mark, meaning])
        data: bytes = ("\ufeff" + out.getvalue()).encode()
        mimetype = "text/csv; charset=utf-8"
    else:
        data = _xlsx(table)
        mimetype = XLSX
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{_filename(table, kind)}"'},
    )


def _xlsx(table: TrendTable) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Trends")[:31])
    sheet.append([_safe(title(table))])
    sheet.append([_safe(h) for h in header(table)])
    for line in body(table, numbers=True):
        sheet.append([_safe(v) for v in line])
    sheet.append([])
    for mark, meaning in legend(table.k):
        sheet.append([mark, meaning])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
