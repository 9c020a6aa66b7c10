"""The pages' blueprint and what every page module shares: the current user, the
read levels and the template helpers."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
)
from flask_babel import format_date, format_time
from flask_login import current_user

from handling import codes
from handling.presenters import local_input
from handling.states import AccessLevel, CaseState, Side
from handling.workflow import (
    STATES,
    state_label,
)
from reporting import codes as rcodes
from trygg.accounts.models import User

bp = Blueprint("handling", __name__, template_folder="templates")

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
    }
