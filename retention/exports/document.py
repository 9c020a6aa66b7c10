"""What a case export contains: the sections a handler chose, as plain data (JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from handling import codes
from handling import service as handling
from handling.errors import CaseError
from handling.models import Case
from handling.presenters import Names, event_text
from reporting import service as reporting
from reporting.codes import Codes
from trygg import audit, org
from trygg.accounts.models import User
from trygg.accounts.names import display_name
from trygg.audit import actor_label
from trygg.extensions import utcnow
from trygg.i18n import lazy_gettext as _l

SECTIONS: Codes = {
    "report": _l("The report: what happened"),
    "people": _l("People involved"),
    "reporter": _l("The reporter's identity"),
    "timeline": _l("Timeline"),
    "messages": _l("Messages and internal notes"),
    "follow_up": _l("Follow-up tasks and debriefings"),
    "closing": _l("Closing, feedback and reasons"),
}
# Who an export goes to: the codes a reporter's consent to be named is given for.
RECIPIENTS: Codes = codes.EXPORT_RECIPIENTS
REASONS: Codes = {
    "police_report": _l("Police report or investigation"),
    "section_5_2_notice": _l("Notice of serious injury (§ 5-2)"),
    "injury_report": _l("Occupational injury report (NAV)"),
    "inspection": _l("Inspection or order from an authority"),
    "legal_proceedings": _l("Legal proceedings"),
}


@dataclass
class ExportRequest:
    recipient: str
    reason: str
    sections: list[str]


def _text(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def identity_allowed(case: Case, request: ExportRequest, user: User) -> bool:
    """Whether the export names the reporter: when chosen, and where their identity is
    protected (a varsel, a confidential report) only to a recipient they agreed to on
    their case page (`handling.service.consent`). A confidential reporter was promised
    that only the handler assigned to the case sees who they are: only that handler's
    export names them."""
    return (
        "reporter" in request.sections
        and handling.consent_allows(case, request.recipient)
        and (not case.report.confidential or confidential_exporter(case, user))
    )


def confidential_exporter(case: Case, user: User) -> bool:
    """The one handler who may name a confidential reporter: the case's assignee."""
    return case.assigned_user_id is not None and case.assigned_user_id == user.id


def ask_consent(case: Case, user: User, recipients: list[str]) -> list[str]:
    """Ask the reporter whether they agree to be named to these kinds of recipient
    (`handling.request_identity_consent`): only a handler whose export could name them,
    so for a confidential reporter only the case's assignee."""
    report = case.report
    if report.confidential and not report.anonymous and not confidential_exporter(case, user):
        raise CaseError(
            _l(
                "Only the case handler assigned to the case can ask a confidential reporter "
                "to be named: only their export can name them."
            ),
            field="recipients",
        )
    return handling.request_identity_consent(case, recipients, actor=user)


def build(case: Case, user: User, request: ExportRequest) -> dict[str, Any]:
    """The export of a case as plain data; audited (reading and export). The caller has
    checked the user's access (handling.service.case_for) and commits."""
    content = handling.open_case_content(case, user, part="export")
    report = content.report or {}
    named = identity_allowed(case, request, user)
    identity = reporting.reporter_identity(case.report) or {}
    chosen = request.sections
    doc = _cover(case, request)
    if "report" in chosen:
        doc["report"] = {k: _text(report.get(k)) for k in REPORT_KEYS}
    if "people" in chosen:
        doc["people"] = _people(report, None if named else identity.get("user_id"), named)
    if named:
        doc["reporter"] = {"name": display_name(identity.get("name"))}
    if "timeline" in chosen:
        doc["timeline"] = _timeline(content)
    if "messages" in chosen:
        doc["messages"] = _messages(content, named)
    if "follow_up" in chosen:
        doc["tasks"], doc["debriefings"] = _follow_up(content)
    if "closing" in chosen:
        doc["closing"] = _closing(case, content)
    audit.record(
        "case.export",
        actor=actor_label(user),
        object_type="case",
        object_id=case.id,
        detail={
            "recipient": request.recipient,
            "reason": request.reason,
            "sections": doc["sections"],
            "reporter_named": named,
        },
    )
    return doc


# The report's sealed fields an export gives, in this order.
REPORT_KEYS = (
    "occurred_at",
    "narrative",
    "counterpart_identity",
    "injury_description",
    "sick_leave",
    "sick_leave_days",
    "police_details",
    "immediate_measures_text",
    "causes_text",
)


def _cover(case: Case, request: ExportRequest) -> dict[str, Any]:
    """What every export says: the case, when, to whom, why, and its classification."""
    report = case.report
    unit = org.get_unit(report.unit_id) if report.unit_id else None
    return {
        "reference": report.reference,
        "exported_at": utcnow().isoformat(),
        "recipient": request.recipient,
        "reason": request.reason,
        "sections": [s for s in SECTIONS if s in request.sections],
        "classification": {
            "track": case.track,
            "state": case.state,
            "incident_types": report.incident_types,
            "occurred_month": report.occurred_month.isoformat(),
            "unit": unit.name if unit else None,
            "place_type": report.place_type,
            "counterpart_category": report.counterpart_category,
            "severity": report.severity,
            "injury_level": report.injury_level,
            "serious_injury": report.serious_injury,
            "section_5_2": case.section_5_2,
            "police_report": report.police_report,
        },
    }


def _people(report: dict[str, Any], reporter_id: int | None, named: bool) -> dict[str, list[Any]]:
    """The exposed and the witnesses by name, leaving out a reporter not to be named
    (also where the content read for this exporter already says only "The reporter":
    `handling.service.reading`, a confidential report read by someone else than the
    assigned handler)."""
    return {
        role: [
            p.get("name")
            for p in report.get(role, [])
            if p.get("user_id") != reporter_id and (named or not p.get("reporter"))
        ]
        for role in ("exposed", "witnesses")
    }


# Whom a protected reporter agreed, or refused, to be named to is between them and the
# employer: a recipient learns only what the export itself says (their name, or not),
# never that the reporter said no to the police, or yes to someone else.
PRIVATE_EVENTS = frozenset(
    {"identity_consent", "identity_consent_asked", "identity_consent_refused"}
)


def _timeline(content: handling.CaseContent) -> list[dict[str, Any]]:
    names, groups = Names(), {g.id: g.name for g in handling.handler_groups()}
    # "text": the event in words, in the request's language (the codes stay beside it)
    return [
        {
            "at": _text(e.at),
            "kind": e.kind,
            "codes": e.codes,
            "text": event_text(e, names, groups),
        }
        for e in content.events
        if e.kind not in PRIVATE_EVENTS
    ]


def _messages(content: handling.CaseContent, named: bool) -> list[dict[str, Any]]:
    """Messages and internal notes; one that would identify the reporter only when named."""
    return [
        {
            "at": _text(m.created_at),
            "from": m.author_kind,
            "internal": m.internal,
            "body": m.body if named or not m.identity else None,
        }
        for m in content.messages
    ]


def _follow_up(content: handling.CaseContent) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The follow-up tasks and the debriefings."""
    tasks = [
        {
            "template": t.task.template,
            "status": t.task.status,
            "due_at": _text(t.task.due_at),
            "note": t.note,
        }
        for t in content.tasks
    ]
    debriefings = [
        {
            "held_on": _text(d.debriefing.held_on),
            "outcome": d.outcome,
            "further_needs": d.further_needs,
        }
        for d in content.debriefings
    ]
    return tasks, debriefings


def _closing(case: Case, content: handling.CaseContent) -> dict[str, Any]:
    return {
        "closed_at": _text(case.closed_at),
        "closing_note": content.closing_note,
        "feedback": content.feedback,
        "drop_reason": content.drop_reason,
        "no_follow_up_reason": content.no_follow_up_reason,
    }
