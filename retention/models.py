"""Retention policies, legal holds, tombstones and the daily run's mark.

No content and no person is stored here: codes, case and report ids, months.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trygg.extensions import UTCDateTime, db, utcnow


class RetentionPolicy(db.Model):  # type: ignore[name-defined]
    """How many months something is kept (admin-editable, like deadline policies).

    scope "case": a finished case, per track and outcome (closed, dropped, forwarded),
    counted from its closing. scope "report": a report that never became a case, from
    its submission. scope "receipt": an anonymous receipt code, from its last use (the
    case lives on; only the code stops working).
    """

    __tablename__ = "retention_policy"
    __table_args__ = (UniqueConstraint("scope", "track", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    track: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(10))
    months: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def rule(self) -> str:
        """The policy as a stable code, e.g. "case:whistleblowing:closed"."""
        return ":".join(part for part in (self.scope, self.track, self.outcome) if part)


class LegalHold(db.Model):  # type: ignore[name-defined]
    """A case that must not be deleted while the hold is on (lifted_at empty)."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    # police, lawsuit, labour_inspection, other (retention.codes.HOLD_REASONS)
    reason: Mapped[str] = mapped_column(String(24))
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Tombstone(db.Model):  # type: ignore[name-defined]
    """What is left to say about a deleted case: its reference, months, and why."""

    __tablename__ = "tombstone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(Integer, unique=True)
    reference: Mapped[str] = mapped_column(String(32))
    opened_month: Mapped[date] = mapped_column(Date)
    closed_month: Mapped[date | None] = mapped_column(Date)
    deleted_month: Mapped[date] = mapped_column(Date)
    policy_id: Mapped[int | None] = mapped_column(Integer)
    # The policy's rule code and months at the time of deletion (a policy may change).
    rule: Mapped[str] = mapped_column(String(48))
    months: Mapped[int] = mapped_column(Integer)


class RetentionDay(db.Model):  # type: ignore[name-defined]
    """A day whose retention run finished (the scheduler runs it once a day)."""

    __tablename__ = "retention_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    owner: Mapped[str] = mapped_column(String(64))
    # Cases deleted since the previous day's mark: by every tick of this day's run (and
    # by a `trygg retention run` in between).
    deleted: Mapped[int] = mapped_column(Integer, default=0)
