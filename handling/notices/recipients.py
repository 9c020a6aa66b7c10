"""Who hears of a case: its eligible handlers, its escalation contacts, and how one event
is split between those who may open the case and those who may not.

Its handlers are the eligible members of its group (active, with the handler role, not
excluded); "the case's handlers" for a message is the assigned handler if there is one,
else all of them. Escalations (a deadline passed, § 5-2) go to the group's escalation
contacts who are not excluded, else to the active admins. The underscored helpers are
shared by the other modules of this package, not by anyone outside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import select

from handling import access
from handling.models import Case, CaseExclusion, HandlerGroupEscalation, HandlerGroupMember
from notifications.kinds import Kind
from notifications.scheduler import in_ids
from notifications.service import Event
from trygg.accounts.models import User, UserRole
from trygg.extensions import db
from trygg.roles import Role


def eligible_by_case(
    cases: Iterable[tuple[int, int | None]],
    excluded: dict[int, set[int]] | None = None,
    *,
    seeing: bool = False,
) -> dict[int, list[int]]:
    """Case id → the ids of its eligible handlers, for (case id, group id) pairs at once.

    Eligible: a member of the case's group who is active, holds the handler role and is
    not excluded from the case. Two queries whatever the number of cases (one when the
    caller has read the exclusions: `excluded`). `seeing`: only those who may also open
    it now (`handling.access.handler_sees`: not a member who joined after the case came
    and has no grant), in one query — who is told of a case's events.
    """
    pairs = list(cases)
    groups = {g for _c, g in pairs if g is not None}
    if not groups:
        return {c: [] for c, _g in pairs}
    if seeing:
        # handler_sees is the whole rule (an active handler of the group, not excluded,
        # a member when the case came or granted): one query answers it.
        able = access.seeing_by_case(c for c, _g in pairs)
        return {case_id: sorted(able[case_id]) for case_id, _g in pairs}
    is_handler = select(UserRole.user_id).where(UserRole.role == Role.HANDLER)
    members: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in db.session.execute(
        select(HandlerGroupMember.group_id, HandlerGroupMember.user_id)
        .join(User, User.id == HandlerGroupMember.user_id)
        .where(
            HandlerGroupMember.group_id.in_(sorted(groups)),
            User.active.is_(True),
            User.id.in_(is_handler),
        )
    ):
        members[group_id].add(user_id)
    if excluded is None:
        excluded = exclusions_by_case([c for c, _g in pairs])
    return {
        case_id: sorted(members.get(group_id or 0, set()) - excluded.get(case_id, set()))
        for case_id, group_id in pairs
    }


def exclusions_by_case(case_ids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    if case_ids:
        for case_id, user_id in db.session.execute(
            select(CaseExclusion.case_id, CaseExclusion.user_id).where(
                in_ids(CaseExclusion.case_id, case_ids)
            )
        ):
            out[case_id].add(user_id)
    return out


def escalation_by_group(group_ids: Iterable[int | None]) -> dict[int | None, list[int]]:
    """Group id → its active escalation contacts, or the active admins if it names none."""
    wanted = sorted({g for g in group_ids if g is not None})
    contacts: dict[int | None, list[int]] = defaultdict(list)
    if wanted:
        for group_id, user_id in db.session.execute(
            select(HandlerGroupEscalation.group_id, HandlerGroupEscalation.user_id)
            .join(User, User.id == HandlerGroupEscalation.user_id)
            .where(HandlerGroupEscalation.group_id.in_(wanted), User.active.is_(True))
            .order_by(HandlerGroupEscalation.user_id)
        ):
            contacts[group_id].append(user_id)
    admins = list(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ADMIN, User.active.is_(True))
            .order_by(User.id)
        )
    )
    return {g: contacts.get(g) or admins for g in [*wanted, None]}


def _case_link(case_id: int, section: str | None = None) -> str:
    """The case page, or one section of it (its heading's id: "h-messages")."""
    return f"/cases/{case_id}#{section}" if section else f"/cases/{case_id}"


def _split_by_access(
    kind: Kind,
    people: list[int],
    eligible: list[int],
    key: str,
    case_id: int,
    subject: str | None = None,
    outside_link: str = "/notifications",
    admins: Collection[int] = (),
    group_id: int | None = None,
    discreet: bool = False,
) -> list[Event]:
    """One event, linked to the case for those who may open it, else to `outside_link`;
    with `admins` and `group_id` (an escalation), an administrator who cannot open the
    case is taken to the handler group's page instead, where they can give it handlers.
    `discreet`: an anonymous reporter caused it (Event.discreet: dated to the day)."""
    about = subject or f"case:{case_id}"
    inside = [u for u in people if u in eligible]
    outside = [u for u in people if u not in eligible]
    events = []
    if inside:
        events.append(Event(kind, inside, key, _case_link(case_id), about, eligible, discreet))
    if group_id is not None and admins:
        to_group = [u for u in outside if u in admins]
        outside = [u for u in outside if u not in admins]
        if to_group:
            link = f"/admin/handler-groups/{group_id}"
            events.append(Event(kind, to_group, key, link, about, None, discreet))
    if outside:
        events.append(Event(kind, outside, key, outside_link, about, None, discreet))
    return events


def _escalation_events(
    case: Case, kind: Kind, key: str, eligible: list[int], *, discreet: bool = False
) -> list[Event]:
    escalation = escalation_by_group([case.group_id])
    excluded = case.excluded_user_ids
    people = [u for u in escalation[case.group_id] if u not in excluded]
    return _split_by_access(
        kind,
        people,
        eligible,
        key,
        case.id,
        admins=set(escalation[None]),
        group_id=case.group_id,
        discreet=discreet,
    )


def _case_handlers(case: Case, eligible: list[int]) -> list[int]:
    if case.assigned_user_id is not None and case.assigned_user_id in eligible:
        return [case.assigned_user_id]
    return eligible


def _eligible(case: Case) -> list[int]:
    return eligible_by_case([(case.id, case.group_id)], seeing=True)[case.id]
