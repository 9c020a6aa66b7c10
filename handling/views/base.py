"""The pages' blueprint and what every page module shares: the current user, the
read levels, the template helpers, and the 404 for a case or report the user may not see
(handling/loaders.py raises it; no view catches it)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
)
from flask_babel import format_date, format_time
from flask_login import current_user

from handling import codes
from handling.errors import CaseNotFound
from handling.presenters import FIELD_LABELS, local_input
from handling.states import AccessLevel, CaseState, Side
from handling.workflow import (
    STATES,
    state_label,
)
from reporting import codes as rcodes
from reporting.service import ReportNotFound
from trygg.accounts.models import User
from trygg.web import answer_not_found

bp = Blueprint("handling", __name__, template_folder="templates")
answer_not_found(bp, CaseNotFound, ReportNotFound)

# Who may open a case page: handlers of its group, and a safety representative where
# the exposed employee agreed to share (the service decides which).
READ_LEVELS = (AccessLevel.HANDLER, AccessLevel.SAFETY_REP)
ACCESS_HISTORY_ROWS = 50

Page = str | tuple[str, int]


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.context_processor
def handling_helpers() -> dict[str, Any]:
    return {
        "codes": codes,
        "CaseState": CaseState,
        "Side": Side,
        "rcodes": rcodes,
        "label": rcodes.label,
        "states": STATES,
        "state_label": state_label,
        "local_input": local_input,
        "format_date": format_date,
        "format_time": format_time,
        "field_labels": FIELD_LABELS,
    }
