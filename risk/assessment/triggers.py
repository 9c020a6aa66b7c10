"""Re-assessment triggers and measure deadlines, told through notifications.

A trigger is a task for the assessment's owner, with a notification, when: a severity-3
or -4 incident reported before today falls in an item's scope; an item's last three
months exceed the same months a year before by `risk_trend_rise_percent` (and reach k)
(neither for an item of a unit too small to be published on its own, and the rise only
for a scope whose counts the item shows: `trend.trends_cells`);
the review date has passed; or a measure was evaluated as not working. Each cause fires
once per assessment (a unique key). The scheduler job (registered in risk/setup.py)
holds the risk_scan row locked while it works, so two tick processes never do the same
scan at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from notifications.kinds import Kind
from notifications.scheduler import TickContext, claim_rows
from notifications.service import Event, notify, notify_many, start_of_day
from reporting.models import Report
from risk import service as trends
from risk.assessment import trend
from risk.assessment.codes import OPEN_MEASURE_STATES
from risk.assessment.models import Assessment, AssessmentVersion, Measure, RiskScan, Trigger
from risk.statistics import add_months
from trygg.database import insert_or_ignore
from trygg.extensions import db, utcnow

OSLO = ZoneInfo("Europe/Oslo")
SEVERE = 3
# How far back a serious incident is looked for (a tick missed for this long still
# finds it; the cause key keeps it from firing twice).
INCIDENT_LOOKBACK = timedelta(days=30)
MEASURE_DUE_SOON = timedelta(days=7)


def link(assessment_id: int) -> str:
    return f"/risk/assessments/{assessment_id}"


def fire(assessment: Assessment, kind: str, cause: str, item_ref: int | None) -> Trigger | None:
    """Record a trigger and notify the owner, unless this cause has fired already."""
    taken = db.session.scalar(
        select(Trigger.id).where(Trigger.assessment_id == assessment.id, Trigger.cause == cause)
    )
    if taken is not None:
        return None
    row = Trigger(
        assessment_id=assessment.id,
        item_ref=item_ref,
        kind=kind,
        cause=cause,
        owner_id=assessment.owner_id,
    )
    db.session.add(row)
    db.session.flush()
    if assessment.owner_id is not None:
        notify(
            Kind.RISK_REVIEW,
            [assessment.owner_id],
            key=f"risk-trigger:{row.id}",
            link=link(assessment.id),
        )
    return row


def open_triggers(assessment: Assessment) -> list[Trigger]:
    return list(
        db.session.scalars(
            select(Trigger)
            .where(Trigger.assessment_id == assessment.id, Trigger.resolved_at.is_(None))
            .order_by(Trigger.id)
        )
    )


def current_version(assessment: Assessment) -> AssessmentVersion:
    """The version triggers watch: the approved one in force, else the newest draft."""
    return assessment.approved or assessment.latest


def local_today(now: datetime) -> date:
    return now.astimezone(OSLO).date()


# -- the checks -------------------------------------------------------------------------


def check_incidents(now: datetime, since: datetime | None) -> int:
    """Serious incidents reported on the days before today since the day of `since` (at
    most INCIDENT_LOOKBACK back).

    Not today's: a trigger is shown to the owner with its time and notified at once, so
    one fired the tick after a report would tell a manager when it was sent, and in a
    small scope by whom (a confidential reporter too). Fired the day after, it tells the
    day at most.
    """
    end = start_of_day(now)
    start = max(start_of_day(since), now - INCIDENT_LOOKBACK) if since else now - INCIDENT_LOOKBACK
    if start >= end:
        return 0
    sent = (Report.severity >= SEVERE, Report.created_at >= start, Report.created_at < end)
    recent = db.session.scalar(select(Report.id).where(*sent).limit(1))
    if recent is None:
        return 0
    fired = 0
    tree = trends.current_tree()
    for assessment in db.session.scalars(select(Assessment).order_by(Assessment.id)):
        for item in current_version(assessment).items:
            if not trend.published_alone(item, assessment, tree):
                continue
            found = db.session.scalars(
                select(Report.id).where(*trend.conditions(item, assessment), *sent)
            )
            for report_id in found:
                if fire(assessment, "incident", f"incident:{report_id}:r{item.ref}", item.ref):
                    fired += 1
    return fired


def check_trends(today: date) -> int:
    """Items whose last three whole months rose past the threshold against a year before."""
    k = int(current_app.config["TRYGG"]["trends_k"])
    rise = int(current_app.config["TRYGG"]["risk_trend_rise_percent"])
    this_month = today.replace(day=1)
    first, last = add_months(this_month, -3), add_months(this_month, -1)
    fired = 0
    tree = trends.current_tree()
    for assessment in db.session.scalars(select(Assessment).order_by(Assessment.id)):
        for item in current_version(assessment).items:
            # Only a scope whose counts the item shows (a sum of trends cells): a rise
            # in one it hides would tell the owner what the item page does not.
            if not trend.published_alone(item, assessment, tree):
                continue
            if trend.trends_cells(item) is None:
                continue
            where = trend.conditions(item, assessment)
            now_n = trend.count_between(where, first, last)
            if now_n < k:
                continue
            before = trend.count_between(where, add_months(first, -12), add_months(last, -12))
            if now_n * 100 > before * (100 + rise):
                cause = f"trend:{last:%Y-%m}:r{item.ref}"
                if fire(assessment, "trend", cause, item.ref):
                    fired += 1
    return fired


def check_reviews(today: date) -> int:
    fired = 0
    for assessment in db.session.scalars(select(Assessment).order_by(Assessment.id)):
        version = assessment.approved
        if version is not None and version.next_review < today:
            cause = f"review:{version.next_review.isoformat()}"
            if fire(assessment, "review", cause, None):
                fired += 1
    return fired


def repeat_training(today: date) -> int:
    """Done training with a repeat interval becomes due again when the interval is up."""
    count = 0
    for measure in db.session.scalars(
        select(Measure).where(
            Measure.is_training.is_(True),
            Measure.status == "done",
            Measure.repeat_months.is_not(None),
        )
    ):
        assert measure.done_on is not None  # noqa: S101 - done sets done_on
        again = add_months(measure.done_on.replace(day=1), measure.repeat_months or 0)
        again = again.replace(day=min(measure.done_on.day, 28))
        if again <= today + MEASURE_DUE_SOON:
            measure.status, measure.deadline, measure.done_on = "planned", again, None
            count += 1
    return count


def claim_scan(name: str, first_at: datetime) -> tuple[RiskScan | None, bool]:
    """The `risk_scan` row `name`, locked for this tick (None while another scheduler holds
    it), and whether this tick made it (its `last_at` is then `first_at`).

    Two schedulers' first ticks may both make it: the second's insert waits for the
    first's and then does nothing, instead of failing on the unique name.
    """
    scan = select(RiskScan).where(RiskScan.name == name)
    row = db.session.scalar(claim_rows(scan))
    if row is not None:
        return row, False
    first = insert_or_ignore(RiskScan.__table__, key=["name"]).values(name=name, last_at=first_at)
    fresh = db.session.execute(first.returning(RiskScan.name)).first() is not None
    return db.session.scalar(claim_rows(scan)), fresh


def scan_job(ctx: TickContext) -> int:
    """The scheduler's risk job: the previous days' incidents (at the first tick of a day,
    `check_incidents`), trends, reviews and training daily."""
    row, fresh = claim_scan("triggers", ctx.now - INCIDENT_LOOKBACK)
    if row is None:  # another scheduler is scanning right now
        return 0
    if fresh:
        since, daily = None, True
    else:
        since = row.last_at
        daily = local_today(row.last_at) < local_today(ctx.now)
    fired = check_incidents(ctx.now, since)
    if daily:
        today = local_today(ctx.now)
        fired += check_trends(today) + check_reviews(today) + repeat_training(today)
    row.last_at = ctx.now
    db.session.flush()
    return min(fired, ctx.batch - 1)


def measures_job(ctx: TickContext) -> int:
    """Tell each open measure's responsible person when it is due within a week and when
    it is overdue, once per deadline."""
    today = local_today(ctx.now)
    query = (
        select(Measure)
        .where(
            Measure.status.in_(OPEN_MEASURE_STATES),
            Measure.responsible_id.is_not(None),
            Measure.deadline <= today + MEASURE_DUE_SOON,
            or_(
                Measure.soon_notified_for.is_(None),
                Measure.soon_notified_for != Measure.deadline,
                (Measure.deadline < today)
                & or_(
                    Measure.overdue_notified_for.is_(None),
                    Measure.overdue_notified_for != Measure.deadline,
                ),
            ),
        )
        .order_by(Measure.id)
        .limit(ctx.batch)
    )
    rows = list(db.session.scalars(claim_rows(query)))
    events = []
    for measure in rows:
        late = measure.deadline < today
        stage = "late" if late else "soon"
        events.append(
            Event(
                Kind.MEASURE_DUE,
                [measure.responsible_id],
                f"measure:{measure.id}:{stage}:{measure.deadline.isoformat()}",
                f"{link(measure.assessment_id)}/plan",
            )
        )
        measure.soon_notified_for = measure.deadline
        if late:
            measure.overdue_notified_for = measure.deadline
    notify_many(events, now=ctx.now)
    db.session.flush()
    return len(rows)


# -- what is due (the CLI and the overview) --------------------------------------------


@dataclass(frozen=True)
class Due:
    assessment_id: int
    title: str
    what: str  # "review" or "measure"
    due: date
    measure_id: int | None = None


def due(today: date) -> list[Due]:
    """Reviews past their date and open measures past their deadline, oldest first."""
    out: list[Due] = []
    for assessment in db.session.scalars(select(Assessment).order_by(Assessment.id)):
        version = assessment.approved
        if version is not None and version.next_review < today:
            out.append(Due(assessment.id, assessment.title, "review", version.next_review))
    for measure, title in db.session.execute(
        select(Measure, Assessment.title)
        .join(Assessment, Assessment.id == Measure.assessment_id)
        .where(Measure.status.in_(OPEN_MEASURE_STATES), Measure.deadline < today)
    ):
        out.append(Due(measure.assessment_id, title, "measure", measure.deadline, measure.id))
    return sorted(out, key=lambda d: (d.due, d.assessment_id))


def now_local() -> date:
    return local_today(utcnow())
