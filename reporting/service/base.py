"""What the reporting operations share: the Oslo clock, the reporter's owner tag, the
report's data key and its sealed fields, and the shapes they return."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any, Protocol
from zoneinfo import ZoneInfo

from reporting.models import Report
from trygg import crypto, keys, sealing
from trygg.accounts.models import User
from trygg.extensions import utcnow

keys.register_wrapped_key_column(Report.wrapped_key)

OSLO = ZoneInfo("Europe/Oslo")
READ_CHUNK = 64 * 1024
STORE_CHUNK = 1024 * 1024


class Upload(Protocol):
    """What an uploaded file must offer (werkzeug's FileStorage does)."""

    @property
    def filename(self) -> str | None: ...

    @property
    def stream(self) -> IO[bytes]: ...


@dataclass(frozen=True)
class StoredFile:
    id: int
    name: str
    content_type: str
    size: int


@dataclass
class ReportContent:
    """A report with its sealed fields opened, for display."""

    report: Report
    fields: dict[str, Any]
    attachments: list[StoredFile] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "id": r.id,
            "reference": r.reference,
            "created_at": r.created_at,
            "incident_types": r.incident_types,
            "status": r.status,
            "confidential": r.confidential,
            "occurred_month": r.occurred_month,
            "time_band": r.time_band,
            "unit_id": r.unit_id,
            "place_type": r.place_type,
            "channel": r.channel,
            "counterpart_category": r.counterpart_category,
            "lone_work": r.lone_work,
            "activity": r.activity,
            "severity": r.severity,
            "injury_level": r.injury_level,
            "serious_injury": r.serious_injury,
            "police_report": r.police_report,
            "immediate_measures": r.immediate_measures,
            "causes": r.causes,
            "on_behalf": r.on_behalf,
            **self.fields,
            "attachments": [a.__dict__ for a in self.attachments],
        }


# -- time -------------------------------------------------------------------------------


def time_band(moment: datetime) -> str:
    """Day 07–15, evening 15–23, night 23–07, in Oslo time."""
    hour = moment.astimezone(OSLO).hour
    if 7 <= hour < 15:
        return "day"
    if 15 <= hour < 23:
        return "evening"
    return "night"


def month_of(moment: datetime) -> date:
    local = moment.astimezone(OSLO)
    return date(local.year, local.month, 1)


def start_of_day_utc(moment: datetime | None = None) -> datetime:
    """Midnight (Oslo) of the given moment's day, in UTC: the only time anonymous data keeps."""
    local = (moment or utcnow()).astimezone(OSLO)
    midnight = datetime(local.year, local.month, local.day, tzinfo=OSLO)
    return midnight.astimezone(UTC)


# -- owners and references --------------------------------------------------------------


def owner_tag(user: User) -> str:
    """A keyed hash naming the submitter; unlinkable to a user without the keyring."""
    return crypto.keyed_hash(keys.keyring().derive("report-owner"), f"user:{user.id}")


# -- sealing ----------------------------------------------------------------------------


# The data key submit_report made, kept on the Report object (a plain attribute, never
# stored) beside the wrapped key it belongs to, so the case opened in the same request
# does not unwrap it again. It is used only while the row still holds that wrapped key:
# a shredded or re-wrapped key is unwrapped (or refused) as usual.
_DATA_KEY_ATTR = "_trygg_data_key"


def data_key(report: Report) -> crypto.DataKey:
    cached = getattr(report, _DATA_KEY_ATTR, None)
    if cached is not None and report.wrapped_key is not None and cached[0] == report.wrapped_key:
        key: crypto.DataKey = cached[1]
        return key
    return keys.keyring().unwrap(report.wrapped_key)


def seal_value(key: crypto.DataKey, report_id: int, name: str, value: Any) -> bytes | None:
    """One field sealed for one report row (None for an empty value)."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return sealing.seal(key, Report, name, text, row=report_id)


def _open(key: crypto.DataKey, report: Report, name: str, as_json: bool = False) -> Any:
    blob = report.sealed(name)
    if blob is None:
        return None
    text = sealing.open_text(key, report, name, blob)
    return json.loads(text) if as_json else text
