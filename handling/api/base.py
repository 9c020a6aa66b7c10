"""The API blueprint and what every API module shares: domain errors as responses,
the current user and loading a case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from handling import service
from handling.models import Case
from handling.workflow import CaseError, CaseNotFound
from trygg.accounts.models import User
from trygg.api import ApiError
from trygg.extensions import db

bp = Blueprint("api_handling", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])
NOT_FOUND = (404,)


def _not_found() -> ApiError:
    return ApiError(404, {"_request": [_("Not found.")]})


@contextmanager
def domain_errors() -> Iterator[None]:
    """Domain errors as JSON: field messages with the error's status."""
    try:
        yield
    except CaseNotFound:
        raise _not_found() from None
    except CaseError as exc:
        raise ApiError(exc.status, exc.messages()) from None


def handles_domain_errors(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with domain_errors():
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _case(case_id: int, levels: tuple[str, ...] = ("handler",)) -> Case:
    """The case, if the caller may see it at one of `levels`; else 404.

    Calls that change the case lock its row for the rest of the request. A refused
    attempt by an excluded handler is audited; that entry is committed even though the
    answer is an error.
    """
    lock = request.method not in {"GET", "HEAD"}
    try:
        return service.case_for(_user(), case_id, levels=levels, lock=lock)
    except CaseNotFound:
        db.session.commit()
        raise _not_found() from None
