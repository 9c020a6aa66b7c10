"""The trends pages: a unit's incidents by month or quarter, charts with their tables,
exports of exactly what the page shows, and the manager's front-page overview.

Filters are a plain GET form (no JavaScript needed); charts are drawn by
static/trends.js from data in a <script type="application/json"> element (CSP stays
script-src 'self'), and every chart has its numbers in a table under it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, url_for
from flask_babel import format_decimal
from flask_login import current_user
from marshmallow import ValidationError

from risk import exports, service
from risk.dimensions import CHARTED, DEADLINE_DIMENSIONS, DIMENSIONS
from risk.schemas import TrendArgsSchema
from risk.scope import VIEWER_ROLES, scope_of
from risk.statistics import Bucket, add_months
from trygg import audit
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.i18n import lazy_gettext as _l
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors
from trygg.web import register_home_panel, register_nav

bp = Blueprint(
    "risk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/risk",
)

Page = str | tuple[str, int]


def register(app: Flask) -> None:
    """Register the pages, the menu entry and the front-page overview."""
    app.register_blueprint(bp)
    app.jinja_env.filters["format_decimal"] = lambda x: format_decimal(x, "#,##0.0")
    register_nav("risk.trends", _l("Trends"), *VIEWER_ROLES)
    register_home_panel("risk/_glance.html", _glance, *VIEWER_ROLES)


def _user() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001
    return user


def _glance() -> list[service.Glance]:
    return service.glance(_user())


def _form() -> dict[str, Any]:
    keys = ("unit", "period", "from", "to", "by")
    return {key: request.args.get(key, "") for key in keys}


def _load() -> tuple[dict[str, Any], dict[str, list[str]]]:
    raw = {k: v for k, v in request.args.to_dict().items() if v != ""}
    try:
        return TrendArgsSchema().load(raw), {}
    except ValidationError as exc:
        return {}, flatten_errors(translate_errors(exc.messages))


def _table() -> tuple[service.TrendTable | None, dict[str, list[str]], int]:
    args, errors = _load()
    if errors:
        return None, errors, 400
    try:
        query, _scope, tree = service.resolve(
            _user(),
            unit=args["unit"],
            period=args["period"],
            first=args["from_"],
            last=args["to"],
            by=args["by"] if "by" in request.args else "type",
        )
    except service.TrendsError as exc:
        return None, {exc.field: [str(exc)]}, exc.status
    return service.trend_table(query, tree), {}, 200


def _choices() -> dict[str, Any]:
    quarters = service.window()
    months = [Bucket("month", add_months(q, i)) for q in quarters for i in range(3)]
    return {
        "months": [(service.bucket_code(b), service.bucket_label(b)) for b in reversed(months)],
        "quarters": [
            (service.bucket_code(Bucket("quarter", q)), service.bucket_label(Bucket("quarter", q)))
            for q in reversed(quarters)
        ],
        "dimensions": [(d.code, str(d.label)) for d in DIMENSIONS.values()],
        "charted": [(code, str(DIMENSIONS[code].label)) for code in CHARTED],
    }


@bp.get("/trends")
@allow(*VIEWER_ROLES)
def trends() -> Page:
    """A unit's incidents by month or quarter, broken down by one dimension."""
    table, errors, status = _table()
    scope = scope_of(_user(), service.current_tree())
    if table is None and status == 404:
        errors = {"unit": [str(service.OutOfScope())]}
    page = render_template(
        "risk/trends.html",
        table=table,
        errors=errors,
        form=_form(),
        scope=scope,
        chart=exports.chart_data(table) if table else None,
        query_string=request.query_string.decode(),
        withheld_text=service.withheld_message,
        by_quarter=_by_quarter_link(table),
        deadline_dimensions=DEADLINE_DIMENSIONS,
        **_choices(),
    )
    return (page, status) if status != 200 else page


def _by_quarter_link(table: service.TrendTable | None) -> str | None:
    """By month, when most of the months' totals are hidden (small ones are, and so are
    those a small one could be worked out from), the same page by quarter: a quarter's
    total counts three months. (The breakdown is not counted: its cells are protected
    together across months and quarters, and a quarter does not always show more.)"""
    if table is None or table.query.period != "month" or not table.rows:
        return None
    hidden = sum(not row.total.shown for row in table.rows)
    if hidden * 2 <= len(table.rows):
        return None
    args: dict[str, Any] = request.args.to_dict() | {"period": "quarter"}
    return url_for("risk.trends", **args)


@bp.get("/trends/export.csv", defaults={"kind": "csv"})
@bp.get("/trends/export.xlsx", defaults={"kind": "xlsx"})
@allow(*VIEWER_ROLES)
def export(kind: str) -> Page | Response:
    """The page's tables as CSV or XLSX, hidden cells marked as on the page; audited."""
    table, errors, status = _table()
    if table is None:
        return trends()
    audit.record(
        "trends.export",
        actor=actor_label(_user()),
        object_type="unit",
        object_id=table.query.node,
        detail={
            "format": kind,
            "period": table.query.period,
            "from": f"{table.query.first:%Y-%m}",
            "to": f"{table.query.last:%Y-%m}",
            "by": table.query.by.code if table.query.by else None,
        },
    )
    return exports.response(table, kind)
