"""Assigning a case to a group or handler (by name, or passed on to one chosen), and recusal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    func,
    select,
)

from handling import access, notices
from handling.errors import CaseError, CaseNotFound
from handling.models import (
    Case,
    CaseExclusion,
    HandlerGroup,
)
from handling.service.base import (
    _audit,
    _event,
    _now,
    _require_unfinished,
    _row_id,
    _text,
    sees_reporter,
)
from handling.service.grants import grant_row, names_handler
from handling.service.messages import _store_message
from handling.service.routing import (
    _place,
    _sync_exclusions,
    conflicts,
    eligible_handler_ids,
    eligible_handlers,
)
from handling.states import GrantKind
from handling.workflow import ACTIVE_STATES, FINISHED_STATES
from reporting import service as reporting
from trygg import crypto, keys
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

# -- assignment and recusal -------------------------------------------------------------


def _internal_note(case: Case, author: User, text: str | None, now: datetime) -> int | None:
    if not text:
        return None
    return _store_message(case, author, text, internal=True, now=now).id


def get_group(group_id: int) -> HandlerGroup:
    """A handler group by id; CaseNotFound if there is none."""
    group = db.session.get(HandlerGroup, group_id)
    if group is None:
        raise CaseNotFound()
    return group


def choose_group(group_id: int) -> HandlerGroup:
    """A group picked in a form; CaseError on the field if there is none."""
    group = db.session.get(HandlerGroup, group_id)
    if group is None:
        raise CaseError(_l("Choose a handler group from the list."), "group_id")
    return group


def assignable(case: Case, user: User, eligible: list[User] | None = None) -> list[User]:
    """The handlers the assignment form offers `user`: the case's eligible handlers
    (`eligible`, when the caller has them); for someone who may not name one
    (`names_handler`), only themselves and the assignee (shown on the page already)
    among them, the same whoever reported."""
    if eligible is None:
        eligible = eligible_handlers(case)
    if names_handler(case, user):
        return eligible
    return [u for u in eligible if u.id in {user.id, case.assigned_user_id}]


def excluded_count(case: Case, user: User) -> int:
    """How many people the page tells `user` are excluded (conflict of interest): for
    someone who does not see who reported, without a confidential reporter, unless the
    reporter is excluded for a reason the page shows as well (the line manager of the
    named counterpart), where leaving them out would tell who they are."""
    excluded = case.excluded_user_ids
    if excluded and not sees_reporter(case, user):
        named = reporting.people_named(case.report).user_ids
        shown = conflicts(case.report, named)
        excluded -= {u for u in named["reporter"] if "line_manager" not in shown.get(u, ())}
    return len(excluded)


def assign(
    case: Case,
    handler: User | None,
    reason: str | None,
    *,
    actor: User,
    group: HandlerGroup | None = None,
    now: datetime | None = None,
) -> Case:
    """Assign the case to a handler (None: back to the group queue), optionally moving it
    to another group. The handler must be eligible there; the reason is kept as an
    internal note.
    """
    _require_unfinished(case)
    named = handler is not None and handler.id not in {actor.id, case.assigned_user_id}
    if named and not names_handler(case, actor):
        # The same answer whoever is named: a refusal for a conflict would tell.
        raise CaseError(
            _l(
                "In a confidential report only the case handler assigned to the case "
                "gives it to a colleague by name. Take it yourself, leave it in the "
                "group's queue, or, while no one has it, pass it on to a colleague chosen "
                "for you."
            ),
            "handler_id",
        )
    unchanged = (
        (handler.id if handler is not None else None) == case.assigned_user_id
        and (group is None or group.id == case.group_id)
        and not (reason or "").strip()
    )
    if unchanged:
        # Sent as it is (a form shown again, a client's retry): no event in the timeline.
        raise CaseError(
            _l("Nothing to save: choose another case handler or another group."), "handler_id"
        )
    now = _now(now)
    if group is not None and group.id != case.group_id:
        _sync_exclusions(case, group.member_ids)
        if not eligible_handler_ids(group, case):
            raise CaseError(
                _l("No one in that group can handle this case (conflict of interest)."),
                "group_id",
            )
        case.group = group
        case.group_id = group.id
        # The handler who moves it gives it to the group: its members see it.
        case.group_since = now
        case.routing_warning = None
        _event(case, "routed", actor_label(actor), now, group=group.id, warning=None)
        if handler is None:
            notices.routed(case, now)
    if handler is not None and handler.id not in eligible_handler_ids(case.group, case):
        raise CaseError(
            _l("That person cannot handle this case: not in its group, or excluded."),
            "handler_id",
        )
    _hand_over(case, handler, reason, actor=actor, now=now)
    return case


def _hand_over(
    case: Case, handler: User | None, reason: str | None, *, actor: User, now: datetime
) -> None:
    """Make `handler` (eligible in the case's group; None: the group's queue) the
    assignee: a grant if they joined the group later, the reason as an internal note,
    the event, the audit entry and their notification."""
    label = actor_label(actor)
    case.assigned_user_id = handler.id if handler is not None else None
    if handler is not None and not access.can_handle(handler.id, case.id):
        # A handler who has the case gives it to a colleague who joined the group later.
        db.session.flush()
        grant_row(case, handler, granted_by=label, kind=GrantKind.ASSIGNED, reason=None, now=now)
    note = _internal_note(case, actor, _text(reason), now)
    _event(case, "assigned", label, now, to=case.assigned_user_id, group=case.group_id, note=note)
    _audit("case.assign", label, case, to=case.assigned_user_id, group=case.group_id)
    case.updated_at = now
    db.session.flush()
    if handler is not None and handler.id != actor.id:
        notices.assigned(case, now)


def may_pass_on(case: Case, user: User) -> bool:
    """Whether `user` (a handler of the case) may pass it on to a colleague chosen for
    them: while it is active, and no one else has it. The rule names no one, so it is
    the same in every case, confidential or not, whoever reported."""
    return case.state not in FINISHED_STATES and case.assigned_user_id in {None, user.id}


def pass_on(case: Case, reason: str | None, *, actor: User, now: datetime | None = None) -> Case:
    """ "Pass on to a colleague chosen for you": the case goes to an eligible member of
    its group other than `actor` (never an excluded one, so never a confidential
    reporter), as an assignment (`assign`'s event, audit entry, notification; the reason
    an internal note). Someone who may not name a colleague in a confidential report
    (`names_handler`) passes the case on this way without taking it, and so without
    learning who reported.

    Who: the least busy; in a confidential report, one at random. Choosing the least busy
    there would pass over a reporter who is the least busy member, and a colleague who
    knows the members' workloads would see whom it passed over; a random choice tells
    nothing but that the receiver did not report, which their being assignee says anyway.
    The draw is the same for the case each time (`_drawn`): a handler may leave it to
    the queue and pass it on again, and new draws would list everyone who may have it.

    CaseClosed for a finished case; CaseError when someone else has it, or when no one
    but `actor` may handle it (the same refusal whoever reported).
    """
    _require_unfinished(case)
    if not may_pass_on(case, actor):
        raise CaseError(_l("Only a case no one has taken, or your own, can be passed on this way."))
    others = [uid for uid in eligible_handler_ids(case.group, case) if uid != actor.id]
    chosen = _chosen(case, others)
    handler = db.session.get(User, chosen) if chosen is not None else None
    if handler is None:
        raise CaseError(
            _l(
                "No one else in the case's group can take it. Keep it, leave it in the "
                "group's queue or move it to another group."
            )
        )
    _hand_over(case, handler, reason, actor=actor, now=_now(now))
    return case


def _chosen(case: Case, ids: list[int]) -> int | None:
    """Who of `ids` gets the case when no one names them (pass on, recusal): the least
    busy, and in a confidential report one drawn at random (`_drawn`), since whom the
    least busy choice passes over would tell who reported."""
    return _drawn(case, ids) if case.report.confidential else _least_busy(ids)


def _drawn(case: Case, ids: list[int]) -> int | None:
    """One of `ids` at random, the same for this case as long as they are the same: the
    one ranked first by a keyed hash of case and person that no handler can compute, so
    passing the case on again and again draws no one new."""
    if not ids:
        return None
    key = keys.keyring().derive("pass-on")
    return max(ids, key=lambda uid: crypto.keyed_hash(key, f"{case.id}:{uid}"))


def take(case: Case, handler: User, *, now: datetime | None = None) -> Case:
    """ "Take this case": the handler assigns it to themselves (as `assign`)."""
    if case.assigned_user_id == handler.id:
        return case
    return assign(case, handler, None, actor=handler, now=now)


def take_on_acknowledging(case: Case, handler: User, now: datetime) -> None:
    """Acknowledging a case no one owns makes the handler its owner, where they may
    own it (a break-glass reader outside the group acknowledges without taking it)."""
    if case.assigned_user_id is not None or case.group is None:
        return
    if handler.id in eligible_handler_ids(case.group, case):
        assign(case, handler, None, actor=handler, now=now)


def _least_busy(ids: list[int]) -> int | None:
    if not ids:
        return None
    counts = dict(
        db.session.execute(
            select(Case.assigned_user_id, func.count())
            .where(Case.assigned_user_id.in_(ids), Case.state.in_(ACTIVE_STATES))
            .group_by(Case.assigned_user_id)
        ).all()
    )
    return min(ids, key=lambda uid: (counts.get(uid, 0), uid))


def recuse(case: Case, handler: User, reason: str, *, now: datetime | None = None) -> Case:
    """A handler steps aside: they are excluded, and the case goes to a colleague.

    The new handler is the eligible group member with the fewest active cases (in a
    confidential report, one at random); when none is left the case goes to the
    fallback group (with a warning for admins).
    """
    if not _text(reason):
        raise CaseError(_l("Write why you step aside."), "reason")
    now = _now(now)
    label = actor_label(handler)
    _internal_note(case, handler, _text(reason), now)
    case.exclusions.append(
        CaseExclusion(
            id=_row_id(case, CaseExclusion), case_id=case.id, user_id=handler.id, reason="recused"
        )
    )
    db.session.flush()
    _audit("case.exclude", label, case, user_id=handler.id, reason="recused")
    _event(case, "recused", label, now)
    was_assigned = case.assigned_user_id == handler.id
    if was_assigned:
        case.assigned_user_id = None
    if not eligible_handler_ids(case.group, case):
        _place(case, case.group, "system", now)
    if was_assigned:
        # At random in a confidential report, for pass_on's reason (`_chosen`).
        case.assigned_user_id = _chosen(case, eligible_handler_ids(case.group, case))
        _event(case, "assigned", "system", now, to=case.assigned_user_id, group=case.group_id)
    case.updated_at = now
    db.session.flush()
    if was_assigned:
        notices.assigned(case, now)
    return case
