"""The API blueprint and what every API module shares: domain errors as responses
(the blueprint's error handlers, so no view converts them) and the current user. Cases
are loaded by handling/loaders.py, as the pages load them."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from handling.errors import CaseError, CaseNotFound
from reporting.service import ReportNotFound
from trygg.accounts.models import User
from trygg.api import ApiError, error_response
from trygg.i18n import gettext as _
from trygg.web import answer_not_found

bp = Blueprint("api_handling", __name__, url_prefix="/api/v1")
# A case or report the caller may not see, or none: 404 either way.
answer_not_found(bp, CaseNotFound, ReportNotFound)

NOT_FOUND = (404,)


def _not_found() -> ApiError:
    return ApiError(404, {"_request": [_("Not found.")]})


@bp.errorhandler(CaseError)
def _case_error(exc: CaseError) -> Response:
    """A domain refusal as JSON: the field messages with the error's status."""
    return error_response(exc.status, exc.messages())


def _user() -> User:
    user: User = current_user._get_current_object()
    return user
