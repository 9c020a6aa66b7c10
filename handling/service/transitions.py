"""Workflow steps: the workflow table (state → next states → guard → effect), state
transitions and track changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handling import codes, notices
from handling.errors import CaseError, GuardFailed, TransitionForbidden
from handling.models import Case
from handling.service.assignment import _internal_note, take_on_acknowledging
from handling.service.base import _audit, _event, _now, _require_unfinished, _seal, _text
from handling.service.deadlines import _cancel_open_deadlines, _meet, recompute_deadlines
from handling.service.followup import _set_section52_required
from handling.service.routing import _place, route
from handling.states import CaseState
from handling.workflow import (
    REPORTER_STATUS,
    STATES,
    CaseFacts,
    Guard,
    guard_close,
    guard_drop,
    guard_forward,
    guard_investigation,
    guard_triage,
    investigation_fits,
)
from reporting import service as reporting
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

S = CaseState

# -- the workflow table -----------------------------------------------------------------


@dataclass
class Move:
    """One step under way: what an effect reads, and the codes it adds to the timeline."""

    case: Case
    to: CaseState
    actor: User
    label: str
    now: datetime
    data: Mapping[str, Any]
    codes: dict[str, Any]


Effect = Callable[[Move], None]


@dataclass(frozen=True)
class Step:
    """A row of the table: where a case in this state may go next, and what entering
    this state needs (the guard, handling/workflow.py) and does (the effect)."""

    nexts: frozenset[CaseState]
    guard: Guard | None = None
    effect: Effect | None = None


def _acknowledge(move: Move) -> None:
    _meet(move.case, "acknowledge", move.label, move.now)
    if move.data.get("take_case", True):
        take_on_acknowledging(move.case, move.actor, move.now)


def _triage(move: Move) -> None:
    case, data = move.case, move.data
    case.triaged_at = move.now
    flagged = bool(data["section_5_2"]) and not case.section_5_2
    case.section_5_2 = bool(data["section_5_2"])
    _set_section52_required(case, case.section_5_2, move.now)
    _change_track(case, data["track"], move.label, move.now)
    recompute_deadlines(case)
    move.codes.update(track=case.track, section_5_2=case.section_5_2)
    if flagged:
        notices.section_5_2_flagged(case)


def _decide_measures(move: Move) -> None:
    _meet(move.case, "investigation", move.label, move.now)


def _close(move: Move) -> None:
    case, data, now = move.case, move.data, move.now
    case.causes = sorted(set(data["causes"]))
    case.closing_note_sealed = _seal(case, case, "closing_note", data["closing_note"])
    case.feedback_sealed = _seal(case, case, "feedback", data["feedback"])
    case.no_follow_up_reason_sealed = _seal(
        case, case, "no_follow_up_reason", _text(data.get("no_follow_up_reason"))
    )
    case.closed_at = now
    _meet(case, "investigation", move.label, now)
    _meet(case, "reporter_feedback", move.label, now)
    _cancel_open_deadlines(case, now)
    move.codes.update(causes=case.causes, no_follow_up_reason=bool(case.no_follow_up_reason_sealed))
    if case.feedback_sealed is not None:
        notices.reporter_has_news(case, f"feedback:{int(now.timestamp())}")


def _drop(move: Move) -> None:
    case = move.case
    case.drop_reason_sealed = _seal(case, case, "drop_reason", move.data["reason"])
    case.closed_at = move.now
    _cancel_open_deadlines(case, move.now)


def _forward(move: Move) -> None:
    move.case.forwarded_to = move.data["forwarded_to"]
    move.codes.update(forwarded_to=move.case.forwarded_to)


def _reopen(move: Move) -> None:
    move.case.closed_at = None
    note = _internal_note(move.case, move.actor, _text(move.data.get("reason")), move.now)
    move.codes.update(note=note)


def _to(*states: CaseState) -> frozenset[CaseState]:
    return frozenset(states)


# The one place that decides which step may follow which, what it needs and what it
# does. Forwarded (to the police or the Labour Inspection Authority): the employer's
# own follow-up goes on, and the case is closed (or reopened) here afterwards.
WORKFLOW: dict[str, Step] = {
    S.REPORTED: Step(_to(S.ACKNOWLEDGED, S.DROPPED, S.FORWARDED)),
    S.ACKNOWLEDGED: Step(_to(S.TRIAGED, S.DROPPED, S.FORWARDED), effect=_acknowledge),
    S.TRIAGED: Step(_to(S.IN_PROGRESS, S.DROPPED, S.FORWARDED), guard_triage, _triage),
    S.IN_PROGRESS: Step(_to(S.INVESTIGATION, S.MEASURES_DECIDED, S.CLOSED, S.DROPPED, S.FORWARDED)),
    S.INVESTIGATION: Step(
        _to(S.MEASURES_DECIDED, S.CLOSED, S.DROPPED, S.FORWARDED), guard_investigation
    ),
    S.MEASURES_DECIDED: Step(_to(S.MEASURES_DONE, S.FORWARDED), effect=_decide_measures),
    S.MEASURES_DONE: Step(_to(S.EVALUATED, S.CLOSED, S.FORWARDED)),
    S.EVALUATED: Step(_to(S.CLOSED)),
    S.FORWARDED: Step(_to(S.CLOSED, S.REOPENED), guard_forward, _forward),
    S.CLOSED: Step(_to(S.REOPENED), guard_close, _close),
    S.DROPPED: Step(_to(S.REOPENED), guard_drop, _drop),
    S.REOPENED: Step(_to(S.TRIAGED, S.IN_PROGRESS, S.DROPPED, S.FORWARDED), effect=_reopen),
}

# Where each state may go (the table's first column).
TRANSITIONS: dict[str, frozenset[CaseState]] = {s: step.nexts for s, step in WORKFLOW.items()}


def allowed_next(state: str) -> list[CaseState]:
    """The states a case may move to next, in workflow order."""
    nexts = TRANSITIONS.get(state, frozenset())
    return [s for s in CaseState if s in nexts]


def offered_next(case: Case) -> list[CaseState]:
    """The steps the case page offers: `allowed_next`, less an investigation the case's
    track and types of incident already rule out (the page would offer it, then refuse)."""
    facts = case_facts(case)
    return [
        s
        for s in allowed_next(case.state)
        if s != CaseState.INVESTIGATION or investigation_fits(facts)
    ]


def check(facts: CaseFacts, to: str, data: Mapping[str, Any]) -> Step:
    """The table's row for `to`, if the case may go there and the guard passes.

    Raises TransitionForbidden (not in the table) or GuardFailed (field messages).
    """
    step = WORKFLOW.get(to)
    if step is None:
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
    if step.guard is not None:
        step.guard(facts, data, error)
    if error.errors:
        raise error
    return step


# -- workflow steps ---------------------------------------------------------------------


def case_facts(case: Case) -> CaseFacts:
    return CaseFacts(
        state=case.state,
        track=case.track,
        incident_types=frozenset(case.report.incident_types),
        follow_up_duty=case.follow_up_duty,
        done_follow_up=any(t.status == "done" for t in case.tasks),
        has_debriefing=bool(case.debriefings),
    )


def _sync_reporter_status(case: Case) -> None:
    status = REPORTER_STATUS[case.state]
    if case.report.status != status:
        reporting.set_status(case.report, status)


def _change_track(case: Case, track: str, actor: str, now: datetime) -> None:
    if track == case.track:
        return
    before = case.track
    case.track = track
    _event(case, "track_changed", actor, now, before=before, after=track)
    _place(case, route(case.report, track), actor, now)


def transition(
    case: Case, to: str, *, actor: User, now: datetime | None = None, **data: Any
) -> Case:
    """Move the case to another state, if the table allows it and its guard passes.

    Guard fields: triaged — track, section_5_2; closed — closing_note, causes, feedback
    and, for violence or threats against an employee without follow-up and debriefing,
    no_follow_up_reason; dropped — reason; forwarded — forwarded_to; reopened — an
    optional reason (kept as an internal note). Acknowledging a case no one owns assigns
    it to the acknowledging handler, unless `take_case` is False. Raises
    TransitionForbidden, GuardFailed.
    """
    now = _now(now)
    step = check(case_facts(case), to, data)
    label = actor_label(actor)
    before = case.state
    move = Move(case, CaseState(to), actor, label, now, data, {"from": before, "to": to})
    if step.effect is not None:
        step.effect(move)
    case.state = move.to
    case.updated_at = now
    _event(case, "transition", label, now, **move.codes)
    moved: dict[str, Any] = {"from": before, "to": to}
    _audit("case.transition", label, case, **moved)
    _sync_reporter_status(case)
    db.session.flush()
    return case


def change_track(
    case: Case,
    *,
    actor: User,
    track: str,
    section_5_2: bool | None = None,
    now: datetime | None = None,
) -> Case:
    """Move an active case to another track (and re-route it); deadlines are recomputed."""
    _require_unfinished(case)
    if track not in codes.TRACKS:
        raise CaseError(
            _l("Choose the track: HSE deviation, whistleblowing or HR matter."), "track"
        )
    now = _now(now)
    label = actor_label(actor)
    _change_track(case, track, label, now)
    if section_5_2 is not None and section_5_2 != case.section_5_2:
        case.section_5_2 = section_5_2
        _set_section52_required(case, section_5_2, now)
        if section_5_2:
            notices.section_5_2_flagged(case)
    recompute_deadlines(case)
    case.updated_at = now
    _audit("case.track", label, case, track=track, section_5_2=case.section_5_2)
    db.session.flush()
    return case
