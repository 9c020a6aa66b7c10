"""How cases are shown: deadline lines, names, event texts and form state for the pages,
and the dicts the JSON API dumps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import format_datetime, format_timedelta, ngettext
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from handling import codes, service
from handling.models import (
    Case,
    CaseEvent,
    Deadline,
    DeadlinePolicy,
)
from handling.states import AccessLevel, GrantKind, Side
from handling.workflow import (
    CaseError,
    state_label,
)
from reporting import codes as rcodes
from trygg.accounts import service as accounts
from trygg.accounts.models import User
from trygg.accounts.names import display_name
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.validation import flatten_errors, translate_errors

OSLO = ZoneInfo("Europe/Oslo")

# -- presentation helpers ---------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineLine:
    """One deadline as a page shows it."""

    kind: str
    label: str
    due_at: datetime
    # met, cancelled, overdue, due_soon, ok
    status: str
    text: str


def deadline_line(row: Deadline, now: datetime) -> DeadlineLine:
    """A deadline with the time left, how late it is, or when it was met."""
    label = rcodes.label(codes.DEADLINE_KINDS, row.kind)
    if row.met_at is not None:
        text = _("Met %(when)s", when=format_datetime(row.met_at, "short"))
        if row.met_at > row.due_at:
            text = _("Met late, %(when)s", when=format_datetime(row.met_at, "short"))
        return DeadlineLine(row.kind, label, row.due_at, "met", text)
    if row.cancelled_at is not None:
        return DeadlineLine(row.kind, label, row.due_at, "cancelled", _("No longer needed"))
    status = service.deadline_status(row.due_at, now)
    if status == "overdue":
        text = _("%(time)s overdue", time=format_timedelta(now - row.due_at))
    else:
        text = _("%(time)s left", time=format_timedelta(row.due_at - now))
    return DeadlineLine(row.kind, label, row.due_at, status, text)


def local_input(moment: datetime | None) -> str:
    """A UTC time as the value of a datetime-local input, in Oslo time."""
    if moment is None:
        return ""
    return moment.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M")


class Names:
    """Audit-style actor labels ("user:42", "reporter", "system") as names, cached."""

    def __init__(self) -> None:
        self._users: dict[int, str] = {}

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._users:
            person = accounts.get_user(user_id)
            self._users[user_id] = (
                display_name(person.name) if person is not None else _("Deleted user")
            )
        return self._users[user_id]

    def load(self, user_ids: Iterable[Any]) -> None:
        """Read the names of these users not known yet, in one query (a page's rows)."""
        wanted = sorted({i for i in user_ids if isinstance(i, int)} - set(self._users))
        if wanted:
            # Read as columns: a name is all that is shown.
            for user_id, name in db.session.execute(
                select(User.id, User.name).where(User.id.in_(wanted))
            ):
                self._users.setdefault(user_id, display_name(name))

    @staticmethod
    def actor_id(label: str) -> int | None:
        """The user id in an actor label ("user:42"), else None."""
        return int(label[5:]) if label.startswith("user:") and label[5:].isdigit() else None

    def remember(self, users: Iterable[User]) -> None:
        """Names already loaded (a page's people), so they are not read one by one."""
        for person in users:
            self._users.setdefault(person.id, display_name(person.name))

    def actor(self, label: str) -> str:
        if label.startswith("user:") and label[5:].isdigit():
            return self.user(int(label[5:]))
        return {
            "reporter": _("The reporter"),
            "system": _("Trygg (automatic)"),
            "anonymous": _("Not logged in"),
            "cli": _("The command line on the server"),
        }.get(label, label)


ACCESS_ACTIONS = {
    # A person's readings of one day, grouped (handling.service.reading.access_days).
    "read": _l("Opened"),
    "case.people_search": _l("Searched for a responsible person"),
    "case.read": _l("Opened the case"),
    "report.read": _l("Opened the report"),
    "case.access_denied": _l("Refused: conflict of interest"),
    "case.grant": _l("Gave access to"),
}
ACCESS_PARTS = {
    "case": _l("case page"),
    "messages": _l("messages"),
    "report": _l("report"),
    "attachment": _l("attachment"),
    "task": _l("follow-up task"),
    "debriefing": _l("debriefing"),
    "access": _l("their own data, downloaded"),
    "export": _l("export"),
    "name_search": _l("search by name"),
}


def _code(codeset: rcodes.Codes, code: Any) -> str:
    return rcodes.label(codeset, code) if isinstance(code, str) else ""


def event_text(event: CaseEvent, names: Names, groups: Mapping[int, str]) -> str:
    """What an event's codes say, in words (never content: events hold none)."""
    c = event.codes or {}
    kind = event.kind
    if kind == "opened":
        return _("Track: %(track)s", track=_code(codes.TRACKS, c.get("track")))
    if kind == "routed":
        text = groups.get(c.get("group") or 0, _("no group"))
        if c.get("warning"):
            text += " – " + _code(codes.ROUTING_WARNINGS, c["warning"])
        return text
    if kind == "transition":
        text = _(
            "From “%(from)s” to “%(to)s”",
            **{"from": state_label(c.get("from", "")), "to": state_label(c.get("to", ""))},
        )
        if c.get("track"):
            text += ". " + _("Track: %(track)s", track=_code(codes.TRACKS, c["track"]))
        if c.get("forwarded_to"):
            text += ". " + _code(codes.FORWARD_TARGETS, c["forwarded_to"])
        return text
    if kind == "track_changed":
        return _(
            "From “%(before)s” to “%(after)s”",
            before=_code(codes.TRACKS, c.get("before")),
            after=_code(codes.TRACKS, c.get("after")),
        )
    if kind == GrantKind.ASSIGNED:
        who = names.user(c.get("to")) if c.get("to") else _("the group's queue")
        return _("To %(who)s", who=who)
    if kind == "granted":
        return _("To %(who)s", who=names.user(c.get("to")))
    if kind in {"task_added", "task_updated"}:
        text = _code(codes.TASK_TEMPLATES, c.get("template"))
        if c.get("status"):
            text += ": " + _code(codes.TASK_STATUSES, c["status"])
        return text
    if kind == "message":
        if c.get("internal"):
            return _("Internal note")
        if c.get("identity"):
            return _("The reporter told who they are")
        if c.get("author") == Side.REPORTER:
            return _("From the reporter")
        return _("To the reporter")
    if kind == "attachments_added":
        count = int(c.get("count") or 0)
        return ngettext("%(num)s file", "%(num)s files", count)
    if kind == "identity_consent":
        parts = []
        if c.get("given"):
            given = ", ".join(_code(codes.EXPORT_RECIPIENTS, r) for r in c["given"])
            parts.append(_("May be named to: %(recipients)s", recipients=given))
        if c.get("withdrawn"):
            withdrawn = ", ".join(_code(codes.EXPORT_RECIPIENTS, r) for r in c["withdrawn"])
            parts.append(_("Withdrawn for: %(recipients)s", recipients=withdrawn))
        return ". ".join(parts)
    if kind in {"identity_consent_asked", "identity_consent_refused"}:
        return ", ".join(_code(codes.EXPORT_RECIPIENTS, r) for r in c.get("recipients", ()))
    if kind == "deadline_met":
        text = _code(codes.DEADLINE_KINDS, c.get("kind"))
        return text + (" – " + _("after the deadline") if c.get("late") else "")
    return ""


@dataclass
class Forms:
    """Which form on a page was sent and refused: its typed values and its errors.

    Forms are named by a prefix (element ids are "f-<prefix>-<field>"), so one page can
    hold several forms with fields of the same name.
    """

    active: str | None = None
    data: MultiDict[str, str] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def is_active(self, prefix: str) -> bool:
        return prefix == self.active

    def err(self, prefix: str) -> dict[str, list[str]]:
        return self.errors if prefix == self.active else {}

    def value(self, prefix: str, name: str, default: Any = "") -> Any:
        if prefix == self.active and self.data is not None:
            return self.data.get(name, "")
        return default

    def checked(self, prefix: str, name: str, default: bool = False) -> bool:
        """A checkbox as sent ("on"; a hidden "off" may come before it), else `default`."""
        if prefix == self.active and self.data is not None:
            return "on" in self.data.getlist(name)
        return bool(default)

    def values(self, prefix: str, name: str, default: Iterable[Any] = ()) -> list[str]:
        if prefix == self.active and self.data is not None:
            return self.data.getlist(name)
        return [str(v) for v in default]


def _errors_of(exc: ValidationError | CaseError) -> dict[str, list[str]]:
    if isinstance(exc, CaseError):
        return exc.messages()
    return flatten_errors(translate_errors(exc.messages))


# -- dumping ----------------------------------------------------------------------------


def _deadline(row: Deadline | None, now: datetime) -> dict[str, Any] | None:
    if row is None:
        return None
    if row.met_at is not None:
        status, left = "met", None
    elif row.cancelled_at is not None:
        status, left = "cancelled", None
    else:
        status = service.deadline_status(row.due_at, now)
        left = int((row.due_at - now).total_seconds())
    return {
        "id": row.id,
        "kind": row.kind,
        "due_at": row.due_at,
        "met_at": row.met_at,
        "cancelled_at": row.cancelled_at,
        "status": status,
        "seconds_left": left,
    }


def _summary(case: Case, now: datetime) -> dict[str, Any]:
    nearest = service.next_open_deadline(case)
    overdue = sum(1 for d in case.deadlines if d.is_open and d.due_at < now)
    return _summary_of(case, now, nearest, overdue, case.report.incident_types)


def queue_summary(item: service.QueueItem, now: datetime) -> dict[str, Any]:
    """A queue row's summary, from what the page's one statement read."""
    return _summary_of(
        item.case, now, item.next_deadline, item.overdue_deadlines, item.incident_types
    )


def _summary_of(
    case: Case, now: datetime, nearest: Deadline | None, overdue: int, incident_types: list[str]
) -> dict[str, Any]:
    report = case.report
    return {
        "id": case.id,
        "report_id": case.report_id,
        "reference": report.reference,
        "anonymous": report.anonymous,
        "confidential": report.confidential,
        "track": case.track,
        "state": case.state,
        "group_id": case.group_id,
        "group_name": case.group.name if case.group is not None else None,
        "assigned_user_id": case.assigned_user_id,
        "section_5_2": case.section_5_2,
        "follow_up_duty": case.follow_up_duty,
        "routing_warning": case.routing_warning,
        "opened_at": case.opened_at,
        "incident_types": incident_types,
        "severity": report.severity,
        "unit_id": report.unit_id,
        "next_deadline": _deadline(nearest, now),
        "deadline_status": service.deadline_status(nearest.due_at if nearest else None, now),
        "overdue_deadlines": overdue,
    }


def _detail(content: service.CaseContent, now: datetime) -> dict[str, Any]:
    case = content.case
    data = _summary(case, now)
    handler = content.level == AccessLevel.HANDLER
    data.update(
        level=content.level,
        allowed_transitions=service.offered_next(case) if handler else [],
        causes=case.causes,
        forwarded_to=case.forwarded_to,
        report=content.report,
        closing_note=content.closing_note,
        feedback=content.feedback,
        drop_reason=content.drop_reason,
        no_follow_up_reason=content.no_follow_up_reason,
        deadlines=[_deadline(d, now) for d in case.deadlines],
        tasks=content.tasks,
        debriefings=content.debriefings,
        section52=case.section52 if handler else None,
        messages=content.messages,
        events=content.events,
        access_history=service.access_history(case) if handler else [],
    )
    return data


def _assignment(case: Case, recused: bool) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "group_id": case.group_id,
        "assigned_user_id": case.assigned_user_id,
        "recused": recused,
    }


def _policy_out(policy: DeadlinePolicy) -> dict[str, Any]:
    return {
        name: getattr(policy, name)
        for name in ("id", "kind", "track", "incident_type", "min_severity", "amount", "unit")
    } | {"active": policy.active}


# What each field of the handling pages is called in an error summary ("Due: Choose a
# time after …"), so a screen reader user hears which field to fix. A field name means
# the same on every form of these pages; "reason" and "group_id" serve several forms and
# get a name that fits each.
FIELD_LABELS: dict[str, Any] = {
    "assigned": _l("Case handler"),  # vocabulary: form field
    "body": _l("Text"),
    "closing_note": _l("Closing note"),
    "deadline": _l("Deadline"),
    "due_at": _l("Due"),
    "feedback": _l("Feedback to the reporter"),
    "further_needs": _l("Further needs"),
    "group_id": _l("Handler group"),
    "handler_id": _l("Case handler"),
    "held_on": _l("Date"),
    "incident_type": _l("Type of incident"),
    # The §5-2 form asks "Notified at" and "Notified by" under two legends (the Labour
    # Inspection Authority, the police); a summary line must say which.
    "labour_inspection_notified_at": _l("Labour Inspection Authority notified"),
    "labour_inspection_notified_by_id": _l("Who notified the Labour Inspection Authority"),
    "name": _l("Name"),
    "nav_form_sent_on": _l("Sent on"),
    "no_follow_up_reason": _l("Why there is no follow-up or debriefing"),
    "note": _l("Note"),
    "outcome": _l("Outcome"),
    "person": _l("Find a person to be responsible"),
    "police_notified_at": _l("Police notified"),
    "police_notified_by_id": _l("Who notified the police"),
    "reason": _l("Reason"),
    "responsible_user_id": _l("Responsible"),
    "safety_rep_copied_at": _l("Copy sent to the safety representative at"),
    "state": _l("State"),
    "status": _l("Status"),
    "template": _l("What"),
    "track": _l("Track"),
    "unit_id": _l("Unit"),
    "user_id": _l("Colleague"),
    "causes": _l("Causes"),
    "participant_roles": _l("Who took part"),
    "support_offered": _l("Support offered"),
    "forwarded_to": _l("Forwarded to"),
    "member_ids": _l("Members"),
    "escalation_ids": _l("Escalation contacts"),
    "q": _l("Search"),
}
