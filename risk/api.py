"""The trends JSON API: published cells with the rule that hid each one, and dimensions."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from marshmallow import ValidationError

from risk import service
from risk.dimensions import DIMENSIONS
from risk.schemas import DimensionsSchema, TrendArgsSchema, TrendSchema
from risk.scope import VIEWER_ROLES, scope_of
from risk.statistics import add_months
from trygg.accounts.models import User
from trygg.api import ApiError, documented, schema_error
from trygg.security import allow

bp = Blueprint("api_risk", __name__, url_prefix="/api/v1")


def _user() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001
    return user


def load_args() -> dict[str, object]:
    """The query string through TrendArgsSchema; ApiError 400 with field messages."""
    try:
        args: dict[str, object] = TrendArgsSchema().load(request.args.to_dict())
    except ValidationError as exc:
        raise schema_error(exc) from None
    return args


def resolve_or_error(args: dict[str, object]) -> tuple[service.TrendQuery, service.Tree]:
    try:
        query, _scope, tree = service.resolve(
            _user(),
            unit=args["unit"],  # type: ignore[arg-type]
            period=str(args["period"]),
            first=args["from_"],  # type: ignore[arg-type]
            last=args["to"],  # type: ignore[arg-type]
            by=args["by"],  # type: ignore[arg-type]
        )
    except service.TrendsError as exc:
        raise ApiError(exc.status, {exc.field: [str(exc)]}) from None
    return query, tree


@bp.get("/trends")
@allow(*VIEWER_ROLES)
@documented(
    "Incident counts per month or quarter for a unit in your scope, with small counts hidden",
    response=TrendSchema,
    query=TrendArgsSchema,
    tags=("trends",),
    errors=(404,),
)
def trends() -> Response:
    """Published cells: each a count, or null with the rule that hid it."""
    query, tree = resolve_or_error(load_args())
    return jsonify(TrendSchema().dump(service.trend_table(query, tree)))


@bp.get("/trends/dimensions")
@allow(*VIEWER_ROLES)
@documented(
    "What trends can be broken down by, the months covered and your units",
    response=DimensionsSchema,
    tags=("trends",),
)
def dimensions() -> Response:
    """The dimensions, the window of ended quarters, k, and the units you may choose."""
    quarters = service.window()
    scope = scope_of(_user(), service.current_tree())
    body = {
        "dimensions": list(DIMENSIONS.values()),
        "periods": list(service.PERIODS),
        "first_month": f"{quarters[0]:%Y-%m}",
        "last_month": f"{add_months(quarters[-1], 2):%Y-%m}",
        "k": service.rules().k,
        "units": scope.options,
    }
    return jsonify(DimensionsSchema().dump(body))
