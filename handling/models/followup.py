"""A case's deadlines (rows, ARCHITECTURE.md), follow-up tasks, debriefings and the
§ 5-2 checklist."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from trygg.extensions import UTCDateTime, db, utcnow

# Partial-index condition (the queue's queries repeat it, so the planners match).
OPEN_DEADLINE = text("met_at IS NULL AND cancelled_at IS NULL")


class Deadline(db.Model):  # type: ignore[name-defined]
    """One step's deadline for one case."""

    __tablename__ = "deadline"
    __table_args__ = (
        Index("ix_deadline_open_due", "met_at", "due_at"),
        # The queue's count of overdue deadlines reads only the open rows of its cases.
        Index(
            "ix_deadline_open",
            "case_id",
            "due_at",
            postgresql_where=OPEN_DEADLINE,
            sqlite_where=OPEN_DEADLINE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the case ended (closed, dropped) before the step was recorded.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # For the scheduler tick (notifications): what it did and who holds the row.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None


class FollowUpTask(db.Model):  # type: ignore[name-defined]
    """A follow-up step for the exposed employee (oppfølging)."""

    __tablename__ = "follow_up_task"
    # The few tasks whose consent shares the case with the safety representative
    # (migration 0026): the rep's queue checks a case's consent here. SQLite uses a
    # partial index only for the same term as the query's, and `is_(True)` is `IS 1`
    # there (`IS true` on PostgreSQL).
    __table_args__ = (
        Index(
            "ix_follow_up_task_shared",
            "case_id",
            postgresql_where=text("consent_to_share IS TRUE"),
            sqlite_where=text("consent_to_share IS 1"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    template: Mapped[str] = mapped_column(String(32))
    # Indexed: "My tasks" and the start page find a person's tasks by it.
    responsible_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # open, done, cancelled
    status: Mapped[str] = mapped_column(String(12), default="open")
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The exposed employee agreed that this step may be shared with the safety rep.
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # For the scheduler tick: the due time its responsible person was last told about
    # (due soon, overdue); a changed due time is told again.
    soon_notified_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_notified_for: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Debriefing(db.Model):  # type: ignore[name-defined]
    """A debriefing or learning review after an incident."""

    __tablename__ = "debriefing"
    __table_args__ = (
        Index(
            "ix_debriefing_shared",
            "case_id",
            postgresql_where=text("consent_to_share_summary IS TRUE"),
            sqlite_where=text("consent_to_share_summary IS 1"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    participant_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    support_offered: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    further_needs_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The exposed employee agreed that a summary may be shared with the safety rep.
    consent_to_share_summary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Section52Check(db.Model):  # type: ignore[name-defined]
    """The § 5-2 checklist: notify the Labour Inspection Authority and the police."""

    __tablename__ = "section52_check"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    labour_inspection_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    labour_inspection_notified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    police_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    police_notified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    safety_rep_copied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nav_form_sent: Mapped[bool | None] = mapped_column(Boolean)
    nav_form_sent_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
