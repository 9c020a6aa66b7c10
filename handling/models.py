"""Cases and everything hanging off them: routing, exclusions, deadlines, follow-up.

A case shares its report's data key (reporting.models.Report.wrapped_key): every sealed
column here is AES-GCM under that key with associated data naming this table, the column
(without "_sealed") and the row id, so destroying the report's key erases the case too.
Only codes, flags, ids and times are stored in clear.

Deadlines are rows (ARCHITECTURE.md): `due_at` in UTC, met when the matching step is
recorded; `reminded_at`, `escalated_at`, `lease_owner` and `lease_until` are for the
scheduler tick, which claims open rows (`met_at` and `cancelled_at` empty) that are due.
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
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting.models import Report
from trygg.extensions import UTCDateTime, db, utcnow

# Partial-index conditions (the queue's queries repeat them, so the planners match).
UNFINISHED = text("state NOT IN ('closed', 'dropped')")
OPEN_DEADLINE = text("met_at IS NULL AND cancelled_at IS NULL")


class HandlerGroup(db.Model):  # type: ignore[name-defined]
    """A group of case handlers that cases are routed to."""

    __tablename__ = "handler_group"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Receives cases no routing rule matches.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Receives cases whose routed group is emptied by conflict of interest.
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[HandlerGroupMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HandlerGroupMember.user_id"
    )
    escalation_contacts: Mapped[list[HandlerGroupEscalation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HandlerGroupEscalation.user_id"
    )

    @property
    def member_ids(self) -> list[int]:
        return sorted(m.user_id for m in self.members)

    @property
    def escalation_ids(self) -> list[int]:
        return sorted(c.user_id for c in self.escalation_contacts)


class HandlerGroupMember(db.Model):  # type: ignore[name-defined]
    """A handler in a group. They see the group's cases that came to it after they
    joined (`joined_at` ≤ `Case.group_since`); older ones only through a CaseGrant."""

    __tablename__ = "handler_group_member"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("handler_group.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # When the membership began (members from before 0010 carry 1970-01-01: they saw
    # every case of the group already).
    joined_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=text("'1970-01-01 00:00:00+00:00'")
    )


class HandlerGroupEscalation(db.Model):  # type: ignore[name-defined]
    """Who is told at once when a case of the group is flagged § 5-2 or a deadline
    passes (the admins, when a group names no one)."""

    __tablename__ = "handler_group_escalation"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("handler_group.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RoutingRule(db.Model):  # type: ignore[name-defined]
    """(unit subtree, incident type, track) → group; an empty criterion matches anything.

    The most specific matching rule wins: one naming a track beats one that does not,
    then one naming an incident type, then the one with the deepest unit.
    """

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("handler_group.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    incident_type: Mapped[str | None] = mapped_column(String(32))
    track: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    group: Mapped[HandlerGroup] = relationship(lazy="joined")


class DeadlinePolicy(db.Model):  # type: ignore[name-defined]
    """How long a step may take, by track, incident type and minimum severity.

    An empty track or incident type matches any. For each kind the most specific active
    matching policy applies (track, then type, then the highest minimum severity); among
    equally specific ones the earliest deadline wins.
    """

    __tablename__ = "deadline_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    track: Mapped[str | None] = mapped_column(String(20))
    incident_type: Mapped[str | None] = mapped_column(String(32))
    min_severity: Mapped[int] = mapped_column(SmallInteger, default=1)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    # same_day, hours, days, weeks, months (handling.codes.DURATION_UNITS)
    unit: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


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
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), unique=True)
    track: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="reported", index=True)
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
    kind: Mapped[str] = mapped_column(String(16), default="grant")
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


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

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    template: Mapped[str] = mapped_column(String(32))
    responsible_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
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


class CaseMessage(db.Model):  # type: ignore[name-defined]
    """A message between handler and reporter, or a handler's internal note."""

    __tablename__ = "case_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    # "handler" or "reporter"
    author_kind: Mapped[str] = mapped_column(String(10))
    # The handler who wrote it; never set for the reporter (that would link them).
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # The reporter says who they are in this message (an anonymous reporter may choose
    # to, later; it cannot be taken back).
    identity: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An anonymous reporter's messages are dated to the day and have random ids, so
    # nothing places them among the handlers' timed messages; this numbers them among
    # their own (1, 2, ...), which is all the order a conversation needs.
    reporter_seq: Mapped[int | None] = mapped_column(SmallInteger)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseEvent(db.Model):  # type: ignore[name-defined]
    """One line of a case's timeline: what happened, as codes; never content."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    codes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # An audit-style label: "user:42", "reporter", "system".
    actor: Mapped[str] = mapped_column(String(64))
