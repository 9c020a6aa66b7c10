"""The class-S dimensions a trend can be broken down by, with their categories and labels.

Each dimension reads one clear-text column of reports or cases (DOMAIN.md, class S). A
single-valued dimension puts every report in exactly one category (a missing value is
"not given"), so its categories add up to the total; a several-valued one (incident
types, presumed causes) may put a report in several.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString

from handling import codes as hcodes
from handling.states import CaseState
from reporting import codes as rcodes
from trygg.i18n import lazy_gettext as _l

NOT_GIVEN = "not_given"

YES_NO: dict[str, LazyString] = {"yes": _l("Yes"), "no": _l("No")}

STATE_GROUPS: dict[str, LazyString] = {
    CaseState.IN_PROGRESS: _l("Being handled"),
    CaseState.FORWARDED: _l("Forwarded"),
    CaseState.CLOSED: _l("Closed"),
    CaseState.DROPPED: _l("Dropped"),
}

# Case states (handling's workflow) by the group statistics show.
# Every other state is "being handled".
STATE_GROUP_OF: dict[str, str] = {
    s: s for s in (CaseState.CLOSED, CaseState.DROPPED, CaseState.FORWARDED)
}

DEADLINE_OUTCOMES: dict[str, LazyString] = {
    "in_time": _l("Done in time"),
    "late": _l("Done late"),
    "not_done": _l("Not done"),
    "none": _l("No such step"),
}


@dataclass(frozen=True)
class Dimension:
    code: str
    label: LazyString
    categories: dict[str, LazyString]
    multi: bool = False
    # "report" columns, "type" rows, "cause" list, "case" columns, "deadline" rows
    source: str = "report"
    column: str = ""

    @property
    def columns(self) -> list[str]:
        return list(self.categories)

    def category_label(self, code: str) -> str:
        found = self.categories.get(code)
        return str(found) if found is not None else code


def _with_not_given(codes: dict[str, LazyString]) -> dict[str, LazyString]:
    return {**codes, NOT_GIVEN: _l("Not given")}


DIMENSIONS: dict[str, Dimension] = {
    d.code: d
    for d in (
        Dimension(
            "type", _l("Type of incident"), dict(rcodes.INCIDENT_TYPES), multi=True, source="type"
        ),
        Dimension("place", _l("Place"), dict(rcodes.PLACE_TYPES), column="place_type"),
        Dimension(
            "counterpart",
            _l("Who it came from"),
            dict(rcodes.COUNTERPARTS),
            column="counterpart_category",
        ),
        Dimension(
            "time_band", _l("Time of day"), _with_not_given(rcodes.TIME_BANDS), column="time_band"
        ),
        Dimension("channel", _l("Channel"), _with_not_given(rcodes.CHANNELS), column="channel"),
        Dimension("lone_work", _l("Working alone"), _with_not_given(YES_NO), column="lone_work"),
        Dimension(
            "activity", _l("Activity"), _with_not_given(rcodes.ACTIVITIES), column="activity"
        ),
        Dimension(
            "severity",
            _l("Severity"),
            {str(k): v for k, v in rcodes.SEVERITIES.items()},
            column="severity",
        ),
        Dimension("injury", _l("Injury"), dict(rcodes.INJURY_LEVELS), column="injury_level"),
        Dimension("sick_leave", _l("Sick leave"), dict(YES_NO), column="has_sick_leave"),
        Dimension(
            "police", _l("Police report"), dict(rcodes.POLICE_REPORT), column="police_report"
        ),
        Dimension(
            "cause",
            _l("Presumed causes"),
            {**rcodes.CAUSES, "none": _l("None given")},
            multi=True,
            source="cause",
        ),
        Dimension(
            "track", _l("Track"), _with_not_given(hcodes.TRACKS), source="case", column="track"
        ),
        Dimension("state", _l("State of the case"), STATE_GROUPS, source="case", column="state"),
        Dimension(
            "section_5_2",
            _l("Serious injury (section 5-2)"),
            dict(YES_NO),
            source="case",
            column="section_5_2",
        ),
        Dimension(
            "acknowledged",
            _l("Acknowledged within the deadline"),
            DEADLINE_OUTCOMES,
            source="deadline",
            column="acknowledge",
        ),
        Dimension(
            "leader_contact",
            _l("Leader contact in time"),
            DEADLINE_OUTCOMES,
            source="deadline",
            column="leader_contact",
        ),
        Dimension(
            "recontact",
            _l("Re-contact done"),
            DEADLINE_OUTCOMES,
            source="deadline",
            column="recontact",
        ),
    )
}

# Shown as bar charts on the trends page, in this order.
CHARTED = ("type", "counterpart", "place", "time_band")
# Whose share "in time" the page shows.
DEADLINE_DIMENSIONS = ("acknowledged", "leader_contact", "recontact")


def normalise(dimension: Dimension, raw: object) -> str:
    """A database value as the dimension's category code."""
    if dimension.code == "state":
        return STATE_GROUP_OF.get(str(raw), CaseState.IN_PROGRESS)
    if raw is None:
        return NOT_GIVEN if NOT_GIVEN in dimension.categories else "no"
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    code = str(raw)
    if code not in dimension.categories and NOT_GIVEN in dimension.categories:
        return NOT_GIVEN
    return code
