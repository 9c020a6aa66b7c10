"""The incident report (avviksmelding), its attachments and reference counters.

Class S fields (coarse classification, DOMAIN.md) are plain columns: they are all that
statistics need. Class P and E fields are sealed with the report's own data key
(trygg.crypto), each bound to its table, column and row. Who submitted a report is
stored only as `owner_tag`, a keyed hash that the database alone cannot link to a user.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting import codes
from reporting.codes import Channel, ReportStatus
from trygg.extensions import UTCDateTime, db, utcnow

# Sealed columns: name → sensitivity class (P personal, E special category).
SEALED_FIELDS: dict[str, str] = {
    "occurred_at": "P",
    "counterpart_identity": "E",
    "injury_description": "E",
    "sick_leave": "E",
    "police_details": "E",
    "immediate_measures_text": "P",
    "narrative": "E",
    "causes_text": "P",
    "people": "P",
    "reporter": "E",
    "must_not_handle": "P",
}


class Report(db.Model):  # type: ignore[name-defined]
    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_unit_month", "unit_id", "occurred_month"),
        Index("ix_report_month", "occurred_month"),
        # "My reports", newest first, a page at a time.
        Index("ix_report_owner", "owner_tag", "id"),
        # What came in since a moment: the risk job's check for serious incidents every
        # tick, retention's reports without a case (migration 0024).
        Index("ix_report_created_at", "created_at"),
        # The form a report came from (a random token): the same form sent twice is one
        # report (migration 0025).
        Index(
            "ix_report_submission_key",
            "submission_key",
            unique=True,
            postgresql_where=text("submission_key IS NOT NULL"),
            sqlite_where=text("submission_key IS NOT NULL"),
        ),
        Index(
            "ix_report_people_unindexed",
            "id",
            postgresql_where=text("people_index IS NULL"),
            sqlite_where=text("people_index IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    # "employee" (logged-in form or API) or "anonymous" (the whistleblower link).
    channel_kind: Mapped[str] = mapped_column(String(16), default=Channel.EMPLOYEE)
    # Anonymous reports are dated to the day (the exact time is kept nowhere).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Reporter-visible status, kept up to date by case handling.
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.SUBMITTED)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # Keyed hash of the submitting user (see service.owner_tag); None for anonymous.
    owner_tag: Mapped[str | None] = mapped_column(String(64), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)

    # -- class S: coarse classification, in clear ------------------------------------
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    occurred_month: Mapped[date] = mapped_column(Date)
    time_band: Mapped[str | None] = mapped_column(String(8))
    place_type: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str | None] = mapped_column(String(24))
    counterpart_category: Mapped[str] = mapped_column(String(24))
    lone_work: Mapped[bool | None] = mapped_column(Boolean)
    activity: Mapped[str | None] = mapped_column(String(24))
    severity: Mapped[int] = mapped_column(SmallInteger)
    injury_level: Mapped[str] = mapped_column(String(16), default="none")
    serious_injury: Mapped[bool] = mapped_column(Boolean, default=False)
    # Yes/no only, for aggregates; the kind and days are sealed.
    has_sick_leave: Mapped[bool] = mapped_column(Boolean, default=False)
    police_report: Mapped[str] = mapped_column(String(16), default="no")
    immediate_measures: Mapped[list[str]] = mapped_column(JSON, default=list)
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    # The report form's own random token (never for the anonymous link, which keeps its
    # repeat check in the browser's session): a second send of the same form finds this.
    submission_key: Mapped[str | None] = mapped_column(String(64))
    # Which version of the people index (report_person, reporting/people_index.py) holds
    # this report's rows; None: stored before it, rows missing or incomplete until
    # `trygg retention index-people` runs (migration 0026; a later version's migration
    # sets older ones back to None). Those few are found by a partial index.
    people_index: Mapped[int | None] = mapped_column(SmallInteger)
    # Set (to the month) when retention deleted the report: its key is destroyed and
    # its sealed fields, files and case content are gone; the class S columns above
    # stay so that statistics do not change (retention/, README "Retention").
    erased_month: Mapped[date | None] = mapped_column(Date)

    # -- class P and E: sealed -------------------------------------------------------
    occurred_at_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    counterpart_identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    injury_description_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    sick_leave_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    police_details_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    immediate_measures_text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    narrative_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    causes_text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    people_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    reporter_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    must_not_handle_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    incident_type_rows: Mapped[list[ReportIncidentType]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ReportIncidentType.incident_type"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Attachment.id"
    )

    @property
    def incident_types(self) -> list[str]:
        return [row.incident_type for row in self.incident_type_rows]

    @property
    def anonymous(self) -> bool:
        return self.channel_kind == Channel.ANONYMOUS

    @property
    def requires_section_5_2(self) -> bool:
        """A serious injury (or death): the employer must notify under § 5-2."""
        return bool(self.serious_injury or self.severity == codes.SEVERITY_SERIOUS_INJURY)

    def sealed(self, name: str) -> bytes | None:
        value: bytes | None = getattr(self, f"{name}_sealed")
        return value

    def set_sealed(self, name: str, value: bytes | None) -> None:
        if name not in SEALED_FIELDS:
            raise KeyError(name)
        setattr(self, f"{name}_sealed", value)


def sealed_columns() -> list[Any]:
    """The report's sealed columns, for lists that show none of them (`defer`)."""
    return [getattr(Report, c.key) for c in Report.__table__.c if c.key.endswith("_sealed")]


class ReportIncidentType(db.Model):  # type: ignore[name-defined]
    """One incident type of a report (a report may have several); class S."""

    __tablename__ = "report_incident_type"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True
    )
    incident_type: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Attachment(db.Model):  # type: ignore[name-defined]
    """A file attached to a report. Name and content are sealed; content in chunks."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # The detected type (from content), e.g. "image/jpeg": needed to serve the file.
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # Who added it: "reporter" or "handler" (no user id: that would link a reporter).
    added_by: Mapped[str] = mapped_column(String(16), default="reporter")

    # Never loaded through the relationship (attachment_stream reads chunk by chunk);
    # deletes are left to the database's ON DELETE CASCADE.
    chunks: Mapped[list[AttachmentChunk]] = relationship(
        cascade="all, delete-orphan",
        lazy="raise",
        passive_deletes=True,
        order_by="AttachmentChunk.seq",
    )


class AttachmentChunk(db.Model):  # type: ignore[name-defined]
    """A slice of an attachment's sealed byte stream (bounded memory both ways)."""

    __tablename__ = "attachment_chunk"

    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReferenceCounter(db.Model):  # type: ignore[name-defined]
    """The last sequential number handed out per prefix and year (AVV-2026-00042)."""

    __tablename__ = "reference_counter"
    __table_args__ = (UniqueConstraint("prefix", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer, default=0)


# -- the anonymous link: receipts and throttling ----------------------------------------


class AnonymousReceipt(db.Model):  # type: ignore[name-defined]
    """What the server keeps of an anonymous reporter's receipt code: nothing that
    confirms a guess quickly.

    `hint` is 16 bits of a keyed hash of the code: it narrows the rows to try, and with
    2^84 codes behind every hint it confirms nothing. `verifier` is argon2id (with its
    own salt) of a value derived from the code for verification only. The report the
    code opens is in `report_link`, sealed under a key derived separately from the code
    and stretched with argon2id (`unlock_kdf`, `unlock_salt`); there is no foreign key,
    so the database alone cannot tell which receipt belongs to which report. The id is
    random and no time is kept.
    """

    __tablename__ = "anonymous_receipt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hint: Mapped[str] = mapped_column(String(8), index=True)
    verifier: Mapped[str] = mapped_column(String(255))
    unlock_kdf: Mapped[str] = mapped_column(String(64))
    unlock_salt: Mapped[bytes] = mapped_column(LargeBinary)
    report_link: Mapped[bytes] = mapped_column(LargeBinary)
    # A keyed hash of the report id (under a key from the keyring, so the database
    # alone cannot link a receipt to its report), for deleting the receipt with the
    # report; empty for receipts made before retention existed.
    report_tag: Mapped[str | None] = mapped_column(String(64), index=True)
    # The month the code was last used (no finer): the receipt stops working after the
    # retention policy's months without use.
    used_month: Mapped[date | None] = mapped_column(Date)


class AnonymousThrottle(db.Model):  # type: ignore[name-defined]
    """A counter of anonymous events from one client network in one time bucket.

    `network` is a keyed hash of the network (IPv4 /24, IPv6 /48) under a key derived
    per day, never an address. `kind` is "receipt" (wrong receipt codes, minute buckets)
    or "submit" (reports sent, clock-hour buckets). Rows older than a day are deleted.
    """

    __tablename__ = "anonymous_throttle"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    network: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class AnonymousSession(db.Model):  # type: ignore[name-defined]
    """An anonymous follow-up session, so that ending it ends it on the server too.

    `id` is a hash of the random token in the browser's (signed) session cookie. The
    report it follows is in `report_link`, sealed under a key derived from that token:
    without the browser's cookie the database cannot tell which report a session is
    for, and the cookie carries no report id. `day` (UTC) is only for deleting rows of
    sessions that ended by themselves; nothing finer is kept.
    """

    __tablename__ = "anonymous_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_link: Mapped[bytes] = mapped_column(LargeBinary)
    day: Mapped[date] = mapped_column(Date, index=True)


class ReportPerson(db.Model):  # type: ignore[name-defined]
    """An index of the accounts a report names (exposed, witnesses, counterpart): a keyed
    hash of the user id (reporting/people_index.py), never the id, so the table alone
    does not say who is named where. It lets the access download find the reports that
    name a person without opening every report; deleted with the report's content."""

    __tablename__ = "report_person"
    __table_args__ = (Index("ix_report_person_tag", "person_tag", "role", "report_id"),)

    # No id of its own: a sequential one would tell the order of anonymous reports.
    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True
    )
    # exposed, witnesses, counterpart
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_tag: Mapped[str] = mapped_column(String(64), primary_key=True)
