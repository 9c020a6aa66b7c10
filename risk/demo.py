"""Two years of plausible incidents for the demo organisation, so trends show something.

More in the emergency department and home care, fewer in summer, most in the evening;
each unit with its own kind of incidents. Written straight into the report and case
tables (the intake service stamps everything "now", and this must stay quick on SQLite):
every sealed field is sealed with reporting's own helper under a fresh data key from the
keyring, so a case handler can open these reports like any other. bench/seed.py draws
its million reports from the same generator.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from handling.models import Case, CaseEvent, Deadline, HandlerGroup
from handling.states import CaseState, Track
from handling.workflow import REPORTER_STATUS
from reporting import service as reporting
from reporting.codes import Channel
from reporting.models import Report, ReportIncidentType
from trygg import keys, org
from trygg.extensions import db

OSLO = ZoneInfo("Europe/Oslo")
# Relative number of incidents by calendar month (fewer in the summer holidays).
SEASON = [1.15, 1.05, 1.05, 0.95, 0.9, 0.8, 0.6, 0.75, 1.0, 1.1, 1.15, 1.2]
# A demo case older than this is closed, whatever else its course drew.
ACTIVE_AT_MOST_DAYS = 120
# Hours of the day by relative weight: most in the evening, some at night.
HOURS = [0.3] * 7 + [0.8] * 8 + [1.6] * 8 + [0.5]


@dataclass(frozen=True)
class Profile:
    """What incidents look like in one kind of unit, with monthly rate per 100 people."""

    rate: float
    types: dict[str, float]
    counterparts: dict[str, float]
    places: dict[str, float]
    activities: dict[str, float] = field(default_factory=lambda: {"care": 1.0})
    lone_work: float = 0.1


EMERGENCY = Profile(
    9.0,
    {
        "threat": 4,
        "verbal_abuse": 5,
        "physical_violence": 2,
        "threatening_behaviour": 3,
        "sexual_harassment": 0.6,
        "damage": 1,
    },
    {"patient": 6, "relative": 3, "customer": 1},
    {"front_desk": 4, "patient_room": 4, "outdoors": 0.5},
    {"care": 3, "limit_setting": 3, "casework": 0.5},
)
PSYCHIATRY = Profile(
    6.0,
    {
        "physical_violence": 4,
        "threat": 4,
        "threatening_behaviour": 3,
        "damage": 2,
        "verbal_abuse": 3,
        "sexual_harassment": 0.7,
    },
    {"patient": 9, "relative": 1},
    {"patient_room": 5, "interview_room": 2, "outdoors": 0.5},
    {"care": 2, "limit_setting": 3, "coercion": 3},
)
HOME_CARE = Profile(
    8.0,
    {
        "verbal_abuse": 4,
        "threat": 3,
        "sexual_harassment": 1.5,
        "physical_violence": 1,
        "threatening_behaviour": 1,
    },
    {"client": 6, "relative": 3},
    {"home_visit": 8, "vehicle": 1, "digital": 1},
    {"care": 5, "limit_setting": 1},
    lone_work=0.8,
)
OFFICE = Profile(
    0.4,
    {
        "bullying": 3,
        "other_improper_conduct": 2,
        "sexual_harassment": 1,
        "discriminatory_harassment": 1,
        "online_abuse": 1,
    },
    {"colleague": 6, "leader": 2, "customer": 1},
    {"other": 5, "digital": 2},
    {"casework": 3, "other": 2},
)
# The demo organisation's units (trygg.demo.UNITS) by profile.
DEMO_PROFILES = {
    "Trygg sykehus": OFFICE,
    "Akuttmottaket": EMERGENCY,
    "Psykiatrisk avdeling": PSYCHIATRY,
    "Hjemmetjenesten": HOME_CARE,
    "Hjemmetjenesten sone nord": HOME_CARE,
    "Hjemmetjenesten sone sør": HOME_CARE,
}
NARRATIVES = [
    "Pasienten ble urolig i venterommet og truet med å slå.",
    "Bruker kjeftet og kom med nedsettende kommentarer under besøket.",
    "Pårørende ble sint over ventetiden og truet ansatte.",
    "Pasienten slo etter meg da jeg satte grenser.",
    "Kollega kom med gjentatte ubehagelige kommentarer.",
]


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class Incident:
    """One generated incident with everything its report and case need."""

    unit_id: int
    occurred: datetime
    types: list[str]
    place: str
    counterpart: str
    activity: str
    severity: int
    lone_work: bool
    injury: str
    sick_leave: bool
    police: str
    causes: list[str]
    channel: str

    @property
    def month(self) -> date:
        return reporting.month_of(self.occurred)


def incidents(
    units: list[tuple[int, int, Profile]], first: date, last: date, rng: random.Random
) -> Iterator[Incident]:
    """Incidents per (unit id, headcount, profile), month by month from first to last."""
    month = first
    while month <= last:
        days = ((month.replace(day=28) + timedelta(days=4)).replace(day=1) - month).days
        for unit_id, headcount, profile in units:
            expected = profile.rate * headcount / 100 * SEASON[month.month - 1]
            for _ in range(_poisson(rng, expected)):
                yield _incident(rng, unit_id, profile, month, days)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    count, limit, product = 0, pow(2.718281828, -mean), rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _incident(rng: random.Random, unit_id: int, p: Profile, month: date, days: int) -> Incident:
    hour = rng.choices(range(24), weights=HOURS)[0]
    local = datetime(month.year, month.month, rng.randint(1, days), hour, rng.randint(0, 59))
    types = {_pick(rng, p.types)}
    if rng.random() < 0.25:
        types.add(_pick(rng, p.types))
    severity = rng.choices([1, 2, 3, 4], weights=[50, 35, 13, 0.5])[0]
    injury = {1: "none", 2: "first_aid", 3: "doctor", 4: "hospital"}[severity]
    return Incident(
        unit_id=unit_id,
        occurred=local.replace(tzinfo=OSLO).astimezone(UTC),
        types=sorted(types),
        place=_pick(rng, p.places),
        counterpart=_pick(rng, p.counterparts),
        activity=_pick(rng, p.activities),
        severity=severity,
        lone_work=rng.random() < p.lone_work,
        injury=injury,
        sick_leave=severity >= 3 and rng.random() < 0.6,
        police="employer" if severity >= 3 and rng.random() < 0.3 else "no",
        causes=sorted(
            {
                _pick(
                    rng,
                    {
                        "staffing": 3,
                        "lone_work": 1,
                        "premises": 1,
                        "waiting_time": 1,
                        "competence": 1,
                    },
                )
            }
        )
        if rng.random() < 0.6
        else [],
        channel="face_to_face" if rng.random() < 0.85 else "phone",
    )


# -- the case's course ------------------------------------------------------------------


@dataclass
class Course:
    """How a case went: state, track, when it closed, its deadlines (kind, due, met)."""

    track: str
    state: str
    section_5_2: bool
    opened: datetime
    closed: datetime | None
    deadlines: list[tuple[str, datetime, datetime | None]]


def course(incident: Incident, now: datetime, rng: random.Random) -> Course:
    """A plausible course for the incident's case, given how long ago it happened."""
    opened = incident.occurred + timedelta(hours=rng.uniform(0.5, 30))
    harassment = bool(
        {"bullying", "sexual_harassment", "other_improper_conduct"} & set(incident.types)
    ) and incident.counterpart in ("colleague", "leader")
    track = Track.WHISTLEBLOWING if harassment else Track.HMS_DEVIATION
    age = (now - opened).days
    closed = None
    young = [CaseState.REPORTED, CaseState.ACKNOWLEDGED, CaseState.IN_PROGRESS]
    state = rng.choice(young) if age < 20 else CaseState.IN_PROGRESS
    if age >= 20:
        roll = rng.random()
        if roll < 0.80:
            state, closed = CaseState.CLOSED, opened + timedelta(days=rng.lognormvariate(3.1, 0.6))
        elif roll < 0.88:
            state, closed = CaseState.DROPPED, opened + timedelta(days=rng.uniform(3, 30))
        elif roll < 0.92:
            state = CaseState.FORWARDED
        if closed is not None and closed > now:
            state, closed = CaseState.IN_PROGRESS, None
    if closed is None and age > ACTIVE_AT_MOST_DAYS:
        # The demo's queue holds this season's work, not a case from two years ago
        # "700 days overdue": an old case still in progress or forwarded was closed.
        closed = opened + timedelta(days=rng.uniform(30, ACTIVE_AT_MOST_DAYS))
        state = CaseState.CLOSED
    deadlines: list[tuple[str, datetime, datetime | None]] = []

    def step(kind: str, due: datetime, in_time: float) -> None:
        met = None
        if due < now or rng.random() < 0.5:
            roll = rng.random()
            if roll < in_time:
                met = opened + (due - opened) * rng.uniform(0.1, 0.95)
            elif roll < in_time + 0.15:
                met = due + timedelta(hours=rng.uniform(2, 96))
        if met is not None and met > now:
            met = None
        deadlines.append((kind, due, met))

    step("acknowledge", opened + timedelta(days=7), 0.85)
    if {"physical_violence", "threat", "threatening_behaviour", "damage"} & set(incident.types):
        step("leader_contact", opened + timedelta(hours=3 if incident.severity >= 3 else 10), 0.7)
        step("recontact", opened + timedelta(days=21), 0.6)
    return Course(track, state, incident.severity == 4, opened, closed, deadlines)


# -- writing them -----------------------------------------------------------------------


def write(found: list[Incident], now: datetime, rng: random.Random) -> int:
    """Store incidents as reports with their cases (the caller commits)."""
    ring = keys.keyring()
    group_id = db.session.scalar(select(HandlerGroup.id).where(HandlerGroup.is_default))
    for incident in found:
        key, wrapped = ring.new_data_key()
        the_course = course(incident, now, rng)
        values = _report_values(incident, wrapped, the_course)
        report_id = db.session.execute(
            insert(Report).values(**values).returning(Report.id)
        ).scalar_one()
        sealed = {
            "occurred_at_sealed": incident.occurred.isoformat(),
            "narrative_sealed": rng.choice(NARRATIVES),
            "people_sealed": {"exposed": [], "witnesses": [], "counterpart_user_id": None},
        }
        db.session.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(
                reference=reporting.next_reference("AVV", incident.occurred.year),
                **{
                    column: reporting.seal_value(key, report_id, column.removesuffix("_sealed"), v)
                    for column, v in sealed.items()
                },
            )
        )
        db.session.execute(
            insert(ReportIncidentType),
            [{"report_id": report_id, "incident_type": t} for t in incident.types],
        )
        _write_case(report_id, group_id, the_course)
    return len(found)


def _report_values(incident: Incident, wrapped: bytes, the_course: Course) -> dict[str, Any]:
    return {
        # A unique stand-in until the real reference is taken (as the intake does).
        "reference": f"pending-{secrets.token_hex(12)}",
        "channel_kind": Channel.EMPLOYEE,
        "created_at": the_course.opened,
        "status": REPORTER_STATUS[the_course.state],
        "confidential": False,
        "owner_tag": None,
        "wrapped_key": wrapped,
        "unit_id": incident.unit_id,
        "occurred_month": incident.month,
        "time_band": reporting.time_band(incident.occurred),
        "place_type": incident.place,
        "channel": incident.channel,
        "counterpart_category": incident.counterpart,
        "lone_work": incident.lone_work,
        "activity": incident.activity,
        "severity": incident.severity,
        "injury_level": incident.injury,
        "serious_injury": incident.severity == 4,
        "has_sick_leave": incident.sick_leave,
        "police_report": incident.police,
        "immediate_measures": [],
        "causes": incident.causes,
        "on_behalf": False,
    }


def _write_case(report_id: int, group_id: int | None, c: Course) -> None:
    # The queue counts and sorts by Case.next_due_at (handling's refresh_next_due):
    # written here with the rows, or the demo queue would show no case overdue.
    still_open = [due for _kind, due, met in c.deadlines if met is None and c.closed is None]
    case_id = db.session.execute(
        insert(Case)
        .values(
            report_id=report_id,
            track=c.track,
            state=c.state,
            group_id=group_id,
            section_5_2=c.section_5_2,
            follow_up_duty=False,
            causes=[],
            opened_at=c.opened,
            updated_at=c.closed or c.opened,
            triaged_at=None,
            closed_at=c.closed,
            next_due_at=min(still_open, default=None),
        )
        .returning(Case.id)
    ).scalar_one()
    rows = []
    for kind, due, met in c.deadlines:
        cancelled = c.closed if met is None and c.closed is not None else None
        rows.append(
            {
                "case_id": case_id,
                "kind": kind,
                "due_at": due,
                "met_at": met,
                "cancelled_at": cancelled,
                "created_at": c.opened,
            }
        )
    if rows:
        db.session.execute(insert(Deadline), rows)
    db.session.execute(
        insert(CaseEvent).values(
            case_id=case_id, at=c.opened, kind="opened", codes={"track": c.track}, actor="demo"
        )
    )


def seed_incidents() -> None:
    """trygg.demo's hook: two years of incidents for the demo units (about 700)."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
    now = datetime.now(UTC)
    this_month = reporting.month_of(now)
    first = date(this_month.year - 2, this_month.month, 1)
    units = []
    for unit in org.all_units():
        profile = DEMO_PROFILES.get(unit.name)
        if profile is not None:
            own = unit.headcount - sum(child.headcount for child in unit.children)
            units.append((unit.id, max(own, 0), profile))
    found = [i for i in incidents(units, first, this_month, rng) if i.occurred < now]
    write(found, now, rng)
