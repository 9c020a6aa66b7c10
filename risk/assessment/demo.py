"""The demo's risk assessment: the emergency department's approved assessment with an
action plan, whose item trends and re-assessment triggers show on the first start."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from reporting.schemas import ReportSchema
from reporting.service import submit_report
from risk.assessment import participation, plan, service, triggers
from risk.assessment.models import Assessment, AssessmentVersion, RiskItem
from trygg import org
from trygg.accounts.models import User
from trygg.extensions import db, utcnow

OSLO = ZoneInfo("Europe/Oslo")

# The plain-language summary published to the unit's employees.
SUMMARIES = {
    "summary_risks": "Den største risikoen er utagerende pasienter og pårørende på "
    "venterommet om kvelden. Vi monterer alarmknapper og øver på å håndtere trusler.",
    "summary_routines": "Trykk på alarmen eller ring 112 ved fare. Meld alle hendelser "
    "i Trygg samme dag, også trusler og utskjelling.",
    "summary_contact": "Leder Lars Leder, verneombud Vera Verneombud.",
}


def _user(name: str) -> User | None:
    return db.session.scalar(select(User).where(User.name == name))


def seed_assessment() -> None:
    """trygg.demo's hook (after the demo incidents): one approved assessment."""
    unit = org.find_unit("Akuttmottaket")
    leader = _user("Lars Leder")
    rep = _user("Vera Verneombud")
    if unit is None or leader is None or db.session.scalar(select(Assessment.id).limit(1)):
        return
    today = triggers.now_local()
    assessment = _create(leader, rep, unit.id, today)
    version = assessment.latest
    waiting = _add_items(leader, version)
    service.set_status(leader, version, "approved")
    _add_measures(leader, assessment, waiting.ref, today)
    if rep is not None:
        participation.comment(
            rep,
            version,
            "Verneombudet har deltatt og slutter seg til vurderingen. Alarmknappene må på plass "
            "før vinteren.",
            "statement",
        )
    service.publish(leader, version, SUMMARIES)
    # Last week's violent evening in the waiting room, reported by an employee: the first
    # start shows the re-assessment it triggers (and whatever the trends trigger).
    _report_last_week(unit.id)
    now = utcnow()
    triggers.check_incidents(now, None)
    triggers.check_trends(today)


def _create(leader: User, rep: User | None, unit_id: int, today: date) -> Assessment:
    """The assessment with its period and who took part."""
    assessment = service.create(
        leader,
        {
            "unit_id": unit_id,
            "title": "Vold og trusler i akuttmottaket",
            "work_kind": "Kveld og natt",
            "matrix_size": 5,
            "period_start": today - timedelta(days=60),
            "period_end": today + timedelta(days=305),
            "next_review": today + timedelta(days=120),
            "notes": "Kartlagt på personalmøte, vernerunde og fra avviksmeldinger.",
        },
    )
    service.update_version(
        leader,
        assessment.latest,
        {
            "participants": [
                {"role": "leader", "name": leader.name},
                # vocabulary: risk participant
                {"role": "safety_rep", "name": rep.name if rep else "Verneombud"},
                # vocabulary: risk participant
                {"role": "employee", "name": "Personalmøte, kveldsskiftet"},
            ]
        },
    )
    return assessment


def _add_items(leader: User, version: AssessmentVersion) -> RiskItem:
    """Three risk items; the first (the waiting room), which the measures address."""
    waiting = service.add_item(
        leader,
        version,
        {
            "hazard": "Aggressive pasienter og pårørende på venterommet, kveld",
            "description": "Lang ventetid og rus gir utagering mot ansatte i skranken.",
            "factors": ["where_when", "alarms", "staffing", "violence_threats"],
            "existing_measures": "Glassvegg i skranken, vekter i helger.",
            "likelihood": 4,
            "consequence": 4,
            "likelihood_after": 2,
            "consequence_after": 3,
            "scope_places": ["front_desk"],
            "scope_counterparts": ["patient", "relative"],
        },
    )
    service.add_item(
        leader,
        version,
        {
            "hazard": "Grensesetting overfor pasienter i rus",
            "factors": ["competence", "emotional_demands", "violence_threats"],
            "existing_measures": "Kurs i konflikthåndtering for nyansatte.",
            "likelihood": 3,
            "consequence": 4,
            "scope_activities": ["limit_setting"],
        },
    )
    service.add_item(
        leader,
        version,
        {
            "hazard": "Alenearbeid i observasjonsrom om natten",
            "factors": ["lone_work", "working_hours", "alarms"],
            "likelihood": 2,
            "consequence": 5,
            "scope_lone_work": True,
        },
    )
    return waiting


def _add_measures(leader: User, assessment: Assessment, item_ref: int, today: date) -> None:
    """The action plan: two measures for the waiting room, one of them overdue."""
    plan.add(
        leader,
        assessment,
        {
            "item_ref": item_ref,
            "goal": "Raskt tilkalle hjelp fra skranken",
            "what": "Montere alarmknapper i skranken og på venterommet, koblet til vekter.",
            "collective": True,
            "lowers": "consequence",
            "affected": "Alle i skranken, kveld og natt",
            "responsible_id": leader.id,
            "deadline": today - timedelta(days=5),
            "status": "in_progress",  # vocabulary: risk measure state
        },
    )
    plan.add(
        leader,
        assessment,
        {
            "item_ref": item_ref,
            "goal": "Alle kan håndtere truende situasjoner",
            "what": "Øvelse i forebygging og håndtering av trusler og vold (MAP).",
            "collective": True,
            "lowers": "both",
            "affected": "Alle ansatte i akuttmottaket",
            "responsible_id": leader.id,
            "deadline": today + timedelta(days=45),
            "is_training": True,
            "repeat_months": 12,
        },
    )


def _report_last_week(unit_id: int) -> None:
    reporter = _user("Kari Nordmann")
    evening = datetime.now(OSLO).replace(hour=20, minute=15, second=0, microsecond=0)
    data = ReportSchema().load(
        {
            "incident_types": ["physical_violence", "threat"],
            "occurred_at": (evening - timedelta(days=6)).isoformat(),
            "place_type": "front_desk",
            "counterpart_category": "patient",
            "severity": 3,
            "narrative": "Demo: en pasient som hadde ventet lenge, slo etter meg i skranken.",
            "unit_id": unit_id,
        }
    )
    submit_report(data, reporter=reporter)
