"""Submitting a report: references, people to pick from, the report sealed and stored
in a few statements, its attachments, the signal that opens its case.

Everything a report holds that is not coarse classification is sealed here, with the
report's own data key, before it reaches the session. Operations add and flush; the
request (or CLI command) commits once, so a failure anywhere leaves nothing behind."""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from reporting import codes
from reporting.errors import ReportError
from reporting.models import (
    SEALED_FIELDS,
    ReferenceCounter,
    Report,
    ReportIncidentType,
)
from reporting.service.attachments import check_upload, selected_files, store_attachment
from reporting.service.base import (
    _DATA_KEY_ATTR,
    OSLO,
    Upload,
    month_of,
    owner_tag,
    seal_value,
    start_of_day_utc,
    time_band,
)
from trygg import audit, keys, org, privacy
from trygg.accounts.models import Membership, User, UserRole
from trygg.database import stored
from trygg.extensions import db, utcnow
from trygg.signals import report_submitted

# -- references ------------------------------------------------------------------------


def next_reference(prefix: str, year: int) -> str:
    """The next sequential reference, e.g. AVV-2026-00042, safe under concurrency.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite) until commit,
    so two transactions never get the same number.
    """
    counter = ReferenceCounter.__table__  # Core: no ORM bulk-update work in the hot path
    bump = (
        update(counter)
        .where(counter.c.prefix == prefix, counter.c.year == year)
        .values(value=counter.c.value + 1)
        .returning(counter.c.value)
    )
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:
        # First report of the year: create the counter in a savepoint, so a concurrent
        # creator's unique-constraint win does not abort our transaction.
        with contextlib.suppress(IntegrityError), db.session.begin_nested():
            db.session.add(ReferenceCounter(prefix=prefix, year=year, value=0))
        value = db.session.execute(bump).scalar_one()
    return f"{prefix}-{year}-{value:05d}"


_SEALED_COLUMNS = {f"{name}_sealed": None for name in SEALED_FIELDS}


@functools.cache
def _statements() -> dict[str, Any]:
    """The intake's hot statements, built once with named parameters.

    A statement object reused is neither rebuilt nor re-keyed for SQLAlchemy's compiled
    cache on every report; that work cost more than the database round trip.
    """
    table = Report.__table__
    sealed: dict[str, Any] = {column: bindparam(f"v_{column}") for column in _SEALED_COLUMNS}
    # PostgreSQL: the counter's UPDATE as a CTE of the report's UPDATE. The new value is
    # formatted as f"{value:05d}" (zero-padded to five digits, never cut); a year without
    # a counter updates no row.
    assignments = ", ".join(f"{column} = :v_{column}" for column in _SEALED_COLUMNS)
    # The column names interpolated are the model's own constants (SEALED_FIELDS).
    take_and_write = text(
        "WITH bumped AS (UPDATE reference_counter SET value = value + 1"  # noqa: S608
        " WHERE prefix = :prefix AND year = :year RETURNING value)"
        " UPDATE report SET reference = :start || CASE WHEN bumped.value < 100000"
        " THEN lpad(CAST(bumped.value AS varchar), 5, '0')"
        " ELSE CAST(bumped.value AS varchar) END, "
        + assignments
        + " FROM bumped WHERE report.id = :report_id RETURNING report.reference"
    )
    return {
        "insert": insert(table).returning(table.c.id),
        "insert_types": insert(ReportIncidentType.__table__),
        "write": update(table)
        .where(table.c.id == bindparam("report_id"))
        .values({**sealed, "reference": bindparam("v_reference")}),
        "take_and_write": take_and_write,
    }


def _store_reference(report: Report, year: int, sealed: dict[str, Any]) -> str:
    """Take the report's reference and write it with its sealed fields; return it.

    On PostgreSQL a sequential reference is taken and written in one statement (the
    counter's UPDATE is a CTE of the report's UPDATE), unless the year has no counter
    yet: then, as on SQLite, next_reference takes it first.
    """
    statements = _statements()
    params = {f"v_{column}": value for column, value in {**_SEALED_COLUMNS, **sealed}.items()}
    params["report_id"] = report.id
    connection = db.session.connection()
    if not report.anonymous and connection.dialect.name == "postgresql":
        taken = connection.execute(
            statements["take_and_write"],
            {**params, "prefix": "AVV", "year": year, "start": f"AVV-{year}-"},
        ).scalar_one_or_none()
        if taken is not None:
            return str(taken)
    reference = random_reference("VAR", year) if report.anonymous else next_reference("AVV", year)
    connection.execute(statements["write"], {**params, "v_reference": reference})
    return reference


_REF_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"


def random_reference(prefix: str, year: int) -> str:
    """A non-sequential reference (anonymous reports: order within a day is not kept)."""
    while True:
        suffix = "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
        reference = f"{prefix}-{year}-{suffix}"
        if db.session.scalar(select(Report.id).where(Report.reference == reference)) is None:
            return reference


# -- people to pick from ---------------------------------------------------------------


def employees_led_by(manager: User) -> list[User]:
    """Active users in the units (and sub-units) the manager leads, not the manager."""
    unit_ids: set[int] = set()
    for unit in manager.managed_units:
        unit_ids |= org.subtree_ids(unit.id)
    if not unit_ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id != manager.id,
                User.id.in_(select(Membership.user_id).where(Membership.unit_id.in_(unit_ids))),
            )
            .order_by(User.name, User.id)
        )
    )


def handlers() -> list[User]:
    """Active case handlers, whom a reporter may name as people who must not handle."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(select(UserRole.user_id).where(UserRole.role == "handler")),
            )
            .order_by(User.name, User.id)
        )
    )


# -- submitting -------------------------------------------------------------------------


def _person(entry: dict[str, Any], field: str) -> dict[str, Any]:
    user_id = entry.get("user_id")
    name = (entry.get("name") or "").strip() or None
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None:
            raise ReportError(_l("Pick people from the list."), field=field)
        name = name or user.name
    return {"user_id": user_id, "name": name}


def _insert_report(row_id: int | None, values: dict[str, Any], incident_types: list[str]) -> Report:
    """INSERT a new report and its incident types (Core: no unit-of-work flush), and
    put the matching object in the session as already stored.

    Every column is given, so the object needs no read-back; the sealed columns start
    empty and are written with the reference at the end of submit_report. The
    reference starts as a unique stand-in until the real one is taken, last.
    """
    statements = _statements()
    row = {**values, **_SEALED_COLUMNS}
    if row_id is not None:
        row["id"] = row_id
    connection = db.session.connection()
    report_id = connection.execute(statements["insert"], row).scalar_one()
    connection.execute(
        statements["insert_types"],
        [{"report_id": report_id, "incident_type": t} for t in incident_types],
    )
    row["id"] = report_id
    type_rows = [
        stored(ReportIncidentType, {"report_id": report_id, "incident_type": t})
        for t in incident_types
    ]
    report = stored(Report, row)
    set_committed_value(report, "incident_type_rows", type_rows)
    set_committed_value(report, "attachments", [])
    db.session.add(report)  # attached as persistent (cascading to its types): no SQL
    return report


def submit_report(
    data: dict[str, Any],
    *,
    reporter: User | None,
    uploads: Iterable[Upload] = (),
) -> Report:
    """Validate references, seal and store a report with its attachments; signal it.

    `data` comes from ReportSchema (or the anonymous schema). `reporter` is None for the
    anonymous link. Raises ReportError when something must be fixed; files are checked
    one at a time while storing, so the caller must roll back (the request boundary
    does) and then nothing is stored.
    """
    anonymous = reporter is None
    files = selected_files(uploads)
    unit = None
    if data.get("unit_id") is not None:
        unit = org.get_unit(data["unit_id"])
        if unit is None:
            raise ReportError(_l("Choose a unit from the list."), field="unit_id")
    occurred: datetime = data["occurred_at"]
    on_behalf_of = None
    if data.get("on_behalf_of_user_id") is not None:
        if reporter is None or not reporter.has_role("manager"):
            raise ReportError(
                _l("Only a manager can report on behalf of an employee."),
                field="on_behalf_of_user_id",
            )
        on_behalf_of = db.session.get(User, data["on_behalf_of_user_id"])
        if on_behalf_of is None or on_behalf_of not in employees_led_by(reporter):
            raise ReportError(_l("Pick the employee from the list."), field="on_behalf_of_user_id")
    exposed = [_person(p, "exposed") for p in data.get("exposed", [])]
    witnesses = [_person(p, "witnesses") for p in data.get("witnesses", [])]
    if on_behalf_of is not None and all(p["user_id"] != on_behalf_of.id for p in exposed):
        exposed.insert(0, {"user_id": on_behalf_of.id, "name": on_behalf_of.name})
    if reporter is not None and on_behalf_of is None and not exposed:
        # An employee reporting for themselves is the exposed employee.
        exposed = [{"user_id": reporter.id, "name": reporter.name}]
    for user_id in data.get("must_not_handle", []):
        if db.session.get(User, user_id) is None:
            raise ReportError(_l("Pick people from the list."), field="must_not_handle")
    if (
        data.get("counterpart_user_id") is not None
        and db.session.get(User, data["counterpart_user_id"]) is None
    ):
        raise ReportError(_l("Pick the person from the list."), field="counterpart_user_id")

    ring = keys.keyring()
    key, wrapped = ring.new_data_key()
    now = start_of_day_utc() if anonymous else utcnow()
    year = now.astimezone(OSLO).year
    sick_leave = data.get("sick_leave", "none")
    values: dict[str, Any] = {
        "reference": f"pending-{secrets.token_hex(12)}",
        "channel_kind": "anonymous" if anonymous else "employee",
        "created_at": now,
        "status": "submitted",
        "confidential": anonymous or bool(data.get("confidential")),
        "owner_tag": None if reporter is None else owner_tag(reporter),
        "wrapped_key": wrapped,
        "unit_id": unit.id if unit else None,
        "occurred_month": month_of(occurred),
        "time_band": None if anonymous else time_band(occurred),
        "place_type": data["place_type"],
        "channel": data.get("channel"),
        "counterpart_category": data["counterpart_category"],
        "lone_work": data.get("lone_work"),
        "activity": data.get("activity"),
        "severity": data["severity"],
        "injury_level": data.get("injury_level", "none"),
        "serious_injury": bool(data.get("serious_injury"))
        or data["severity"] == codes.SEVERITY_SERIOUS_INJURY,
        "has_sick_leave": sick_leave != "none",
        "police_report": data.get("police_report", "no"),
        "immediate_measures": sorted(set(data.get("immediate_measures", []))),
        "causes": sorted(set(data.get("causes", []))),
        "on_behalf": on_behalf_of is not None,
    }
    report = _insert_report(
        # Random for anonymous reports: a sequential id would tell their order in the day.
        privacy.new_row_id(Report, unordered=anonymous),
        values,
        sorted(set(data["incident_types"])),
    )
    setattr(report, _DATA_KEY_ATTR, (wrapped, key))

    occurred_text = (
        occurred.astimezone(OSLO).date().isoformat() if anonymous else occurred.isoformat()
    )
    sealed: dict[str, bytes | str | None] = {}  # column → value; the reference joins last

    def seal(name: str, value: Any) -> None:
        sealed[f"{name}_sealed"] = seal_value(key, report.id, name, value)

    seal("occurred_at", occurred_text)
    seal("counterpart_identity", data.get("counterpart_identity"))
    seal("injury_description", data.get("injury_description"))
    if sick_leave != "none":
        seal("sick_leave", {"kind": sick_leave, "days": data.get("sick_leave_days")})
    seal("police_details", data.get("police_details"))
    seal("immediate_measures_text", data.get("immediate_measures_text"))
    seal("narrative", data["narrative"])
    seal("causes_text", data.get("causes_text"))
    seal(
        "people",
        {
            "exposed": exposed,
            "witnesses": witnesses,
            "counterpart_user_id": data.get("counterpart_user_id"),
        },
    )
    if reporter is not None:
        seal("reporter", {"user_id": reporter.id, "name": reporter.name})
    seal("must_not_handle", sorted(set(data.get("must_not_handle", []))))

    added_by = "reporter"
    for upload in files:
        # One file at a time: a refusal midway raises, and the caller's rollback
        # (the request boundary) leaves nothing stored.
        name, kind, content = check_upload(upload)
        store_attachment(report, key, name, kind, content, added_by)
        del content
    if files:
        # The report was placed in the session with no attachments; load them when read.
        db.session.expire(report, ["attachments"])

    # The sealed fields are recorded on the object as stored (case opening reads them
    # from there) and go out with the reference in one UPDATE, written directly (Core),
    # without the ORM's per-attribute flush.
    for column, value in sealed.items():
        set_committed_value(report, column, value)
    actor = reporter_actor(report, reporter)
    # Case handling opens the case now, while nothing is locked yet.
    report_submitted.send(report, actor=actor)
    # The reference counter's row stays locked until commit and so serialises every
    # submission: take it only now, when all the work concurrent submissions can do side
    # by side is done. (The audit chain's head is locked only at commit.)
    reference = _store_reference(report, year, sealed)
    set_committed_value(report, "reference", reference)
    audit.record(
        "report.submit",
        actor=actor,
        object_type="report",
        object_id=report.id,
        at=now if anonymous else None,
    )
    db.session.flush()
    return report


def reporter_actor(report: Report, user: User | None) -> str:
    """How the reporter appears in the audit log.

    A confidential or anonymous reporter appears as "reporter", never as a user id: the
    log is not sealed, and must not link them to their report.
    """
    if user is None or report.confidential:
        return "reporter"
    return f"user:{user.id}"
