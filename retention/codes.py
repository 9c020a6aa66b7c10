"""Retention's coded values with nb/en labels."""

from __future__ import annotations

from handling.states import CaseState
from reporting.codes import Codes
from trygg.i18n import lazy_gettext as _l

SCOPES: Codes = {
    "case": _l("A finished case, counted from its closing"),
    "report": _l("A report that never became a case, counted from its submission"),
    "receipt": _l("An anonymous receipt code, counted from its last use"),
}

OUTCOMES: Codes = {
    CaseState.CLOSED: _l("Closed"),
    CaseState.DROPPED: _l("Dropped"),
    CaseState.FORWARDED: _l("Forwarded"),
}

HOLD_REASONS: Codes = {
    "police": _l("Police investigation"),
    "lawsuit": _l("Lawsuit"),
    "labour_inspection": _l("Labour Inspection Authority inspection"),
    "other_authority": _l("Another authority's request"),
}

# How long before deletion the case's handlers are told, in days.
WARNING_DAYS = 30
