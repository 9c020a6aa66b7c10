"""The API blueprint and what every API module shares: domain errors as responses
(the blueprint's error handlers, so no view converts them), the current user and
loading a case."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_login import current_user

from handling import service
from handling.errors import CaseError, CaseNotFound
from handling.models import Case
from handling.states import AccessLevel
from trygg import audit
from trygg.accounts.models import User
from trygg.api import ApiError, error_response, handle_api_error

bp = Blueprint("api_handling", __name__, url_prefix="/api/v1")

NOT_FOUND = (404,)


def _not_found() -> ApiError:
    return ApiError(404, {"_request": [_("Not found.")]})


@bp.errorhandler(CaseNotFound)
def _case_not_found(exc: CaseNotFound) -> Response:
    """A case the caller may not see, or none: 404 either way."""
    return handle_api_error(_not_found())


@bp.errorhandler(CaseError)
def _case_error(exc: CaseError) -> Response:
    """A domain refusal as JSON: the field messages with the error's status."""
    return error_response(exc.status, exc.messages())


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _case(case_id: int, levels: tuple[str, ...] = (AccessLevel.HANDLER,)) -> Case:
    """The case, if the caller may see it at one of `levels`; else 404.

    Calls that change the case lock its row for the rest of the request. A refused
    attempt by an excluded handler is audited; that entry is committed even though the
    answer is an error.
    """
    lock = request.method not in {"GET", "HEAD"}
    try:
        return service.case_for(_user(), case_id, levels=levels, lock=lock)
    except CaseNotFound:
        audit.keep_audited()
        raise _not_found() from None
