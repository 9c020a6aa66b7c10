"""The case itself and who may see it: exclusions (conflict of interest), grants, and
each handler's reading of its messages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from handling.states import CaseState, GrantKind
from reporting.models import Report
from trygg.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from handling.models.config import HandlerGroup
    from handling.models.followup import Deadline, Debriefing, FollowUpTask, Section52Check

# Partial-index condition (the queue's queries repeat it, so the planners match).
UNFINISHED = text(f"state NOT IN ('{CaseState.CLOSED}', '{CaseState.DROPPED}')")
ROUTING_WARNED = text("routing_warning IS NOT NULL")
SHARED = text("shared_unit_id IS NOT NULL")


class Case(db.Model):  # type: ignore[name-defined]
    """One case per report."""

    __tablename__ = "case"
    __table_args__ = (
        # The queue seeks on (next_due_at, opened_at, id) within a group: one state, every
        # state, or every unfinished one (the default queue).
        Index("ix_case_queue", "group_id", "state", "next_due_at", "opened_at", "id"),
        Index("ix_case_queue_all", "group_id", "next_due_at", "opened_at", "id"),
        Index(
            "ix_case_queue_active",
            "group_id",
            "next_due_at",
            "opened_at",
            "id",
            postgresql_where=UNFINISHED,
            sqlite_where=UNFINISHED,
            # What the queue's counters read besides (migration 0022): an index-only count.
            postgresql_include=["group_since", "assigned_user_id"],
        ),
        # The few cases with a routing warning, for the admin's list (migration 0024).
        Index(
            "ix_case_routing_warning",
            "id",
            postgresql_where=ROUTING_WARNED,
            sqlite_where=ROUTING_WARNED,
        ),
        # The cases shared with the safety representatives, by unit, in the queue's
        # order (migration 0026): a rep's queue seeks here, not in every report of the
        # units they represent.
        Index(
            "ix_case_shared",
            "shared_unit_id",
            "next_due_at",
            "opened_at",
            "id",
            postgresql_where=SHARED,
            sqlite_where=SHARED,
        ),
        # The same cases in the queue's order alone (migration 0028): a rep of many units
        # (the whole organisation) walks it to the first page instead of joining every
        # shared case before sorting.
        Index(
            "ix_case_shared_order",
            "next_due_at",
            "opened_at",
            "id",
            postgresql_where=SHARED,
            sqlite_where=SHARED,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), unique=True)
    track: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=CaseState.REPORTED, index=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("handler_group.id", ondelete="SET NULL"), index=True
    )
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # The § 5-2 duty to notify (serious injury or death) applies; set at triage.
    section_5_2: Mapped[bool] = mapped_column(Boolean, default=False)
    # Violence or threats with an exposed employee: closing needs follow-up and a
    # debriefing, or a written reason why not.
    follow_up_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    # For admins: fallback, no_group, no_handler (handling.codes.ROUTING_WARNINGS).
    routing_warning: Mapped[str | None] = mapped_column(String(16))
    forwarded_to: Mapped[str | None] = mapped_column(String(24))
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the case came to its current group: members who joined the group later see
    # it only through a grant (CaseGrant). An anonymous case's is the end of its day.
    group_since: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=text("'1970-01-01 00:00:00+00:00'")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The earliest due time of the case's open deadline rows; None when none is open.
    # Kept by handling.service (refresh_next_due) wherever those rows change, so the
    # queue filters, sorts and counts by deadline in SQL.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The report's unit while the exposed employee consents to sharing with the safety
    # representative (on a follow-up task or a debriefing), else None. Kept by
    # handling.service.followup (`_mark_shared`) wherever consent is given or withdrawn;
    # it only narrows the rep's queue, which checks the consent itself too.
    shared_unit_id: Mapped[int | None] = mapped_column(Integer)

    closing_note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    feedback_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    drop_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    no_follow_up_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(lazy="joined")
    group: Mapped[HandlerGroup | None] = relationship(lazy="joined")
    deadlines: Mapped[list[Deadline]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="Deadline.due_at",
        passive_deletes=True,
    )
    exclusions: Mapped[list[CaseExclusion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )
    tasks: Mapped[list[FollowUpTask]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="FollowUpTask.id",
        passive_deletes=True,
    )
    debriefings: Mapped[list[Debriefing]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="Debriefing.id",
        passive_deletes=True,
    )
    section52: Mapped[Section52Check | None] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )

    def sealed(self, name: str) -> bytes | None:
        value: bytes | None = getattr(self, f"{name}_sealed")
        return value

    @property
    def excluded_user_ids(self) -> set[int]:
        return {e.user_id for e in self.exclusions}

    @property
    def consented_to_share(self) -> bool:
        """The exposed employee consents, on a follow-up task or a debriefing, to sharing
        the case with the safety representative."""
        return any(t.consent_to_share for t in self.tasks) or any(
            d.consent_to_share_summary for d in self.debriefings
        )


class CaseExclusion(db.Model):  # type: ignore[name-defined]
    """A handler who must not see or handle a case (conflict of interest or recusal).

    Stored only for users holding the handler role (or added to a handler group later):
    the people named in a report are sealed, and these rows are the least that access
    checks need in clear.
    """

    __tablename__ = "case_exclusion"
    __table_args__ = (UniqueConstraint("case_id", "user_id", "reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # involved, line_manager, named_by_reporter, recused
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseGrant(db.Model):  # type: ignore[name-defined]
    """Access to one existing case, given to a handler by someone who has it (or by the
    break-glass command): the case is visible to them while it stays in `group_id`.

    The reason is sealed under the case's key; who gave it (`granted_by`, an audit
    label) and when are in clear, for the access history and the access-changes page.
    """

    __tablename__ = "case_grant"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(ForeignKey("handler_group.id", ondelete="CASCADE"))
    granted_by: Mapped[str] = mapped_column(String(64))
    # "grant" (a handler or the group's lead), "assigned", "break_glass"
    kind: Mapped[str] = mapped_column(String(16), default=GrantKind.GRANT)
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseReading(db.Model):  # type: ignore[name-defined]
    """How many of the reporter's messages a handler has seen on a case (the queue's
    "unread" column). A count, not a time: an anonymous reporter's messages are dated
    only to the day and have random ids, so neither orders them against a reading."""

    __tablename__ = "case_reading"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reporter_messages_seen: Mapped[int] = mapped_column(Integer, default=0)


class IdentityConsent(db.Model):  # type: ignore[name-defined]
    """The reporter's consent to be named to one kind of recipient of an export
    (`handling.codes.EXPORT_RECIPIENTS`): asked for where the reporter's identity is
    protected (a varsel, a confidential report). Given and withdrawn by the reporter
    alone, on their case page; withdrawing deletes the row."""

    __tablename__ = "identity_consent"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    recipient: Mapped[str] = mapped_column(String(24), primary_key=True)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
