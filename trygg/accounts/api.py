"""The session API: log in and out, and who am I."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask_login import current_user

from trygg import dumping, org
from trygg.accounts import service
from trygg.accounts.schemas import LoginSchema, MeSchema, UnitRefSchema
from trygg.api import ApiError, documented, load_json
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import allow, log_in, log_out, public

bp = Blueprint("api_accounts", __name__, url_prefix="/api/v1")

# Built once: a schema's construction (copying its fields) costs more than a dump.
ME_SCHEMA = MeSchema()


@bp.post("/session")
@public
@documented(
    "Log in with e-mail, password and (for two-factor users) a TOTP code",
    body=LoginSchema,
    response=MeSchema,
    tags=("session",),
    errors=(401, 429),
)
def login() -> Response:
    """Start a session; 401 with one generic message; 429 when throttled."""
    creds = load_json(LoginSchema())
    generic = {"_request": [_("Wrong e-mail address, password or code.")]}
    try:
        user = service.authenticate(creds["email"], creds["password"], creds.get("otp"))
    except service.Throttled as exc:
        db.session.commit()
        raise ApiError(
            429,
            {"_request": [_("Too many failed attempts. Wait a little and try again.")]},
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    except service.SecondFactorNeeded:
        db.session.commit()
        raise ApiError(401, {"otp": [_("Enter the code from your authenticator app.")]}) from None
    except service.LoginFailed:
        db.session.commit()  # keep the failure counter
        raise ApiError(401, generic) from None
    log_in(user)
    return jsonify(ME_SCHEMA.dump(user))


@bp.delete("/session")
@allow()
@documented("Log out", tags=("session",))
def logout() -> Response:
    """End this session, on the server too."""
    log_out()
    return jsonify({})


@bp.get("/me")
@allow()
@documented("The logged-in user, their roles and units", response=MeSchema, tags=("session",))
def me() -> Response:
    """Who am I."""
    return jsonify(ME_SCHEMA.dump(current_user._get_current_object()))  # noqa: SLF001


@bp.get("/units")
@allow()
@documented(
    "The unit tree, with ids, for forms", response=UnitRefSchema(many=True), tags=("units",)
)
def units() -> Response:
    """Every unit with its parent and headcount, depth-first."""
    return jsonify(dumping.dump(UnitRefSchema, [node.unit for node in org.tree()], many=True))
