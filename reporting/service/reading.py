"""Reading reports: one's own reports, a report opened (audited), the people it names,
an attachment opened (audited), the reporter-visible status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select

from reporting.codes import Channel
from reporting.errors import ReportNotFound
from reporting.models import (
    Attachment,
    Report,
    ReportIncidentType,
)
from reporting.service.attachments import attachment_name, attachment_stream, saved_name
from reporting.service.base import OSLO, ReportContent, StoredFile, _open, data_key, owner_tag
from trygg import audit, crypto, keys, paging, sealing
from trygg.accounts.models import User
from trygg.accounts.names import display_name
from trygg.downloads import Download
from trygg.extensions import db
from trygg.ids import ID_MAX

# -- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    """One row of "My reports": what the list shows, read as columns (no ORM object,
    nothing sealed)."""

    id: int
    reference: str
    created_at: datetime
    status: str
    confidential: bool
    incident_types: list[str]


def own_report_ids(user: User) -> list[int]:
    """The ids of all the user's own reports (one statement, by the owner index)."""
    return list(db.session.scalars(select(Report.id).where(Report.owner_tag == owner_tag(user))))


def reports_of(
    user: User, *, limit: int = paging.DEFAULT_PAGE_SIZE, after: tuple[Any, ...] | None = None
) -> paging.Page[ReportLine]:
    """A page of the user's own reports, newest first; `after` is the last one's (id,).
    One statement: the page of reports, with their types of incident joined to it."""
    page = (
        select(Report.id, Report.reference, Report.created_at, Report.status, Report.confidential)
        .where(Report.owner_tag == owner_tag(user))
        .order_by(Report.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        page = page.where(Report.id < after[0])
    listed = page.subquery()
    kind = ReportIncidentType
    rows = db.session.execute(
        select(listed, kind.incident_type)
        .outerjoin(kind, kind.report_id == listed.c.id)
        .order_by(listed.c.id.desc(), kind.incident_type)
    )
    lines: dict[int, ReportLine] = {}
    for report_id, reference, created_at, status, confidential, incident_type in rows:
        line = lines.get(report_id)
        if line is None:
            line = lines[report_id] = ReportLine(
                report_id, reference, created_at, status, bool(confidential), []
            )
        if incident_type is not None:
            line.incident_types.append(incident_type)
    return paging.page_of(list(lines.values()), limit, lambda r: (r.id,))


MAX_ID = ID_MAX  # what an id column holds (trygg.ids)


def get_report(report_id: int) -> Report | None:
    # Ids beyond 32 bits (from a URL) would make the database driver fail, not miss.
    if not 0 < report_id <= MAX_ID:
        return None
    return db.session.get(Report, report_id)


def own_report(user: User, report_id: int) -> Report:
    """One of the user's own reports; ReportNotFound for anyone else's or none."""
    report = get_report(report_id)
    if report is None or report.owner_tag is None or report.owner_tag != owner_tag(user):
        raise ReportNotFound()
    return report


def is_owner(user: User, report: Report) -> bool:
    return report.owner_tag is not None and report.owner_tag == owner_tag(user)


def _occurred(text: str | None) -> datetime | None:
    """When it happened. An anonymous report keeps only the day ("2026-11-30"): that is
    midnight in Oslo, like every other time the anonymous link keeps, never a naive
    midnight that a page would show as 01:00 (UTC read as Oslo time)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if len(text) == DAY_ONLY:
        return datetime.combine(moment.date(), time(), tzinfo=OSLO).astimezone(UTC)
    return moment


# The length of an ISO date without a time ("2026-11-30").
DAY_ONLY = 10


def _shown(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """People as shown: an erased account's marker becomes "Former employee"."""
    return [{**p, "name": display_name(p.get("name"))} for p in people]


def open_report(report: Report, *, actor: str, part: str = "report") -> ReportContent:
    """Decrypt a report's sealed fields; writes an audit entry (who, which, what part)."""
    key = data_key(report)
    sick = _open(key, report, "sick_leave", as_json=True) or {"kind": "none", "days": None}
    people = _open(key, report, "people", as_json=True) or {}
    occurred_text = _open(key, report, "occurred_at")
    fields = {
        "occurred_at": _occurred(occurred_text),
        "counterpart_identity": _open(key, report, "counterpart_identity"),
        "counterpart_user_id": people.get("counterpart_user_id"),
        "injury_description": _open(key, report, "injury_description"),
        "sick_leave": sick["kind"],
        "sick_leave_days": sick.get("days"),
        "police_details": _open(key, report, "police_details"),
        "immediate_measures_text": _open(key, report, "immediate_measures_text"),
        "narrative": _open(key, report, "narrative") or "",
        "causes_text": _open(key, report, "causes_text"),
        "exposed": _shown(people.get("exposed", [])),
        "witnesses": _shown(people.get("witnesses", [])),
    }
    files = [
        StoredFile(a.id, attachment_name(report, a), a.content_type, a.size)
        for a in report.attachments
    ]
    audit.record(
        "report.read", actor=actor, object_type="report", object_id=report.id, detail={"part": part}
    )
    return ReportContent(report=report, fields=fields, attachments=files)


def exposed_names(report: Report, *, actor: str, part: str) -> list[str]:
    """The names of the people the report names as exposed, and nothing else of it (for
    someone who must contact them); audited as a reading of that part of the report.

    Never a confidential reporter's own name (reporting for oneself makes one the exposed
    employee): they were told that only the case's assigned handler sees who they are."""
    key = data_key(report)
    people = _open(key, report, "people", as_json=True) or {}
    hidden = None
    if report.confidential:
        hidden = (_open(key, report, "reporter", as_json=True) or {}).get("user_id")
    audit.record(
        "report.read", actor=actor, object_type="report", object_id=report.id, detail={"part": part}
    )
    return [
        str(p["name"])
        for p in people.get("exposed", [])
        if p.get("name") and (hidden is None or p.get("user_id") != hidden)
    ]


def reporter_identity(report: Report) -> dict[str, Any] | None:
    """The sealed reporter record ({user_id, name}); callers decide who may see it."""
    return _open(data_key(report), report, "reporter", as_json=True)


@dataclass(frozen=True)
class PeopleNamed:
    """Who a report names, for conflict-of-interest checks and the follow-up duty.

    `user_ids`: user ids by role (exposed, witnesses, counterpart, must_not_handle,
    reporter). `has_exposed`: someone is named as exposed, by account or by name only.
    """

    user_ids: dict[str, set[int]]
    has_exposed: bool


def people_named(report: Report) -> PeopleNamed:
    """The people a report names, its sealed fields opened once (system use, no audit:
    nothing of it leaves the caller's service but user ids and one yes or no)."""
    key = data_key(report)
    people = _open(key, report, "people", as_json=True) or {}
    must_not = _open(key, report, "must_not_handle", as_json=True) or []
    reporter = _open(key, report, "reporter", as_json=True) or {}
    user_ids = {
        "exposed": {p["user_id"] for p in people.get("exposed", []) if p.get("user_id")},
        "witnesses": {p["user_id"] for p in people.get("witnesses", []) if p.get("user_id")},
        "counterpart": {people["counterpart_user_id"]}
        if people.get("counterpart_user_id")
        else set(),
        "must_not_handle": set(must_not),
        "reporter": {reporter["user_id"]} if reporter.get("user_id") else set(),
    }
    return PeopleNamed(user_ids=user_ids, has_exposed=bool(people.get("exposed")))


def involved_user_ids(report: Report) -> dict[str, set[int]]:
    """User ids named in the report, by role (for conflict-of-interest checks)."""
    return people_named(report).user_ids


def open_attachment(
    report: Report, attachment_id: int, *, actor: str
) -> tuple[StoredFile, Iterator[bytes]]:
    """An attachment's name, type and size, and its decrypted content as a stream.

    Writes an audit entry (who, which report, which file). ReportNotFound if the report
    has no such attachment; CryptoError (while streaming) if anything was altered.
    """
    attachment = find_attachment(report, attachment_id)
    info = StoredFile(
        attachment.id,
        attachment_name(report, attachment),
        attachment.content_type,
        attachment.size,
    )
    audit.record(
        "report.read",
        actor=actor,
        object_type="report",
        object_id=report.id,
        detail={"part": "attachment", "attachment": attachment.id},
    )
    return info, attachment_stream(report, attachment)


def find_attachment(report: Report, attachment_id: int) -> Attachment:
    for attachment in report.attachments:
        if attachment.id == attachment_id:
            return attachment
    raise ReportNotFound()


def set_status(report: Report, status: str) -> None:
    """Update the reporter-visible status (called by case handling)."""
    report.status = status
    db.session.flush()


def attachment_download(report: Report, attachment_id: int, *, actor: str) -> Download:
    """An attachment to send as a download (`trygg.downloads.sealed_download`): opened
    and audited as `open_attachment`, saved under a name whose extension is its type."""
    info, stream = open_attachment(report, attachment_id, actor=actor)
    return Download(saved_name(info.name, info.content_type), info.size, stream)


@dataclass(frozen=True)
class NameSearch:
    """The reports among those asked whose names a handler sees contain the text, and
    how many reports were opened to find them (at most the limit given)."""

    report_ids: set[int]
    searched: int
    capped: bool


def reports_naming(text: str, among: Any, *, limit: int) -> NameSearch:
    """Reports, of the ids `among` selects (a SELECT of report ids), that name a person
    whose name contains `text` (case-insensitive), newest `limit` reports first.

    The names are those a case handler sees: the exposed people, and the reporter of a
    named report (never of an anonymous or confidential one). Only `reporter` and
    `people` are opened, one data key per report; nothing opened leaves this function
    but report ids. The caller audits what it shows.
    """
    needle = text.casefold()
    rows = db.session.execute(
        select(
            Report.id,
            Report.wrapped_key,
            Report.channel_kind,
            Report.confidential,
            Report.reporter_sealed,
            Report.people_sealed,
        )
        .where(Report.id.in_(among))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit + 1)
    ).all()
    ring = keys.keyring()
    found: set[int] = set()
    for row in rows[:limit]:
        key = ring.unwrap(row.wrapped_key)
        anonymous = row.channel_kind == Channel.ANONYMOUS
        reporter = {} if anonymous else _opened(key, row.id, "reporter", row.reporter_sealed)
        # A confidential reporter is not found by their name, also where reporting for
        # themselves made them the exposed employee.
        hidden = reporter.get("user_id") if row.confidential else None
        names = [
            p.get("name") or ""
            for p in _opened(key, row.id, "people", row.people_sealed).get("exposed", [])
            if hidden is None or p.get("user_id") != hidden
        ]
        if not anonymous and not row.confidential:
            names.append(reporter.get("name") or "")
        if any(needle in name.casefold() for name in names):
            found.add(row.id)
    return NameSearch(found, min(len(rows), limit), len(rows) > limit)


def _opened(key: crypto.DataKey, report_id: int, name: str, blob: bytes | None) -> dict[str, Any]:
    if blob is None:
        return {}
    value = json.loads(sealing.open_text(key, Report, name, blob, row=report_id))
    return value if isinstance(value, dict) else {}
