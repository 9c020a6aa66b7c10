"""The words of an export for people: each stable key of the JSON document and each coded
value, translated in the reader's language (the request's: nb by default, or en).

The JSON keeps its keys and codes (a machine reads them); the PDF shows these labels.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import format_date, format_datetime

from handling import codes as hcodes
from handling.states import Side
from handling.workflow import STATES
from reporting import codes as rcodes
from reporting.codes import Codes
from trygg.accounts.names import display_name
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l

FIELDS: Codes = {
    # the classification
    "track": _l("Track"),
    "state": _l("State"),
    "status": _l("Status"),
    "incident_types": _l("Type of incident"),
    "occurred_month": _l("Month it happened"),
    "unit": _l("Unit"),
    "place_type": _l("Place"),
    "counterpart_category": _l("Who did it (category)"),
    "severity": _l("Severity"),
    "injury_level": _l("Injury"),
    "serious_injury": _l("Serious injury"),
    "section_5_2": _l("Notice under § 5-2 of the Working Environment Act"),
    "police_report": _l("Reported to the police"),
    # the report
    "reference": _l("Reference"),
    "submitted": _l("Submitted"),
    "confidential": _l("Confidential"),
    "occurred_at": _l("When it happened"),
    "narrative": _l("What happened"),
    "counterpart_identity": _l("Who did it"),
    "counterpart_user_id": _l("Who did it (user number)"),
    "injury_description": _l("The injury"),
    "sick_leave": _l("Sick leave"),
    "sick_leave_days": _l("Days of sick leave"),
    "police_details": _l("About the police report"),
    "immediate_measures": _l("What was done right away"),
    "immediate_measures_text": _l("What was done at once"),
    "causes": _l("What may have contributed"),
    "causes_text": _l("Causes"),
    "exposed": _l("Exposed"),
    "witnesses": _l("Witnesses"),
    "files": _l("Files"),
    "feedback": _l("Feedback"),
    "messages": _l("Messages"),
    # whom a protected reporter agreed may learn who they are, if the case is exported
    "identity_consents": _l("Who may learn that you reported"),
    "recipient": _l("Recipient"),
    "given_at": _l("Date agreed"),
    # people, rows of timelines, messages, tasks and debriefings
    "name": _l("Name"),
    "email": _l("E-mail address"),
    "type": _l("File type"),
    "size": _l("Size in bytes"),
    "role": _l("Role"),
    "at": _l("When"),
    "kind": _l("Event"),
    "text": _l("Details"),
    "from": _l("From"),
    "internal": _l("Internal note"),
    "body": _l("Text"),
    "template": _l("Task"),
    "due_at": _l("Due"),
    "note": _l("Note"),
    "held_on": _l("Held on"),
    "outcome": _l("Outcome"),
    "further_needs": _l("Further needs"),
    "tasks": _l("Follow-up tasks"),
    "debriefings": _l("Debriefings"),
    # the closing
    "closed_at": _l("Closed"),
    "closing_note": _l("Closing note"),
    "drop_reason": _l("Why the case was dropped"),
    "no_follow_up_reason": _l("Why there was no follow-up"),
}

AUTHORS: Codes = {
    Side.REPORTER: _l("The reporter"),
    Side.HANDLER: _l("Case handler"),
}
ROLES: Codes = {"exposed": _l("Exposed employee")}

# The coded values, by the key they stand under.
VALUES: dict[str, Codes] = {
    "track": hcodes.TRACKS,
    "state": STATES,
    "status": hcodes.TASK_STATUSES,
    "incident_types": rcodes.INCIDENT_TYPES,
    "place_type": rcodes.PLACE_TYPES,
    "counterpart_category": rcodes.COUNTERPARTS,
    "injury_level": rcodes.INJURY_LEVELS,
    "sick_leave": rcodes.SICK_LEAVE,
    "police_report": rcodes.POLICE_REPORT,
    "immediate_measures": rcodes.IMMEDIATE_MEASURES,
    "causes": rcodes.CAUSES,
    "kind": hcodes.EVENT_KINDS,
    "from": AUTHORS,
    "template": hcodes.TASK_TEMPLATES,
    "role": ROLES,
    "recipient": hcodes.EXPORT_RECIPIENTS,
}
MOMENTS = frozenset(
    {"at", "due_at", "closed_at", "submitted", "occurred_at", "exported_at", "given_at"}
)
DAYS = frozenset({"held_on", "occurred_month"})


def field(key: str) -> str:
    """The label of a document key (the key itself if it has none)."""
    return str(FIELDS.get(key, key))


def _moment(key: str, value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if key == "occurred_month":
        return format_date(parsed.date(), "MMMM y")
    if key in DAYS:
        return format_date(parsed.date(), "long")
    return format_datetime(parsed, "short")  # as the pages write a time: no seconds


def value(key: str, raw: Any, codes: Codes | None = None) -> Any:
    """A value as a person reads it: codes as their labels, dates written out, the
    erased-account marker as "Former employee"; lists item by item."""
    if isinstance(raw, list):
        return [value(key, item, codes) for item in raw]
    if isinstance(raw, bool):
        return _("Yes") if raw else _("No")
    if isinstance(raw, datetime | date):
        raw = raw.isoformat()
    if isinstance(raw, str) and (key in MOMENTS or key in DAYS):
        return _moment(key, raw)
    if key == "severity" and isinstance(raw, int):
        return str(rcodes.SEVERITIES.get(raw, raw))
    codeset = codes or VALUES.get(key)
    if codeset is not None and isinstance(raw, str):
        return rcodes.label(codeset, raw)
    if key == "name":
        return display_name(raw)
    return raw


def person(entry: dict[str, Any]) -> str:
    """A person named in a report ({name, user_id}) as their name."""
    return str(display_name(entry.get("name")) or "")
