"""The trends API's query string and answers (marshmallow), shared with the pages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from risk.service import PERIODS
from risk.statistics import MARKS
from trygg.ids import ID_MAX
from trygg.validation import StrictSchema


class TrendArgsSchema(StrictSchema):
    """GET /api/v1/trends and the trends page's filters."""

    unit = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=ID_MAX),
        metadata={"description": "Unit id; 0 is the whole organisation. Default: your first."},
    )
    period = fields.String(load_default="month", validate=validate.OneOf(PERIODS))
    from_ = fields.String(
        data_key="from",
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=7),
        metadata={"description": "First bucket: 2026-01, or 2026-Q1 by quarter."},
    )
    to = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=7),
        metadata={"description": "Last bucket, like from."},
    )
    by = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=32),
        metadata={"description": "A dimension code from /api/v1/trends/dimensions."},
    )


class CellSchema(Schema):
    count = fields.Integer(allow_none=True, metadata={"description": "Null when hidden."})
    mark = fields.String(
        validate=validate.OneOf(MARKS),
        metadata={
            "description": "shown; primary (1 to k-1, shown as <k); secondary (hidden so that "
            "another hidden count cannot be worked out); hidden (the whole row is hidden)."
        },
    )


class RowSchema(Schema):
    bucket = fields.String(attribute="code")
    label = fields.String()
    total = fields.Nested(CellSchema)
    last_year = fields.Nested(CellSchema, allow_none=True)
    rate_per_100 = fields.Float(attribute="rate", allow_none=True)
    moving_average_3 = fields.Float(attribute="average", allow_none=True)
    cells = fields.Method("_cells")
    share_in_time_percent = fields.Float(attribute="share_in_time", allow_none=True)

    def _cells(self, row: Any) -> list[dict[str, Any]]:
        codes = self.context_categories  # type: ignore[attr-defined]
        return [
            {"category": code, "count": cell.count, "mark": cell.mark}
            for code, cell in zip(codes, row.cells, strict=True)
        ]


class TrendSchema(Schema):
    unit = fields.Method("_unit")
    period = fields.Function(lambda t: t.query.period)
    by = fields.Function(lambda t: t.query.by.code if t.query.by else None)
    k = fields.Integer()
    categories = fields.Method("_categories")
    rows = fields.Method("_rows")
    close_times = fields.Method("_close_times")

    def _unit(self, table: Any) -> dict[str, Any]:
        return {"id": table.query.node, "name": table.node_name, "population": table.population}

    def _categories(self, table: Any) -> list[dict[str, str]]:
        return [{"code": code, "label": label} for code, label in table.categories]

    def _rows(self, table: Any) -> list[dict[str, Any]]:
        schema = RowSchema()
        schema.context_categories = [c for c, _l in table.categories]  # type: ignore[attr-defined]
        return [schema.dump(row) for row in table.rows]

    def _close_times(self, table: Any) -> list[dict[str, Any]]:
        return [
            # vocabulary: JSON field
            {"year": year, "closed": {"count": n.count, "mark": n.mark}, "median_days": median}
            for year, n, median in table.close_times
        ]


class DimensionSchema(Schema):
    code = fields.String()
    label = fields.Function(lambda d: str(d.label))
    several_per_report = fields.Boolean(attribute="multi")
    categories = fields.Function(
        lambda d: [{"code": c, "label": d.category_label(c)} for c in d.columns]
    )


class UnitOptionSchema(Schema):
    id = fields.Integer(attribute="node")
    name = fields.String(attribute="label")
    depth = fields.Integer()


class DimensionsSchema(Schema):
    dimensions = fields.List(fields.Nested(DimensionSchema))
    periods = fields.List(fields.String())
    first_month = fields.String()
    last_month = fields.String()
    k = fields.Integer()
    units = fields.List(fields.Nested(UnitOptionSchema))
