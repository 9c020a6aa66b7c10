"""The case page as a workspace: what it shows at each access level, the sections a
sent form belongs to, and the responsible-person picker (its search runs without
JavaScript: the page comes back with the matches)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template, request

from handling import service
from handling.models import Case
from handling.presenters import (
    ACCESS_ACTIONS,
    ACCESS_PARTS,
    OSLO,
    Forms,
    Names,
    deadline_line,
    event_text,
)
from handling.states import AccessLevel
from handling.views.base import ACCESS_HISTORY_ROWS, Page, _user
from handling.workflow import FINISHED_STATES
from reporting.codes import Channel
from trygg import audit, org, web
from trygg.accounts.models import User
from trygg.extensions import utcnow
from trygg.i18n import gettext as _


@dataclass
class Picker:
    """The responsible-person picker: suggestions, and a search's matches for one form."""

    suggestions: list[service.Candidate]
    # Whether this user may choose a responsible person here (a confidential report:
    # only the case's assignee; handling.service.responsible).
    chooses: bool = True
    form: str = ""
    query: str = ""
    found: list[service.Candidate] | None = None

    def options(self, prefix: str) -> list[tuple[int, str]]:
        """The select's options for the form `prefix`: its search's matches first."""
        seen: set[int] = set()
        out: list[tuple[int, str]] = []
        found = self.found if prefix == self.form and self.found is not None else []
        for candidate in [*found, *self.suggestions]:
            if candidate.user.id not in seen:
                seen.add(candidate.user.id)
                name = candidate.user.name
                label = _("%(name)s (leader)", name=name) if candidate.leader else name
                out.append((candidate.user.id, label))
        return out


PICKER_FORM = re.compile(r"^task-(new|\d{1,10})$")


def _picker(case: Case, eligible: list[User]) -> Picker:
    """Suggestions, and the matches of `?person=…&for=<form>` (searched without
    JavaScript: the page comes again with the matches in that form's list)."""
    user = _user()
    picker = Picker(
        service.responsible_suggestions(case, eligible, actor=user),
        chooses=service.chooses_responsible(case, user),
    )
    query, form = _picker_query()
    if picker.chooses and query and len(query) <= service.QUERY_MAX:
        picker.form, picker.query = form, query
        picker.found = service.search_responsible(case, query, actor=user)
    return picker


def _picker_query() -> tuple[str, str]:
    """The search typed in a task form's picker, and that form's prefix (else empty)."""
    form = request.args.get("for", "")
    if not PICKER_FORM.match(form):
        return "", ""
    return request.args.get("person", "").strip(), form


def section52_applies(case: Case) -> bool:
    report = case.report
    return case.section_5_2 or report.requires_section_5_2


# Where each form is on the page (its section's heading): a form's answer lands there,
# and a form sent back with errors shows its section.
FORM_SECTIONS = {
    "to": "h-actions",
    "task": "h-tasks",
    "find": "h-tasks",
    "debriefing": "h-debriefing",
    "section52": "h-section52",
    "message": "h-messages",
    "assign": "h-assignment",
    "grant": "h-assignment",
    "recuse": "h-assignment",
    "give": "h-assignment",
    "track": "h-assignment",
}


def section_of(prefix: str | None) -> str | None:
    """The heading id of the section holding the form `prefix` ("task-3" → "h-tasks")."""
    return FORM_SECTIONS.get(prefix.split("-")[0]) if prefix else None


# Events whose "to" code is a user id (event_text names them).
NAMING_EVENTS = frozenset({"assigned", "granted"})


def _handler_context(
    case: Case, content: service.CaseContent, names: Names, groups: dict[int, str]
) -> dict[str, Any]:
    """What only a handler's page shows: the forms' choices, timeline, access history.

    Every name the page shows is read in one query, however many rows name people.
    """
    eligible = service.eligible_handlers(case)
    picker = _picker(case, eligible)
    people = [c.user for c in picker.suggestions]
    names.remember(people)
    access = service.access_days(case, limit=ACCESS_HISTORY_ROWS)
    check = case.section52
    names.load(
        [
            case.assigned_user_id,
            *(Names.actor_id(a.actor) for a in access),
            *(a.user_id for a in access),
            *(Names.actor_id(e.actor) for e in content.events),
            *((e.codes or {}).get("to") for e in content.events if e.kind in NAMING_EVENTS),
            *(t.task.responsible_user_id for t in content.tasks),
            *(
                [check.labour_inspection_notified_by_id, check.police_notified_by_id]
                if check is not None
                else []
            ),
            (content.report or {}).get("counterpart_user_id"),
        ]
    )
    return {
        "next_states": service.offered_next(case),
        "finished": case.state in FINISHED_STATES,
        # The assignment form's handlers, the count of excluded people and the grant
        # form's colleagues: in a confidential report, only the assignee's tell who is
        # left out (service.names_handler).
        "assignable": service.assignable(case, _user(), eligible),
        "names_handler": service.names_handler(case, _user()),
        "may_pass_on": service.may_pass_on(case, _user()),
        "excluded_count": service.excluded_count(case, _user()),
        "grant_candidates": service.grant_candidates(case, _user()),
        "people": people,
        "picker": picker,
        "events": [(e, event_text(e, names, groups)) for e in content.events],
        "access": access,
        "access_rows": ACCESS_HISTORY_ROWS,
        "access_actions": ACCESS_ACTIONS,
        "access_parts": ACCESS_PARTS,
        "section52": section52_applies(case),
        "today": datetime.now(OSLO).date().isoformat(),
        # Other packages' sections for the case's handlers (risk: link to a risk item).
        "case_panels": web.case_panels(case.id),
    }


def _render_case(case: Case, forms: Forms | None = None, status: int = 200) -> Page:
    """The case page for the current user's access level (the opening is audited)."""
    user = _user()
    forms = forms or Forms()
    content = service.open_case_content(case, user, part="case")
    now = utcnow()
    names = Names()
    all_groups = service.handler_groups(members=False)
    groups = {g.id: g.name for g in all_groups}
    report = case.report
    unit = org.get_unit(report.unit_id) if report.unit_id else None
    nearest = service.next_open_deadline(case)
    context: dict[str, Any] = {
        "case": case,
        "report": report,
        "content": content,
        "r": content.report or {},
        "unit": unit,
        "names": names,
        "groups": groups,
        "forms": forms,
        "errors": forms.errors,
        "deadlines": [deadline_line(d, now) for d in case.deadlines],
        "next_deadline": nearest,
        "next_line": deadline_line(nearest, now) if nearest is not None else None,
        "anonymous": report.channel_kind == Channel.ANONYMOUS,
        "active_section": section_of(forms.active),
        "handler": content.level == AccessLevel.HANDLER,  # vocabulary: template variable
    }
    if content.level == AccessLevel.HANDLER:
        context.update(_handler_context(case, content, names, groups))
        context["all_groups"] = all_groups
    html = render_template("handling/case.html", **context)
    if status >= 400:
        # The request's error answer rolls back; the reading of the content must stay.
        audit.keep_audited()
        return html, status
    return html
