"""The index of the accounts a report names, so that "which reports name this person as
the exposed employee" is an index lookup, not a decryption of every report.

A row holds the report id, the role and a keyed hash (HMAC-SHA256 with a key derived
from the keyring for this purpose alone) of the user id: the database alone cannot tell
who is named. Written at intake; `backfill` indexes reports stored before the index
existed (`trygg retention index-people`, once after upgrading: it opens each report's
people once); removed with the report's content when the report is erased.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select

from reporting.models import Report, ReportPerson
from trygg import crypto, keys
from trygg.extensions import db

ROLES = ("exposed", "witnesses", "counterpart")


def person_tag(user_id: int) -> str:
    """The keyed hash standing for a user id in the index."""
    return crypto.keyed_hash(keys.keyring().derive("report-person"), f"user:{user_id}")


def _rows(report_id: int, people: dict[str, Any]) -> list[dict[str, Any]]:
    named: set[tuple[str, int]] = set()
    for role in ("exposed", "witnesses"):
        named |= {(role, p["user_id"]) for p in people.get(role) or [] if p.get("user_id")}
    if people.get("counterpart_user_id"):
        named.add(("counterpart", people["counterpart_user_id"]))
    return [
        {"report_id": report_id, "role": role, "person_tag": person_tag(user_id)}
        for role, user_id in sorted(named)
    ]


def index_people(report_id: int, people: dict[str, Any]) -> int:
    """Record the accounts a report's people field names (one INSERT, none if nobody)."""
    rows = _rows(report_id, people)
    if rows:
        db.session.execute(insert(ReportPerson), rows)
    return len(rows)


def forget(report_id: int) -> None:
    """Remove a report's rows (its content is being erased)."""
    db.session.execute(delete(ReportPerson).where(ReportPerson.report_id == report_id))


def reports_naming(user_id: int, role: str) -> list[int]:
    """The ids of live reports that name the user in `role`, by the index."""
    return list(
        db.session.scalars(
            select(ReportPerson.report_id)
            .join(Report, Report.id == ReportPerson.report_id)
            .where(
                ReportPerson.person_tag == person_tag(user_id),
                ReportPerson.role == role,
                Report.erased_month.is_(None),
            )
            .order_by(ReportPerson.report_id)
        )
    )


def backfill(batch: int = 200) -> Iterable[int]:
    """Index every live report not indexed yet (reports from before the index), a batch
    at a time; yields the number done after each batch. The caller commits."""
    from reporting.service.base import _open, data_key

    last = 0
    while True:
        indexed = select(ReportPerson.report_id).where(ReportPerson.report_id == Report.id)
        reports = list(
            db.session.scalars(
                select(Report)
                .where(Report.id > last, Report.erased_month.is_(None), ~indexed.exists())
                .order_by(Report.id)
                .limit(batch)
            )
        )
        if not reports:
            return
        for report in reports:
            people = _open(data_key(report), report, "people", as_json=True) or {}
            index_people(report.id, people)
        db.session.flush()
        last = reports[-1].id
        yield len(reports)
