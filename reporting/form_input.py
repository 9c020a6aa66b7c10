"""The report form's input: its fields as ReportSchema loads them (the API sends the same
as JSON), its errors on the inputs they are about and in the form's order, what it says
of its files, and the same form recognised when it is sent again.

The pages around it are in `reporting/views.py`; the anonymous form reuses its limits
and its "not sent" page.
"""

from __future__ import annotations

import json
import re
import time as clock
from datetime import date, datetime, time
from typing import Any

from flask import current_app, request, session
from werkzeug.datastructures import MultiDict

from reporting import service
from reporting.schemas import ReportSchema
from trygg import crypto, keys
from trygg.i18n import gettext as _
from trygg.validation import (
    REQUIRED,
    as_choices,
    in_form_order,
    translate_errors,
    translate_message,
)

# The form's and the API's (reporting/api.py): built once, since a schema instance keeps
# no state between loads and building one per request costs more than loading with it.
REPORT_SCHEMA = ReportSchema()


def _as_int(value: str) -> int | str:
    """A whole number, or the text unchanged so the schema names the error."""
    try:
        return int(value.strip())
    except ValueError:
        return value


def _occurred_at(day: str, clock: str) -> str | None:
    """Date and time typed in Oslo time → ISO 8601 with the Oslo offset of that moment.

    Unparseable input is passed on as typed, so the schema refuses it in its own words;
    a date or time left out makes the answer missing (not invalid).
    """
    if not day or not clock:
        return None
    try:
        moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError:
        return f"{day}T{clock}"
    return moment.replace(tzinfo=service.OSLO).isoformat()


def form_to_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as the dict ReportSchema loads (the API sends the same as JSON).

    Lists come from getlist, checkboxes and radios become booleans, whole numbers are
    parsed, and empty text becomes None (left out for required fields, so the message
    says the field is required).
    """

    def text(name: str) -> str | None:
        # Line breaks arrive as LF, as the browser counted them (trygg/uploads.py).
        value = form.get(name, "")
        return value if value.strip() else None

    def number(name: str) -> int | str | None:
        value = form.get(name, "").strip()
        return _as_int(value) if value else None

    choice = {"yes": True, "no": False}
    data: dict[str, Any] = {
        "incident_types": [v for v in form.getlist("incident_types") if v],
        "occurred_at": _occurred_at(
            form.get("occurred_date", "").strip(), form.get("occurred_time", "").strip()
        ),
        "unit_id": number("unit_id"),
        "place_type": text("place_type"),
        "channel": text("channel"),
        "counterpart_category": text("counterpart_category"),
        "counterpart_identity": text("counterpart_identity"),
        "lone_work": choice.get(form.get("lone_work", "")),
        "activity": text("activity"),
        "severity": number("severity"),
        "injury_level": text("injury_level"),
        "serious_injury": bool(form.get("serious_injury")),
        "injury_description": text("injury_description"),
        "sick_leave": text("sick_leave"),
        "sick_leave_days": number("sick_leave_days"),
        "police_report": text("police_report"),
        "police_details": text("police_details"),
        "immediate_measures": [v for v in form.getlist("immediate_measures") if v],
        "immediate_measures_text": text("immediate_measures_text"),
        "narrative": text("narrative"),
        "causes": [v for v in form.getlist("causes") if v],
        "causes_text": text("causes_text"),
        "witnesses": [{"name": v} for v in form.getlist("witness") if v.strip()],
        "on_behalf_of_user_id": number("on_behalf_of_user_id"),
        "must_not_handle": [_as_int(v) for v in form.getlist("must_not_handle") if v],
    }
    confidential = form.get("confidential", "")
    if confidential:
        data["confidential"] = {"confidential": True, "named": False}.get(
            confidential, confidential
        )
    fields = REPORT_SCHEMA.fields
    for name in [n for n, v in data.items() if v is None]:
        # A required field left empty is "missing"; an optional one falls to its default.
        if fields[name].required or fields[name].load_default is not None:
            del data[name]
    return data


# The form's inputs from top to bottom: the error summary lists problems in this order.
FORM_ORDER = (
    "_request",
    "incident_types",
    "channel",
    "occurred_date",
    "occurred_time",
    "unit_id",
    "place_type",
    "activity",
    "lone_work",
    "counterpart_category",
    "counterpart_identity",
    "counterpart_user_id",
    "severity",
    "injury_level",
    "serious_injury",
    "injury_description",
    "sick_leave",
    "sick_leave_days",
    "police_report",
    "police_details",
    "immediate_measures",
    "immediate_measures_text",
    "narrative",
    "causes",
    "causes_text",
    "witnesses",
    "exposed",
    "on_behalf_of_user_id",
    "must_not_handle",
    "confidential",
    "attachments",
)


# The inputs that are lists or groups of buttons (in both report forms): a required one
# left empty asks the reporter to choose, not to fill in (validation.as_choices).
CHOICE_FIELDS = (
    "incident_types",
    "channel",
    "unit_id",
    "place_type",
    "activity",
    "lone_work",
    "counterpart_category",
    "severity",
    "injury_level",
    "sick_leave",
    "police_report",
    "immediate_measures",
    "causes",
    "on_behalf_of_user_id",
    "must_not_handle",
    "confidential",
)


def field_errors(errors: dict[str, list[str]], form: MultiDict[str, str]) -> dict[str, list[str]]:
    """Errors keyed by form input (the date or the time for `occurred_at`), in form order."""
    out = as_choices(errors, CHOICE_FIELDS)
    when = out.pop("occurred_at", None)
    if when:
        out.update(_when_errors(form, when))
    return in_form_order(out, FORM_ORDER)


def _when_errors(form: MultiDict[str, str], refused: list[str]) -> dict[str, list[str]]:
    """The schema's refusal of `occurred_at`, on the input each problem is about.

    The schema sees one moment, or none when the date or the time is missing or cannot
    be read; the form has two inputs, and each is checked on its own so that both
    problems are named in one round (a future date and a missing time; no date and no
    time). A moment that was read and refused is about the date (ten years back, a
    future day) unless the date is today: then it is the time that lies ahead.
    """
    day_text = form.get("occurred_date", "").strip()
    clock_text = form.get("occurred_time", "").strip()
    out: dict[str, list[str]] = {}
    day: date | None = None
    clock: time | None = None
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        out["occurred_date"] = [
            _("Enter a valid date.") if day_text else translate_message(REQUIRED)
        ]
    try:
        clock = time.fromisoformat(clock_text)
    except ValueError:
        out["occurred_time"] = [
            _("Enter a valid time.") if clock_text else translate_message(REQUIRED)
        ]
    if day is not None and clock is not None:
        today = datetime.now(service.OSLO).date()
        out["occurred_time" if day == today else "occurred_date"] = refused
    elif day is not None:
        # The date alone, at its first minute, by the schema's own rules: a day in the
        # future or more than ten years back is said now, not after the time is given.
        start = datetime.combine(day, time()).replace(tzinfo=service.OSLO).isoformat()
        found = REPORT_SCHEMA.validate({"occurred_at": start}, partial=True)
        if found.get("occurred_at"):
            out["occurred_date"] = translate_errors(found["occurred_at"])
    return out


# -- what the form says of its files ---------------------------------------------------


def upload_limits() -> dict[str, int]:
    """What a report form says of its files up front, in MB where it is a size: how
    many (`n`), each (`mb`), and all together (`total`), which is also the most the
    request body may carry (max_content_length) however the files are split."""
    cfg = current_app.config["TRYGG"]
    count, size = int(cfg["attachment_max_count"]), int(cfg["attachment_max_bytes"])
    total = min(count * size, int(current_app.config["MAX_CONTENT_LENGTH"]))
    return {"n": count, "mb": size // 1_000_000, "total": total // 1_000_000}


def not_sent_context() -> dict[str, Any]:
    """What the "not sent" page (`reporting/not_sent.html`) says of a body too large.

    The body was never read (werkzeug refuses it by its length, or stops at
    MAX_FORM_MEMORY_SIZE), so nothing typed can be shown again: the page says that
    nothing was sent and sends the reporter Back, where the browser has usually kept
    the form as it was. `files`: the body was larger than any report may be, which
    only files make it.
    """
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    return {"files": (request.content_length or 0) > limit, "limits": upload_limits()}


# -- the same form sent again ------------------------------------------------------------


def submission_key(form: MultiDict[str, str]) -> str | None:
    """The form's token (`reporting.views._defaults`), if it looks like one: the same
    form sent twice (a reload, a double click, two tabs) is one report."""
    key = form.get("form_id", "")
    return key if 16 <= len(key) <= 64 and _TOKEN.fullmatch(key) else None


_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


# Back after sending brings the form again: the page is not cached, so the browser
# fetches a new one (a new token) and fills in what was typed. Sent again, the same
# text from the same browser within RESENT_WITHIN seconds is the report already stored.
# The session keeps its id and a keyed digest of the form, never the text.
SENT = "report_sent"
RESENT_WITHIN = 30 * 60


def content_digest(form: MultiDict[str, str]) -> str:
    """A keyed digest of what the form says (not its token or CSRF token; files are
    not restored by a browser, so they are not part of it)."""
    said = sorted((k, v) for k, v in form.items(multi=True) if k not in ("csrf_token", "form_id"))
    secret = keys.keyring().derive("report-form-sent")
    return crypto.keyed_hash(secret, json.dumps(said, ensure_ascii=False))[:32]


def remember_sent(report_id: int, digest: str) -> None:
    """This browser sent the report `report_id` with a form whose digest is `digest`."""
    session[SENT] = {"id": report_id, "digest": digest, "at": int(clock.time())}


def resent(digest: str) -> int | None:
    """The report this browser sent with the same form lately, if there is one."""
    last = session.get(SENT)
    if not isinstance(last, dict) or last.get("digest") != digest:
        return None
    fresh = clock.time() - int(last.get("at", 0)) < RESENT_WITHIN
    return int(last["id"]) if fresh and isinstance(last.get("id"), int) else None
