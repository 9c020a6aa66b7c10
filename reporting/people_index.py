"""The index of the accounts a report names, so that "which reports name this person as
the exposed employee" or "is this safety representative in conflict with any of these
cases" is an index lookup, not a decryption of every report.

A row holds the report id, the role and a keyed hash (HMAC-SHA256 with a key derived
from the keyring for this purpose alone) of the user id: the database alone cannot tell
who is named. The roles: exposed, witnesses, counterpart, and (since VERSION 2) the
reporter's own account and those the reporter said must not handle the case, so that
every conflict of interest `handling.service.routing.conflicts` finds can be found in SQL.
Written at intake; `report.people_index` says which version a report's rows are of;
`backfill` indexes reports stored before (`trygg retention index-people`, once after
upgrading: it opens each report's people once); removed with the report's content when
the report is erased.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, false, func, insert, select, update

from reporting.models import Report, ReportPerson
from trygg import crypto, keys
from trygg.extensions import db

ROLES = ("exposed", "witnesses", "counterpart", "reporter", "must_not_handle")
# What `report.people_index` holds for a report whose rows cover every role above.
VERSION = 2


def person_tag(user_id: int) -> str:
    """The keyed hash standing for a user id in the index."""
    return crypto.keyed_hash(keys.keyring().derive("report-person"), f"user:{user_id}")


def _rows(
    report_id: int, people: dict[str, Any], reporter_id: int | None, must_not_handle: Iterable[int]
) -> list[dict[str, Any]]:
    named: set[tuple[str, int]] = set()
    for role in ("exposed", "witnesses"):
        named |= {(role, p["user_id"]) for p in people.get(role) or [] if p.get("user_id")}
    if people.get("counterpart_user_id"):
        named.add(("counterpart", people["counterpart_user_id"]))
    if reporter_id:
        named.add(("reporter", reporter_id))
    named |= {("must_not_handle", int(user_id)) for user_id in must_not_handle}
    return [
        {"report_id": report_id, "role": role, "person_tag": person_tag(user_id)}
        for role, user_id in sorted(named)
    ]


def index_people(
    report_id: int,
    people: dict[str, Any],
    *,
    reporter_id: int | None,
    must_not_handle: Iterable[int] = (),
) -> int:
    """Record the accounts a report names: its people field, its reporter's account and
    those who must not handle it (one INSERT, none if nobody). The caller records
    `report.people_index = VERSION`."""
    rows = _rows(report_id, people, reporter_id, must_not_handle)
    if rows:
        db.session.execute(insert(ReportPerson), rows)
    return len(rows)


def forget(report_id: int) -> None:
    """Remove a report's rows (its content is being erased)."""
    db.session.execute(delete(ReportPerson).where(ReportPerson.report_id == report_id))


def names(report_id: Any, roles: Iterable[str], user_ids: Iterable[int]) -> ColumnElement[bool]:
    """SQL: the report whose id is `report_id` (a column) names one of these accounts in
    one of these roles, by the index (only as complete as `report.people_index` says)."""
    tags = sorted({person_tag(user_id) for user_id in user_ids})
    if not tags:
        return false()
    return exists().where(
        ReportPerson.report_id == report_id,
        ReportPerson.role.in_(sorted(roles)),
        ReportPerson.person_tag.in_(tags),
    )


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


def unindexed_count() -> int:
    """How many reports are not indexed yet (by the partial index: fast however many)."""
    query = select(func.count()).select_from(Report).where(Report.people_index.is_(None))
    return int(db.session.scalar(query) or 0)


def backfill(batch: int = 200) -> Iterable[int]:
    """Index every report not indexed yet (`people_index` None: reports from before the
    index, or before its last roles), a batch at a time: its old rows go, every role's
    are written; yields the number done after each batch. The caller commits. A report
    retention deleted names no one any more (its key is shredded, nothing is opened): it
    is recorded as indexed with no rows, so that none is left to index."""
    from reporting.service.base import _open, data_key

    last = 0
    while True:
        reports = list(
            db.session.scalars(
                select(Report)
                .where(Report.id > last, Report.people_index.is_(None))
                .order_by(Report.id)
                .limit(batch)
                # Locked until the caller commits the batch: retention cannot delete a
                # report between its reading here and its rows' writing (PostgreSQL;
                # SQLite runs one writer at a time).
                .with_for_update(of=Report)
            )
        )
        if not reports:
            return
        rows: list[dict[str, Any]] = []
        for report in reports:
            if report.erased_month is not None:
                continue  # nothing left to open: indexed with no rows
            key = data_key(report)
            people = _open(key, report, "people", as_json=True) or {}
            reporter = _open(key, report, "reporter", as_json=True) or {}
            must_not = _open(key, report, "must_not_handle", as_json=True) or []
            rows += _rows(report.id, people, reporter.get("user_id"), must_not)
        # The batch's old rows go, its new ones come, and it is marked: three statements.
        ids = [report.id for report in reports]
        db.session.execute(delete(ReportPerson).where(ReportPerson.report_id.in_(ids)))
        if rows:
            db.session.execute(insert(ReportPerson), rows)
        db.session.execute(
            update(Report)
            .where(Report.id.in_(ids))
            .values(people_index=VERSION)
            .execution_options(synchronize_session=False)
        )
        last = reports[-1].id
        yield len(reports)
