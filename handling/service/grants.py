"""Grants: access to an existing case is given by those who have it.

A handler with access to the case, or the lead of its group, gives a colleague in the
group access with a reason; assigning the case to a colleague who joined later does too;
the break-glass command on the server gives one named handler a group's cases or one
case. Each is audited, on the case's timeline and on the access-changes page. The rule
that grants feed is `handling.access.handler_sees`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select

from handling import access
from handling.errors import CaseError, CaseNotFound
from handling.models import (
    Case,
    CaseGrant,
    HandlerGroup,
    HandlerGroupEscalation,
    HandlerGroupMember,
)
from handling.service.access import case_kept
from handling.service.base import TEXT_MAX, _audit, _event, _now, _seal, _text, sees_reporter
from handling.service.routing import _sync_exclusions, eligible_handler_ids, sync_group_exclusions
from handling.states import GrantKind
from trygg import access_changes, audit
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l
from trygg.roles import Role


def is_group_lead(user: User, group_id: int | None) -> bool:
    """The group's lead: a member who is also one of its escalation contacts."""
    if group_id is None:
        return False
    lead = db.session.scalar(
        select(HandlerGroupMember.user_id)
        .join(
            HandlerGroupEscalation,
            and_(
                HandlerGroupEscalation.group_id == HandlerGroupMember.group_id,
                HandlerGroupEscalation.user_id == HandlerGroupMember.user_id,
            ),
        )
        .where(HandlerGroupMember.group_id == group_id, HandlerGroupMember.user_id == user.id)
    )
    return lead is not None and user.has_role(Role.HANDLER)


def may_grant(user: User, case: Case) -> bool:
    """A handler with access to the case, or the lead of its group, may give access; never
    a lead excluded from it (a report naming them), who must not learn that it exists,
    let alone choose who reads it."""
    if access.can_handle(user.id, case.id):
        return True
    return is_group_lead(user, case.group_id) and user.id not in case.excluded_user_ids


def grant_candidates(case: Case, viewer: User | None = None) -> list[User]:
    """Members of the case's group who may not see it yet (and are not excluded); none
    for a `viewer` who may not give a confidential case by name (`names_handler`)."""
    if viewer is not None and not names_handler(case, viewer):
        return []
    ids = eligible_handler_ids(case.group, case)
    seeing = access.seeing_by_case([case.id])[case.id]
    return [u for uid in ids if uid not in seeing and (u := db.session.get(User, uid))]


def names_handler(case: Case, user: User) -> bool:
    """Whether `user` may give the case to a colleague by name, as its handler (the
    assignment form) or with access (the grant form). In a confidential report only its
    assignee may (`sees_reporter`): the reporter is excluded from their own case (as
    they join the group, if later), so a colleague reading "The reporter" would find,
    among the group's members, the one a list leaves out or the API refuses. The others
    take it themselves, leave it to the group's queue or move it to another group."""
    return sees_reporter(case, user)


def grant_row(
    case: Case,
    grantee: User,
    *,
    granted_by: str,
    kind: str,
    reason: str | None,
    now: datetime | None = None,
    listed: bool = True,
) -> CaseGrant:
    """Store (or renew) a grant of the case to `grantee`, audited, on the case's
    timeline and (`listed`) on the access-changes page. The reason is sealed."""
    now = _now(now)
    row = db.session.scalar(
        select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.user_id == grantee.id)
    )
    if row is None:
        row = CaseGrant(case_id=case.id, user_id=grantee.id, granted_by=granted_by)
        db.session.add(row)
        db.session.flush()
    row.group_id = case.group_id
    row.granted_by = granted_by
    row.kind = kind
    row.created_at = now
    row.reason_sealed = _seal(case, row, "reason", reason)
    db.session.flush()
    _audit("case.grant", granted_by, case, at=now, user_id=grantee.id, kind=kind)
    _event(case, "granted", granted_by, now, to=grantee.id, kind=kind)
    if not listed:
        return row
    access_changes.record(
        "case.granted",
        actor=granted_by,
        user_id=grantee.id,
        object_type="case",
        object_id=case.id,
        detail={"kind": kind, "group": case.group_id},
    )
    return row


def grant_access(
    case: Case, grantee_id: int | None, reason: str | None, *, actor: User
) -> CaseGrant:
    """Give a colleague in the case's group access to it, with a reason.

    Only a handler who has access to the case, or the group's lead, may (CaseNotFound
    for anyone else); a lead without access may not grant to themselves; in a
    confidential report only its assignee gives access (`names_handler`).
    """
    if not may_grant(actor, case):
        raise CaseNotFound()
    if not names_handler(case, actor):
        # The same answer whoever is named: a refusal for a conflict would tell.
        raise CaseError(
            _l(
                "In a confidential report only the case handler assigned to the case "
                "gives a colleague access."
            ),
            "user_id",
        )
    text = _text(reason)
    if text is None:
        raise CaseError(_l("Write why this colleague needs access."), "reason")
    if len(text) > TEXT_MAX:
        raise CaseError(_l("The text is too long."), "reason")
    grantee = db.session.get(User, grantee_id) if grantee_id is not None else None
    if grantee is not None and grantee.id == actor.id:
        raise CaseError(_l("Someone else must give you access."), "user_id")
    if grantee is None or grantee.id not in {u.id for u in grant_candidates(case)}:
        raise CaseError(
            _l("Choose a member of the case's group who does not have access yet."), "user_id"
        )
    return grant_row(
        case, grantee, granted_by=actor_label(actor), kind=GrantKind.GRANT, reason=text
    )


BREAK_GLASS_REASON_MAX = 500


def break_glass(
    person: User,
    reason: str,
    *,
    group: HandlerGroup | None = None,
    case: Case | None = None,
    actor: str = "cli",
) -> int:
    """The day every handler of a group is gone: give one named handler access to the
    group's cases (they also join it) or to one case. Returns the number of cases.

    One entry on the access-changes page, with the reason, that every handler and the
    safety representative see and are told of. Cases the person is excluded from stay
    closed to them. Raises CaseError for a missing reason or a person who is not an
    active handler (an administrator never is).
    """
    text = _break_glass_reason(reason)
    if not person.active or not person.has_role(Role.HANDLER):
        raise CaseError(
            _l("Only an active case handler can be given access. Give them the role first."),
            "email",
        )
    if (group is None) == (case is None):
        raise CaseError(_l("Name either a handler group or a case."), "group")
    now = utcnow()
    if case is not None:
        # Conflicts of interest are recorded for a group's members as they join; a
        # person given one case without joining its group has theirs checked here (a
        # refusal rolls the check's rows back with the rest: no access was given).
        _sync_exclusions(case, {person.id})
        if person.id in case.excluded_user_ids:
            raise CaseError(
                _l("This person has a conflict of interest in the case and cannot be given it."),
                "email",
            )
        cases = [case]
        target: tuple[str, int] = ("case", case.id)
    elif group is not None:
        cases = _join_for_break_glass(person, group, now)
        target = ("handler_group", group.id)
    granted = 0
    for item in cases:
        if person.id in item.excluded_user_ids:
            continue
        grant_row(item, person, granted_by=actor, kind=access.BREAK_GLASS, reason=text,
                  now=now, listed=False)  # fmt: skip
        granted += 1
    audit.record(
        "access.break_glass",
        actor=actor,
        object_type=target[0],
        object_id=target[1],
        detail={"user_id": person.id, "cases": granted},
    )
    access_changes.record(
        access.BREAK_GLASS,
        actor=actor,
        user_id=person.id,
        object_type=target[0],
        object_id=target[1],
        detail={
            "group": group.id if group is not None else (case.group_id if case else None),
            "cases": granted,
            "reason": text,
        },
    )
    return granted


def _break_glass_reason(reason: str) -> str:
    """Break-glass needs a reason, short enough to show on the access-changes page."""
    text = _text(reason)
    if text is None or len(text) > BREAK_GLASS_REASON_MAX:
        raise CaseError(
            _l("Write a reason of at most %(n)s characters.", n=BREAK_GLASS_REASON_MAX), "reason"
        )
    return text


def _join_for_break_glass(person: User, group: HandlerGroup, now: datetime) -> list[Case]:
    """The person joins the group (their conflicts recorded first); the group's cases."""
    if person.id not in group.member_ids:
        group.members.append(HandlerGroupMember(user_id=person.id, joined_at=now))
        db.session.flush()
        sync_group_exclusions(group.id, {person.id}, now)
    # Not a case retention deleted: no content is left to reach, and its key is shredded.
    return list(db.session.scalars(select(Case).where(Case.group_id == group.id, case_kept())))
