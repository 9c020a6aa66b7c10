"""The data subject's right of access (innsyn): what Trygg stores about one person.

As the reporter: each of their reports as they wrote it, its state, the feedback and the
messages they can see (never the handlers' internal notes). As the exposed employee
named in someone else's report: that they are named, the case's reference and
classification, and the follow-up tasks (not the handlers' notes on them) and
debriefings of that case, which concern them; not the other person's account (their
report is theirs: a colleague's report about the same incident is not included).
Reading is audited: as "reporter" for the user's own reports (the log must not link a
confidential reporter), as a "case.read" (level "subject") of each case that names
them, and as one `user.access_export` entry about the user.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from handling import service as handling
from handling.models import Case
from reporting import people_index
from reporting import service as reporting
from reporting.codes import Codes
from reporting.models import Report
from trygg import audit, org
from trygg.accounts.models import User
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l

REQUEST_REASONS: Codes = {
    "data_subject_request": _l("The person's own request (innsyn)"),
    "representative_request": _l("A request from the person's representative"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def _own_report(
    report: Report, case: Case | None, consents: dict[str, datetime], *, exposed: bool
) -> dict[str, Any]:
    """One of the person's own reports as they wrote it, the case's messages and
    feedback, and, where they named themselves as the exposed employee, its follow-up."""
    content = reporting.open_report(report, actor="reporter", part="access")
    fields = dict(content.fields)
    unit = org.get_unit(report.unit_id) if report.unit_id else None
    out: dict[str, Any] = {
        "reference": report.reference,
        "submitted": report.created_at,  # vocabulary: export field
        "incident_types": report.incident_types,
        "confidential": report.confidential,
        # What they chose on the form (kept in clear, as codes), then what they wrote.
        "unit": unit.name if unit else None,
        "place_type": report.place_type,
        "counterpart_category": report.counterpart_category,
        "severity": report.severity,
        "injury_level": report.injury_level,
        "police_report": report.police_report,
        "immediate_measures": report.immediate_measures,
        "causes": report.causes,
        **fields,
        "files": [
            {"name": f.name, "type": f.content_type, "size": f.size} for f in content.attachments
        ],
    }
    if case is not None:
        view = handling.reporter_view(report, actor="reporter", case=case)
        out["state"] = view.state
        out["feedback"] = view.feedback
        out["messages"] = [
            {"at": m.created_at, "from": m.author_kind, "body": m.body} for m in view.messages
        ]
        # Whom they agreed may learn who they are, if the case is exported (a varsel's
        # or a confidential report's reporter).
        out["identity_consents"] = [
            {"recipient": recipient, "given_at": given_at}
            for recipient, given_at in sorted(consents.items())
        ]
        if exposed:  # read as "reporter", as the rest of their own report here
            out.update(_follow_up(case, "reporter"))
    return out


def _named_in(report: Report, case: Case | None, *, actor: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "reference": report.reference,
        "role": "exposed",
        "occurred_month": report.occurred_month,
        "incident_types": report.incident_types,
    }
    if case is not None:
        out.update(_follow_up(case, actor))
    return out


def _follow_up(case: Case, actor: str) -> dict[str, Any]:
    """The follow-up of the exposed person: their tasks and debriefings. The case's own
    access history shows this reading (part "access"), like every other opening of its
    content; the task's note is the handlers' alone."""
    handling.record_read(case, actor, part="access", level="subject")
    return {
        "tasks": [
            {
                "template": view.task.template,
                "status": view.task.status,
                "due_at": view.task.due_at,
            }
            for view in (handling.task_view(case, t, with_note=False) for t in case.tasks)
        ],
        "debriefings": [
            {"held_on": view.debriefing.held_on, "outcome": view.outcome}
            for view in (handling.debriefing_view(case, d, full=False) for d in case.debriefings)
        ],
    }


ADMIN_NOTE = _l(
    "Reports and cases are never shown to an administrator: the person downloads them "
    "from their own account page (Your data)."
)


def build(
    user: User, *, actor: str, reason: str | None = None, with_cases: bool = True
) -> dict[str, Any]:
    """Everything stored about `user` as reporter or exposed person; audited.

    `with_cases=False` (an admin answering a request) gives the account only: an admin
    never reads case content, nor learns that the person reported (a confidential
    reporter's identity); the person downloads the rest themselves.
    """
    if not with_cases:
        audit.record(
            "user.access_export",
            actor=actor,
            object_type="user",
            object_id=user.id,
            detail={"reason": reason, "cases": False} if reason else {"cases": False},
        )
        return _plain(
            {
                "exported_at": utcnow(),
                "account": {"name": user.name, "email": user.email},
                "note": str(ADMIN_NOTE),
            }
        )
    own = list(
        db.session.scalars(
            select(Report)
            .where(Report.owner_tag == reporting.owner_tag(user), Report.erased_month.is_(None))
            .order_by(Report.id)
        )
    )
    own_ids = {r.id for r in own}
    # By the index of the accounts reports name (reporting/people_index.py): the
    # statements do not grow with the number of reports, only with the user's own.
    exposed_in = set(people_index.reports_naming(user.id, "exposed"))
    named_ids = sorted(exposed_in - own_ids)
    named = (
        list(db.session.scalars(select(Report).where(Report.id.in_(named_ids)).order_by(Report.id)))
        if named_ids
        else []
    )
    audit.record(
        "user.access_export",
        actor=actor,
        object_type="user",
        object_id=user.id,
        detail={"reason": reason} if reason else {},
    )
    # Every case at once: a person may have reported a thousand times.
    cases = handling.cases_for_reports([*own_ids, *named_ids])
    # The consents of their own reports' cases only (a report naming them is not theirs).
    own_cases = {report_id: cases[report_id] for report_id in own_ids if report_id in cases}
    by_case = handling.consents_by_case(case.id for case in own_cases.values())
    consents = {report_id: by_case[case.id] for report_id, case in own_cases.items()}
    return _plain(
        {
            "exported_at": utcnow(),
            "account": {"name": user.name, "email": user.email},
            "reports": [
                _own_report(r, cases.get(r.id), consents.get(r.id, {}), exposed=r.id in exposed_in)
                for r in own
            ],
            "named_as_exposed": [_named_in(r, cases.get(r.id), actor=actor) for r in named],
        }
    )
