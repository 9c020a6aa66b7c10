"""Deleting a report for good (retention): reporting's own rows, nothing else.

The report's data key is destroyed (crypto-shredding): its wrapped form is replaced by
an empty value, so nothing sealed under it, here, in the case, in a backup or in a dead
PostgreSQL tuple, can be opened again. The sealed columns, attachments and their chunks,
the anonymous receipt and the identifying parts of the report's audit entries are
deleted as well. The class S columns stay: statistics do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import delete, select

from reporting import people_index
from reporting.anonymous.receipts import report_tag
from reporting.models import (
    SEALED_FIELDS,
    AnonymousReceipt,
    Attachment,
    AttachmentChunk,
    Report,
    ReportPerson,
)
from trygg import audit
from trygg.extensions import db

# What a destroyed key is stored as: no key-encryption key unwraps it.
SHREDDED = b""


def erase_report(report: Report, *, month: date) -> dict[str, int]:
    """Destroy the report's key and sealed content; return counts of what went."""
    attachment_ids = select(Attachment.id).where(Attachment.report_id == report.id)
    chunks = db.session.execute(
        delete(AttachmentChunk).where(AttachmentChunk.attachment_id.in_(attachment_ids))
    ).rowcount  # type: ignore[attr-defined]
    files = db.session.execute(delete(Attachment).where(Attachment.report_id == report.id)).rowcount  # type: ignore[attr-defined]
    receipts = db.session.execute(
        delete(AnonymousReceipt).where(AnonymousReceipt.report_tag == report_tag(report.id))
    ).rowcount  # type: ignore[attr-defined]
    people_index.forget(report.id)
    for name in SEALED_FIELDS:
        report.set_sealed(name, None)
    report.wrapped_key = SHREDDED
    report.owner_tag = None
    report.erased_month = month
    db.session.expire(report, ["attachments"])
    entries = audit.erase("report", report.id)
    db.session.flush()
    return {
        "attachments": int(files or 0),
        "chunks": int(chunks or 0),
        "receipts": int(receipts or 0),
        "audit_entries": entries,
    }


def _reports_naming_account(user_id: int) -> Iterator[Report]:
    """The live reports that may hold the user's name: those the people index says name
    them as reporter, exposed or witness (a counterpart is named by id only), and those
    not indexed yet, which only opening tells. Not every report of the organisation."""
    named = select(ReportPerson.report_id).where(
        ReportPerson.person_tag == people_index.person_tag(user_id),
        ReportPerson.role.in_(("exposed", "witnesses", "reporter")),
    )
    live = Report.erased_month.is_(None)
    yield from db.session.scalars(
        select(Report).where(live, Report.people_index.is_not(None), Report.id.in_(named))
    )
    yield from db.session.scalars(select(Report).where(live, Report.people_index.is_(None)))


def pseudonymise_user(user_id: int, label: str) -> int:
    """Replace a user's name by `label` wherever a report names them by their account
    (as reporter or person involved); the user id stays, so the cases stay whole.
    Returns the number of reports changed. The reports are found by the people index."""
    from reporting import service

    changed = 0
    for report in _reports_naming_account(user_id):
        key = service.data_key(report)
        touched = False
        people = service._open(key, report, "people", as_json=True)  # noqa: SLF001 - own package
        for role in ("exposed", "witnesses"):
            for person in (people or {}).get(role, []):
                if person.get("user_id") == user_id and person.get("name") != label:
                    person["name"] = label
                    touched = True
        reporter = service._open(key, report, "reporter", as_json=True)  # noqa: SLF001
        if reporter and reporter.get("user_id") == user_id and reporter.get("name") != label:
            reporter["name"] = label
            report.set_sealed("reporter", service.seal_value(key, report.id, "reporter", reporter))
            touched = True
        if touched:
            report.set_sealed("people", service.seal_value(key, report.id, "people", people))
            changed += 1
    db.session.flush()
    return changed
