"""The case workflow: states, the one transition table, guards and domain errors.

DOMAIN.md, "The case": reported → acknowledged → triaged → in_progress →
[investigation] → measures_decided → measures_done → evaluated → closed, with the side
states dropped, forwarded and reopened. A case without measures may close straight from
in_progress, investigation or measures_done. Every rule about which step may follow
which is in TRANSITIONS below and nowhere else; service.transition() asks `check()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from handling.codes import FORWARD_TARGETS, TRACKS
from handling.errors import (  # noqa: F401 - re-exported for existing callers
    CaseClosed,
    CaseError,
    CaseNotFound,
    GuardFailed,
    TransitionForbidden,
)
from reporting.codes import CAUSES, HARASSMENT, Codes

STATES: Codes = {
    "reported": _l("Reported"),
    "acknowledged": _l("Acknowledged"),
    "triaged": _l("Triaged"),
    "in_progress": _l("In progress"),
    "investigation": _l("Investigation"),
    "measures_decided": _l("Measures decided"),
    "measures_done": _l("Measures carried out"),
    "evaluated": _l("Evaluated"),
    "closed": _l("Closed"),
    "dropped": _l("Dropped"),
    "forwarded": _l("Forwarded"),
    "reopened": _l("Reopened"),
}

# Where each state may go. The one place this is decided.
TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"acknowledged", "dropped", "forwarded"}),
    "acknowledged": frozenset({"triaged", "dropped", "forwarded"}),
    "triaged": frozenset({"in_progress", "dropped", "forwarded"}),
    "in_progress": frozenset(
        {"investigation", "measures_decided", "closed", "dropped", "forwarded"}
    ),
    "investigation": frozenset({"measures_decided", "closed", "dropped", "forwarded"}),
    "measures_decided": frozenset({"measures_done", "forwarded"}),
    "measures_done": frozenset({"evaluated", "closed", "forwarded"}),
    "evaluated": frozenset({"closed"}),
    # Forwarded to the police or the Labour Inspection Authority: the employer's own
    # follow-up goes on, and the case is closed (or reopened) here afterwards.
    "forwarded": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "dropped": frozenset({"reopened"}),
    "reopened": frozenset({"triaged", "in_progress", "dropped", "forwarded"}),
}

# No further work is expected (deadlines still open are cancelled).
FINISHED_STATES = frozenset({"closed", "dropped"})
# States in which the case is still being worked on (the default queue).
ACTIVE_STATES = frozenset(STATES) - FINISHED_STATES

# What the reporter's "My reports" status says (reporting.codes.STATUSES).
REPORTER_STATUS: dict[str, str] = {
    "reported": "submitted",
    "acknowledged": "acknowledged",
    "triaged": "in_progress",
    "in_progress": "in_progress",
    "investigation": "in_progress",
    "measures_decided": "in_progress",
    "measures_done": "in_progress",
    "evaluated": "in_progress",
    "closed": "closed",
    "dropped": "dropped",
    "forwarded": "forwarded",
    "reopened": "in_progress",
}

# The state in plain words, for the reporter.
PLAIN_STATE: Codes = {
    "reported": _l("Your report has arrived. A case handler will look at it soon."),
    "acknowledged": _l("A case handler has received your report."),
    "triaged": _l("A case handler has assessed your report and is following it up."),
    "in_progress": _l("Your case is being handled."),
    "investigation": _l("The matter is being looked into."),
    "measures_decided": _l("Measures have been decided."),
    "measures_done": _l("The measures have been carried out."),
    "evaluated": _l("The measures have been evaluated. The case will be closed soon."),
    "closed": _l("Your case is closed. The case handler's feedback is shown below."),
    "dropped": _l("Your case was closed without further action."),
    "forwarded": _l(
        "Your case has been passed on to the police or the Labour Inspection Authority."
    ),
    "reopened": _l("Your case has been reopened and is being handled again."),
}

# Where investigation belongs (DOMAIN.md: "[undersøkelse]: varsel and harassment").
INVESTIGATION_TRACKS = frozenset({"whistleblowing", "hr_matter"})


@dataclass(frozen=True)
class CaseFacts:
    """What the guards need to know about a case, read by the service."""

    state: str
    track: str
    incident_types: frozenset[str]
    follow_up_duty: bool
    done_follow_up: bool
    has_debriefing: bool


def state_label(state: str) -> str:
    found = STATES.get(state)
    return str(found) if found is not None else state


def allowed_next(state: str) -> list[str]:
    """The states a case may move to next, in workflow order."""
    nexts = TRANSITIONS.get(state, frozenset())
    return [s for s in STATES if s in nexts]


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def check(facts: CaseFacts, to: str, data: Mapping[str, Any]) -> None:
    """Refuse a transition the table forbids or whose guard fails.

    Raises TransitionForbidden (not in the table) or GuardFailed (field messages).
    """
    if to not in STATES:
        raise TransitionForbidden(_l("There is no state called %(state)s.", state=to), "to")
    if to not in TRANSITIONS.get(facts.state, frozenset()):
        raise TransitionForbidden(
            _l(
                "A case cannot go from “%(from)s” to “%(to)s”.",
                # Lazy labels: the whole sentence is rendered in the reader's language.
                **{"from": STATES.get(facts.state, facts.state), "to": STATES[to]},
            ),
            "to",
        )
    error = GuardFailed()
    if to == "triaged":
        if data.get("track") not in TRACKS:
            error.add("track", _l("Choose the track: HSE deviation, whistleblowing or HR matter."))
        if not isinstance(data.get("section_5_2"), bool):
            error.add(
                "section_5_2",
                _l("Say whether the duty to notify serious injuries (section 5-2) applies."),
            )
    elif to == "investigation":
        if facts.track not in INVESTIGATION_TRACKS and not (facts.incident_types & HARASSMENT):
            error.add(
                "to",
                _l(
                    "Investigation is for whistleblowing, HR matters and harassment. "
                    "Change the track first, or go on to measures."
                ),
            )
    elif to == "closed":
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
    elif to == "dropped":
        if not _text(data, "reason"):
            error.add("reason", _l("Write why the case is dropped."))
    elif to == "forwarded" and data.get("forwarded_to") not in FORWARD_TARGETS:
        error.add(
            "forwarded_to",
            _l(
                "Choose where the case was forwarded: the police or the Labour "
                "Inspection Authority."
            ),
        )
    if error.errors:
        raise error
