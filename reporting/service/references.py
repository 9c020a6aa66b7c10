"""A report written in a few Core statements: its INSERT, then its reference taken last
and written with its sealed fields in one UPDATE (on PostgreSQL with the counter's
UPDATE as a CTE), so the counter's row lock is held for as short a time as possible."""

from __future__ import annotations

import contextlib
import functools
import secrets
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from reporting.models import SEALED_FIELDS, ReferenceCounter, Report, ReportIncidentType
from trygg.database import stored
from trygg.extensions import db


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


SEALED_COLUMNS = {f"{name}_sealed": None for name in SEALED_FIELDS}


@functools.cache
def _statements() -> dict[str, Any]:
    """The intake's hot statements, built once with named parameters.

    A statement object reused is neither rebuilt nor re-keyed for SQLAlchemy's compiled
    cache on every report; that work cost more than the database round trip.
    """
    table = Report.__table__
    sealed: dict[str, Any] = {column: bindparam(f"v_{column}") for column in SEALED_COLUMNS}
    # PostgreSQL: the counter's UPDATE as a CTE of the report's UPDATE. The new value is
    # formatted as f"{value:05d}" (zero-padded to five digits, never cut); a year without
    # a counter updates no row.
    assignments = ", ".join(f"{column} = :v_{column}" for column in SEALED_COLUMNS)
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


def store_reference(report: Report, year: int, sealed: dict[str, Any]) -> str:
    """Take the report's reference and write it with its sealed fields; return it.

    On PostgreSQL a sequential reference is taken and written in one statement (the
    counter's UPDATE is a CTE of the report's UPDATE), unless the year has no counter
    yet: then, as on SQLite, next_reference takes it first.
    """
    statements = _statements()
    params = {f"v_{column}": value for column, value in {**SEALED_COLUMNS, **sealed}.items()}
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


def typed_reference(text: str) -> str:
    """A reference as someone typed it ("avv-2026-00231 "), as it is stored: every
    reference is upper case, so case and surrounding spaces do not matter."""
    return text.strip().upper()


def random_reference(prefix: str, year: int) -> str:
    """A non-sequential reference (anonymous reports: order within a day is not kept)."""
    while True:
        suffix = "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
        reference = f"{prefix}-{year}-{suffix}"
        if db.session.scalar(select(Report.id).where(Report.reference == reference)) is None:
            return reference


def insert_report(row_id: int | None, values: dict[str, Any], incident_types: list[str]) -> Report:
    """INSERT a new report and its incident types (Core: no unit-of-work flush), and
    put the matching object in the session as already stored.

    Every column is given, so the object needs no read-back; the sealed columns start
    empty and are written with the reference at the end of submit_report (store_reference). The
    reference starts as a unique stand-in until the real one is taken, last.
    """
    statements = _statements()
    row = {**values, **SEALED_COLUMNS}
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
