"""Tables of the risk assessment and the action plan (see the package docstring)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trygg.extensions import UTCDateTime, db, utcnow


class RiskLevel(db.Model):  # type: ignore[name-defined]
    """One level of a matrix preset as an admin set it (name, colour, what it demands,
    in nb and en); a preset without rows uses the defaults in risk.assessment.matrix.
    The Norwegian texts keep the columns `name` and `demand` they had before en came."""

    __tablename__ = "risk_level"

    size: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    min_score: Mapped[int] = mapped_column(SmallInteger)
    colour: Mapped[str] = mapped_column(String(7))
    name_nb: Mapped[str] = mapped_column("name", String(60))
    name_en: Mapped[str] = mapped_column(String(60), server_default="")
    demand_nb: Mapped[str] = mapped_column("demand", String(200))
    demand_en: Mapped[str] = mapped_column(String(200), server_default="")


class Assessment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "risk_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    work_kind: Mapped[str | None] = mapped_column(String(120))
    matrix_size: Mapped[int] = mapped_column(SmallInteger, default=5)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[AssessmentVersion]] = relationship(
        back_populates="assessment", order_by="AssessmentVersion.number"
    )

    @property
    def latest(self) -> AssessmentVersion:
        return self.versions[-1]

    @property
    def approved(self) -> AssessmentVersion | None:
        found = [v for v in self.versions if v.status == "approved"]
        return found[-1] if found else None


class AssessmentVersion(db.Model):  # type: ignore[name-defined]
    """One version of an assessment's content; frozen once approved."""

    __tablename__ = "risk_assessment_version"
    __table_args__ = (UniqueConstraint("assessment_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessment.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    next_review: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The plain-language summary for employees, once published.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary_risks: Mapped[str] = mapped_column(Text, default="")
    summary_routines: Mapped[str] = mapped_column(Text, default="")
    summary_contact: Mapped[str] = mapped_column(Text, default="")
    summary_show_levels: Mapped[bool] = mapped_column(Boolean, default=False)

    assessment: Mapped[Assessment] = relationship(back_populates="versions")
    items: Mapped[list[RiskItem]] = relationship(
        back_populates="version", order_by="RiskItem.ref", cascade="all, delete-orphan"
    )
    participants: Mapped[list[Participant]] = relationship(
        order_by="Participant.id", cascade="all, delete-orphan"
    )

    @property
    def frozen(self) -> bool:
        return self.status == "approved"


class Participant(db.Model):  # type: ignore[name-defined]
    """Who took part in a version, by role (medvirkning is recorded, not assumed)."""

    __tablename__ = "risk_participant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessment_version.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))


class RiskItem(db.Model):  # type: ignore[name-defined]
    """A hazard or situation, its factors, levels before and after measures, and the
    incident scope its trend and triggers are counted in."""

    __tablename__ = "risk_item"
    __table_args__ = (UniqueConstraint("version_id", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessment_version.id", ondelete="CASCADE"), index=True
    )
    ref: Mapped[int] = mapped_column(Integer)
    hazard: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    existing_measures: Mapped[str] = mapped_column(Text, default="")
    likelihood: Mapped[int] = mapped_column(SmallInteger)
    consequence: Mapped[int] = mapped_column(SmallInteger)
    likelihood_after: Mapped[int | None] = mapped_column(SmallInteger)
    consequence_after: Mapped[int | None] = mapped_column(SmallInteger)
    # The incident scope: a unit subtree (None: the assessment's unit) and filters on
    # class-S columns of reports (empty: any).
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    scope_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_counterparts: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_places: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_activities: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_time_bands: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope_lone_work: Mapped[bool | None] = mapped_column(Boolean)

    version: Mapped[AssessmentVersion] = relationship(back_populates="items")


class Measure(db.Model):  # type: ignore[name-defined]
    """A measure (tiltak) in the assessment's action plan, tied to an item by its ref."""

    __tablename__ = "risk_measure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessment.id", ondelete="CASCADE"), index=True
    )
    item_ref: Mapped[int] = mapped_column(Integer)
    goal: Mapped[str] = mapped_column(String(300))
    what: Mapped[str] = mapped_column(Text)
    collective: Mapped[bool] = mapped_column(Boolean, default=True)
    lowers: Mapped[str] = mapped_column(String(16), default="likelihood")
    affected: Mapped[str] = mapped_column(String(300), default="")
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    done_on: Mapped[date | None] = mapped_column(Date)
    is_training: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_months: Mapped[int | None] = mapped_column(SmallInteger)
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_measure.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The deadline the responsible person was last told of (soon / overdue): once each.
    soon_notified_for: Mapped[date | None] = mapped_column(Date)
    overdue_notified_for: Mapped[date | None] = mapped_column(Date)

    evaluations: Mapped[list[Evaluation]] = relationship(
        order_by="Evaluation.id", cascade="all, delete-orphan"
    )


class Evaluation(db.Model):  # type: ignore[name-defined]
    """Whether a measure worked, when, by whom and what next."""

    __tablename__ = "risk_evaluation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("risk_measure.id", ondelete="CASCADE"), index=True
    )
    result: Mapped[str] = mapped_column(String(8))
    evaluated_on: Mapped[date] = mapped_column(Date)
    evaluated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    next_step: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Trigger(db.Model):  # type: ignore[name-defined]
    """A re-assessment task for the assessment's owner. `cause` names what set it off
    (never shown: it may name a report), unique per assessment so a cause fires once."""

    __tablename__ = "risk_trigger"
    __table_args__ = (UniqueConstraint("assessment_id", "cause"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessment.id", ondelete="CASCADE"), index=True
    )
    item_ref: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class Comment(db.Model):  # type: ignore[name-defined]
    """A comment on a version, or the safety representative's / AMU's statement on an
    approved one."""

    __tablename__ = "risk_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessment_version.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="comment")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseLink(db.Model):  # type: ignore[name-defined]
    """A case linked to a risk item in its learning review; shown only as a count."""

    __tablename__ = "risk_case_link"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessment.id", ondelete="CASCADE"), primary_key=True
    )
    item_ref: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RiskScan(db.Model):  # type: ignore[name-defined]
    """When the daily trigger checks (trends, review dates) last ran."""

    __tablename__ = "risk_scan"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
