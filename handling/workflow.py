"""The case workflow's domain rules: state labels, what the reporter is told, and the
guards that entering a state needs.

DOMAIN.md, "The case": reported → acknowledged → triaged → in_progress →
[investigation] → measures_decided → measures_done → evaluated → closed, with the side
states dropped, forwarded and reopened. A case without measures may close straight from
in_progress, investigation or measures_done. Which step may follow which, the guard of
each step and its effect are one table, `handling.service.transitions.WORKFLOW`; the
guards it names are here, since they need nothing but the facts of the case and the
step's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from handling.codes import FORWARD_TARGETS, TRACKS
from handling.errors import (  # noqa: F401 - re-exported for existing callers
    CaseClosed,
    CaseError,
    CaseNotFound,
    GuardFailed,
    TransitionForbidden,
)
from handling.states import (  # noqa: F401 - re-exported for existing callers
    ACTIVE_STATES,
    FINISHED_STATES,
    INVESTIGATION_TRACKS,
    CaseState,
)
from reporting.codes import CAUSES, HARASSMENT, Codes, ReportStatus
from trygg.i18n import lazy_gettext as _l

S = CaseState

STATES: Codes = {
    S.REPORTED: _l("Reported"),
    S.ACKNOWLEDGED: _l("Acknowledged"),
    S.TRIAGED: _l("Triaged"),
    S.IN_PROGRESS: _l("In progress"),
    S.INVESTIGATION: _l("Investigation"),
    S.MEASURES_DECIDED: _l("Measures decided"),
    S.MEASURES_DONE: _l("Measures carried out"),
    S.EVALUATED: _l("Evaluated"),
    S.CLOSED: _l("Closed"),
    S.DROPPED: _l("Dropped"),
    S.FORWARDED: _l("Forwarded"),
    S.REOPENED: _l("Reopened"),
}

# What the reporter's "My reports" status says (reporting.codes.STATUSES).
REPORTER_STATUS: dict[str, ReportStatus] = {
    S.REPORTED: ReportStatus.SUBMITTED,
    S.ACKNOWLEDGED: ReportStatus.ACKNOWLEDGED,
    S.TRIAGED: ReportStatus.IN_PROGRESS,
    S.IN_PROGRESS: ReportStatus.IN_PROGRESS,
    S.INVESTIGATION: ReportStatus.IN_PROGRESS,
    S.MEASURES_DECIDED: ReportStatus.IN_PROGRESS,
    S.MEASURES_DONE: ReportStatus.IN_PROGRESS,
    S.EVALUATED: ReportStatus.IN_PROGRESS,
    S.CLOSED: ReportStatus.CLOSED,
    S.DROPPED: ReportStatus.DROPPED,
    S.FORWARDED: ReportStatus.FORWARDED,
    S.REOPENED: ReportStatus.IN_PROGRESS,
}

# The state in plain words, for the reporter.
PLAIN_STATE: Codes = {
    S.REPORTED: _l("Your report has arrived. A case handler will look at it soon."),
    S.ACKNOWLEDGED: _l("A case handler has received your report."),
    S.TRIAGED: _l("A case handler has assessed your report and is following it up."),
    S.IN_PROGRESS: _l("Your case is being handled."),
    S.INVESTIGATION: _l("The matter is being looked into."),
    S.MEASURES_DECIDED: _l("Measures have been decided."),
    S.MEASURES_DONE: _l("The measures have been carried out."),
    S.EVALUATED: _l("The measures have been evaluated. The case will be closed soon."),
    S.CLOSED: _l("Your case is closed. The case handler's feedback is shown below."),
    S.DROPPED: _l(
        "Your case was closed without further action: the case handlers decided it needs "
        "no more follow-up. If you disagree, write to them below, or talk to your safety "
        "representative."
    ),
    S.FORWARDED: _l(
        "Your case has been passed on to the police or the Labour Inspection Authority."
    ),
    S.REOPENED: _l("Your case has been reopened and is being handled again."),
}


@dataclass(frozen=True)
class CaseFacts:
    """What the guards need to know about a case, read by the service."""

    state: str
    track: str
    incident_types: frozenset[str]
    follow_up_duty: bool
    done_follow_up: bool
    has_debriefing: bool


# A guard adds a message per failing field to the error it is given.
Guard = Callable[[CaseFacts, Mapping[str, Any], GuardFailed], None]


def state_label(state: str) -> str:
    found = STATES.get(state)
    return str(found) if found is not None else state


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def guard_triage(facts: CaseFacts, data: Mapping[str, Any], error: GuardFailed) -> None:
    """Triage sets the track and says whether § 5-2 applies."""
    if data.get("track") not in TRACKS:
        error.add("track", _l("Choose the track: HSE deviation, whistleblowing or HR matter."))
    if not isinstance(data.get("section_5_2"), bool):
        error.add(
            "section_5_2",
            _l("Say whether the duty to notify serious injuries (section 5-2) applies."),
        )


def investigation_fits(facts: CaseFacts) -> bool:
    """Investigation is for whistleblowing, HR matters and harassment."""
    return facts.track in INVESTIGATION_TRACKS or bool(facts.incident_types & HARASSMENT)


def guard_investigation(facts: CaseFacts, data: Mapping[str, Any], error: GuardFailed) -> None:
    """Investigation is for whistleblowing, HR matters and harassment."""
    if not investigation_fits(facts):
        error.add(
            "to",
            _l(
                "Investigation is for whistleblowing, HR matters and harassment. "
                "Change the track first, or go on to measures."
            ),
        )


def guard_close(facts: CaseFacts, data: Mapping[str, Any], error: GuardFailed) -> None:
    """Closing gives reasons, causes and the reporter's feedback; violence or threats
    against an employee also need follow-up and a debriefing, or a reason why not."""
    if not _text(data, "closing_note"):
        error.add("closing_note", _l("Write a closing note that gives the reasons."))
    causes = data.get("causes") or []
    if not causes or any(c not in CAUSES for c in causes):
        error.add("causes", _l("Choose at least one cause."))
    if not _text(data, "feedback"):
        error.add("feedback", _l("Write the feedback the reporter will see."))
    if (
        facts.follow_up_duty
        and not (facts.done_follow_up and facts.has_debriefing)
        and not _text(data, "no_follow_up_reason")
    ):
        error.add(
            "no_follow_up_reason",
            _l(
                "Violence or threats against an employee need a completed follow-up "
                "task and a debriefing before closing. Record them, or write why not."
            ),
        )


def guard_drop(facts: CaseFacts, data: Mapping[str, Any], error: GuardFailed) -> None:
    if not _text(data, "reason"):
        error.add("reason", _l("Write why the case is dropped."))


def guard_forward(facts: CaseFacts, data: Mapping[str, Any], error: GuardFailed) -> None:
    if data.get("forwarded_to") not in FORWARD_TARGETS:
        error.add(
            "forwarded_to",
            _l(
                "Choose where the case was forwarded: the police or the Labour "
                "Inspection Authority."
            ),
        )
