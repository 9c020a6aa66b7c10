"""Workflow steps: state transitions and track changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from handling import codes, notices
from handling.errors import CaseError
from handling.models import (
    Case,
)
from handling.service.base import _audit, _event, _now, _require_unfinished, _seal, _text
from handling.service.deadlines import _cancel_open_deadlines, _meet, recompute_deadlines
from handling.service.followup import _set_section52_required
from handling.service.messages import _store_message
from handling.service.routing import _place, route
from handling.workflow import REPORTER_STATUS, CaseFacts, check
from reporting import service as reporting
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db

# -- workflow ---------------------------------------------------------------------------


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


def _internal_note(case: Case, author: User, text: str | None, now: datetime) -> int | None:
    if not text:
        return None
    return _store_message(case, author, text, internal=True, now=now).id


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
    optional reason (kept as an internal note). Raises TransitionForbidden, GuardFailed.
    """
    now = _now(now)
    check(case_facts(case), to, data)
    label = actor_label(actor)
    before = case.state
    codes_: dict[str, Any] = {"from": before, "to": to}
    if to == "acknowledged":
        _meet(case, "acknowledge", label, now)
    elif to == "triaged":
        case.triaged_at = now
        flagged = bool(data["section_5_2"]) and not case.section_5_2
        case.section_5_2 = bool(data["section_5_2"])
        _set_section52_required(case, case.section_5_2, now)
        _change_track(case, data["track"], label, now)
        recompute_deadlines(case)
        codes_.update(track=case.track, section_5_2=case.section_5_2)
        if flagged:
            notices.section_5_2_flagged(case)
    elif to == "measures_decided":
        _meet(case, "investigation", label, now)
    elif to == "closed":
        case.causes = sorted(set(data["causes"]))
        case.closing_note_sealed = _seal(case, case, "closing_note", data["closing_note"])
        case.feedback_sealed = _seal(case, case, "feedback", data["feedback"])
        case.no_follow_up_reason_sealed = _seal(
            case, case, "no_follow_up_reason", _text(data.get("no_follow_up_reason"))
        )
        case.closed_at = now
        _meet(case, "investigation", label, now)
        _meet(case, "reporter_feedback", label, now)
        _cancel_open_deadlines(case, now)
        codes_.update(causes=case.causes, no_follow_up_reason=bool(case.no_follow_up_reason_sealed))
        if case.feedback_sealed is not None:
            notices.reporter_has_news(case, f"feedback:{int(now.timestamp())}")
    elif to == "dropped":
        case.drop_reason_sealed = _seal(case, case, "drop_reason", data["reason"])
        case.closed_at = now
        _cancel_open_deadlines(case, now)
    elif to == "forwarded":
        case.forwarded_to = data["forwarded_to"]
        codes_.update(forwarded_to=case.forwarded_to)
    elif to == "reopened":
        case.closed_at = None
        note = _internal_note(case, actor, _text(data.get("reason")), now)
        codes_.update(note=note)
    case.state = to
    case.updated_at = now
    _event(case, "transition", label, now, **codes_)
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
