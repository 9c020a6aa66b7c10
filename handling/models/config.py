"""Handling's configuration: handler groups and their members and escalation contacts,
routing rules and deadline policies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trygg.extensions import UTCDateTime, db, utcnow


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
