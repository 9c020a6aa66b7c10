"""The assessment's code lists and their labels (stored as codes, shown translated)."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString

from trygg.i18n import lazy_gettext as _l
from trygg.roles import Role

# The factors the rules name (forskrift om utførelse av arbeid, the 2026 psychosocial
# chapters, and arbeidsmiljøloven § 4-3): examples, not a checklist.
FACTORS: dict[str, LazyString] = {
    "organisation": _l("Work organisation"),
    "where_when": _l("Where, when and in which situations"),
    "lone_work": _l("Lone work"),
    "working_hours": _l("Working hours"),
    "staffing": _l("Staffing"),
    "competence": _l("Competence"),
    "premises": _l("Premises and technical solutions"),
    "alarms": _l("Alarms and calling for help"),
    "emotional_demands": _l("Emotional demands"),
    "workload": _l("Workload and time pressure"),
    "role_clarity": _l("Role clarity"),
    "support": _l("Support and help"),
    "harassment": _l("Harassment"),
    "violence_threats": _l("Violence and threats"),
}

VERSION_STATES: dict[str, LazyString] = {
    "draft": _l("Draft"),
    "review": _l("Under review"),
    "approved": _l("Approved"),
}

PARTICIPANT_ROLES: dict[str, LazyString] = {
    "leader": _l("Leader"),
    "safety_rep": _l("Safety representative (verneombud)"),
    "union_rep": _l("Union representative (tillitsvalgt)"),
    "employee": _l("Employees"),
    "oht": _l("Occupational health service (BHT)"),
}

MEASURE_STATES: dict[str, LazyString] = {
    "planned": _l("Planned"),
    "in_progress": _l("Under way"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
OPEN_MEASURE_STATES = ("planned", "in_progress")

LOWERS: dict[str, LazyString] = {
    "likelihood": _l("Lowers the likelihood"),
    "consequence": _l("Lowers the consequence"),
    "both": _l("Lowers both"),
}

RESULTS: dict[str, LazyString] = {
    "worked": _l("Worked"),
    "partly": _l("Worked partly"),
    "not": _l("Did not work"),
}

TRIGGER_KINDS: dict[str, LazyString] = {
    "incident": _l("A serious incident (severity 3 or 4) was reported in this item's scope."),
    "trend": _l(
        "Incidents in this item's scope over the last three months are clearly above the "
        "same months a year before."
    ),
    "review": _l("The review date of the assessment has passed."),
    "measure": _l("A measure was evaluated as not working: it needs a replacement."),
}

COMMENT_ROLES: dict[str, LazyString] = {
    Role.MANAGER: _l("Leader"),
    Role.SAFETY_REP: _l("Safety representative (verneombud)"),
    Role.AMU: _l("Working environment committee (AMU)"),
}


def trigger_reason(trigger: Any) -> str:
    """Why a re-assessment was triggered, in words (never which incident or who)."""
    reason = str(TRIGGER_KINDS.get(trigger.kind, trigger.kind))
    if trigger.item_ref is not None:
        return f"R{trigger.item_ref}: {reason}"
    return reason
