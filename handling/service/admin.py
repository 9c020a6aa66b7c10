"""The admin's handler groups, routing rules and deadline policies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    delete,
    func,
    select,
)
from sqlalchemy.orm import lazyload

from handling import codes
from handling.errors import CaseError
from handling.models import (
    Case,
    DeadlinePolicy,
    HandlerGroup,
    HandlerGroupEscalation,
    HandlerGroupMember,
    RoutingRule,
)
from handling.service.assignment import choose_group
from handling.service.deadlines import policies
from handling.service.routing import sync_group_exclusions
from handling.workflow import ACTIVE_STATES
from reporting.codes import INCIDENT_TYPES
from trygg import access_changes, audit, org
from trygg.accounts.models import UserRole
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l
from trygg.roles import Role

# -- admin: groups, routing rules, deadline policies ------------------------------------


def handler_groups(*, members: bool = True) -> list[HandlerGroup]:
    """Every handler group by name; `members=False` for a page that shows only the names
    (its members and escalation contacts are not read)."""
    query = select(HandlerGroup).order_by(HandlerGroup.name)
    if not members:
        query = query.options(
            lazyload(HandlerGroup.members), lazyload(HandlerGroup.escalation_contacts)
        )
    return list(db.session.scalars(query))


def _check_members(member_ids: Iterable[int]) -> list[int]:
    return _holding(
        member_ids,
        (Role.HANDLER,),
        _l("Only case handlers can be members of a handler group."),
        "member_ids",
    )


def _check_escalation(user_ids: Iterable[int]) -> list[int]:
    return _holding(
        user_ids,
        (Role.HANDLER, Role.ADMIN),
        _l("Escalation contacts must be case handlers or administrators."),
        "escalation_ids",
    )


def _holding(
    user_ids: Iterable[int], roles: tuple[str, ...], message: Any, field: str
) -> list[int]:
    """The ids, sorted, when every one is an account holding one of the roles (one
    statement however many); CaseError with `message` on `field` otherwise."""
    ids = sorted(set(user_ids))
    if ids:
        holders = set(
            db.session.scalars(
                select(UserRole.user_id).where(
                    UserRole.user_id.in_(ids), UserRole.role.in_(sorted(roles))
                )
            )
        )
        if holders != set(ids):
            raise CaseError(message, field)
    return ids


def _only_flag(group: HandlerGroup, *, is_default: bool, is_fallback: bool) -> None:
    """There is at most one default and one fallback group."""
    for other in handler_groups():
        if other.id == group.id:
            continue
        if is_default:
            other.is_default = False
        if is_fallback:
            other.is_fallback = False
    group.is_default = is_default
    group.is_fallback = is_fallback


def _leads(group: HandlerGroup) -> set[int]:
    return set(group.member_ids) & set(group.escalation_ids)


def save_group(
    *,
    actor: str,
    name: str,
    member_ids: Iterable[int] = (),
    is_default: bool = False,
    is_fallback: bool = False,
    group: HandlerGroup | None = None,
    escalation_ids: Iterable[int] | None = None,
) -> HandlerGroup:
    """Create a handler group, or change one; new members' conflicts are recorded first.

    `escalation_ids`: who is told when a case of the group is flagged § 5-2 or one of
    its deadlines passes (case handlers or admins; none: the admins). None keeps them.
    """
    name = _checked_name(name, group)
    ids = _check_members(member_ids)
    creating = group is None
    leads_before = set() if group is None else _leads(group)
    if group is None:
        group = HandlerGroup(name=name)
        db.session.add(group)
    group.name = name
    before = set(group.member_ids)
    group.members = [m for m in group.members if m.user_id in ids] + [
        HandlerGroupMember(user_id=uid) for uid in ids if uid not in before
    ]
    _only_flag(group, is_default=is_default, is_fallback=is_fallback)
    if escalation_ids is not None:
        _set_escalation(group, _check_escalation(escalation_ids))
    db.session.flush()
    _record_widening(group, actor, added=set(ids) - before, leads_before=leads_before)
    audit.record(
        "handler_group.create" if creating else "handler_group.update",
        actor=actor,
        object_type="handler_group",
        object_id=group.id,
        detail={
            "members": ids,
            "is_default": is_default,
            "is_fallback": is_fallback,
            "escalation": group.escalation_ids,
        },
    )
    return group


def _checked_name(name: str, group: HandlerGroup | None) -> str:
    """The group's name, stripped; no other group has it, in any case ("hms" and "HMS"
    would be two groups no one tells apart in a list). Groups are few: compared in
    Python, where case folding knows Æ, Ø and Å (SQLite's lower() does not)."""
    name = " ".join(name.split())
    if not name:
        raise CaseError(_l("A handler group needs a name."), "name")
    others = db.session.execute(select(HandlerGroup.id, HandlerGroup.name)).all()
    if any(
        other.casefold() == name.casefold() and (group is None or gid != group.id)
        for gid, other in others
    ):
        raise CaseError(_l("A handler group with this name already exists."), "name")
    return name


def _set_escalation(group: HandlerGroup, contacts: list[int]) -> None:
    """The group's escalation contacts become `contacts` (kept rows stay as they are)."""
    group.escalation_contacts = [c for c in group.escalation_contacts if c.user_id in contacts] + [
        HandlerGroupEscalation(user_id=uid)
        for uid in contacts
        if uid not in set(group.escalation_ids)
    ]


def _record_widening(
    group: HandlerGroup, actor: str, *, added: set[int], leads_before: set[int]
) -> None:
    """New members' conflicts of interest on the group's cases are recorded, and every
    new member and new lead is an access change."""
    sync_group_exclusions(group.id, added)
    for uid in sorted(added):
        access_changes.record(
            "group.member_added",
            actor=actor,
            user_id=uid,
            detail={"group": group.id, "with": sorted(added)},
        )
    for uid in sorted(_leads(group) - leads_before):
        access_changes.record(
            "group.lead_added", actor=actor, user_id=uid, detail={"group": group.id}
        )


def routing_rules() -> list[RoutingRule]:
    return list(db.session.scalars(select(RoutingRule).order_by(RoutingRule.id)))


def create_rule(
    *,
    actor: str,
    group_id: int,
    unit_id: int | None = None,
    incident_type: str | None = None,
    track: str | None = None,
) -> RoutingRule:
    """Add a routing rule; empty criteria match anything."""
    group = choose_group(group_id)
    if unit_id is not None and org.get_unit(unit_id) is None:
        raise CaseError(_l("Choose a unit from the list."), "unit_id")
    if incident_type is not None and incident_type not in INCIDENT_TYPES:
        raise CaseError(_l("Choose an incident type from the list."), "incident_type")
    if track is not None and track not in codes.TRACKS:
        raise CaseError(_l("Choose a track from the list."), "track")
    same = db.session.scalar(
        select(RoutingRule).where(
            _is(RoutingRule.unit_id, unit_id),
            _is(RoutingRule.incident_type, incident_type),
            _is(RoutingRule.track, track),
        )
    )
    if same is not None:
        # Two rules for the same cases: which group gets them would not be the admin's
        # choice but the rules' order.
        raise CaseError(
            _l(
                "A rule for exactly these cases exists already, to %(group)s. Remove that "
                "one first, or choose a unit, type or track that makes this one narrower.",
                group=same.group.name,
            ),
            "group_id",
        )
    rule = RoutingRule(
        group_id=group.id, group=group, unit_id=unit_id, incident_type=incident_type, track=track
    )
    db.session.add(rule)
    db.session.flush()
    audit.record(
        "routing_rule.create",
        actor=actor,
        object_type="routing_rule",
        object_id=rule.id,
        detail={"group": group.id, "unit": unit_id, "incident_type": incident_type, "track": track},
    )
    access_changes.record(
        "routing_rule.created",
        actor=actor,
        object_type="routing_rule",
        object_id=rule.id,
        detail={"group": group.id},
    )
    return rule


def _is(column: Any, value: Any) -> Any:
    """`column = value`, where None (any) is matched as NULL."""
    return column.is_(None) if value is None else column == value


def delete_rule(rule: RoutingRule, *, actor: str) -> None:
    """Remove a routing rule (cases already routed stay where they are)."""
    rule_id, group_id = rule.id, rule.group_id
    db.session.delete(rule)
    db.session.flush()
    audit.record("routing_rule.delete", actor=actor, object_type="routing_rule", object_id=rule_id)
    default = db.session.scalar(select(HandlerGroup.id).where(HandlerGroup.is_default.is_(True)))
    # The cases it sent now go by other rules, or to the default group: a widening there.
    access_changes.record(
        "routing_rule.deleted",
        actor=actor,
        object_type="routing_rule",
        object_id=rule_id,
        detail={"group": default if default is not None else group_id, "from": group_id},
    )


def replace_policies(rows: Iterable[Mapping[str, Any]], *, actor: str) -> list[DeadlinePolicy]:
    """Replace every deadline policy with these (new cases and recomputations use them)."""
    new = []
    for index, row in enumerate(rows):
        where = f"policies.{index}"
        if row.get("kind") not in codes.DEADLINE_KINDS:
            raise CaseError(_l("Choose a kind of deadline from the list."), f"{where}.kind")
        if row.get("unit") not in codes.DURATION_UNITS:
            raise CaseError(_l("Choose a unit of time from the list."), f"{where}.unit")
        if row.get("track") is not None and row["track"] not in codes.TRACKS:
            raise CaseError(_l("Choose a track from the list."), f"{where}.track")
        if row.get("incident_type") is not None and row["incident_type"] not in INCIDENT_TYPES:
            raise CaseError(_l("Choose an incident type from the list."), f"{where}.incident_type")
        amount = int(row.get("amount") or 0)
        if row["unit"] != "same_day" and amount < 1:
            raise CaseError(_l("Enter a duration of at least 1."), f"{where}.amount")
        new.append(
            DeadlinePolicy(
                kind=row["kind"],
                track=row.get("track"),
                incident_type=row.get("incident_type"),
                min_severity=int(row.get("min_severity") or 1),
                amount=0 if row["unit"] == "same_day" else amount,
                unit=row["unit"],
                active=bool(row.get("active", True)),
            )
        )
    scopes: set[tuple[Any, ...]] = set()
    for index, policy in enumerate(new):
        scope = (policy.kind, policy.track, policy.incident_type, policy.min_severity)
        if policy.active and scope in scopes:
            # Both would apply to the same cases, and the earlier deadline always wins:
            # the other row would look in force and never be.
            raise CaseError(
                _l(
                    "Another switched-on row already sets this step for the same cases: "
                    "only the earlier deadline would apply. Change, switch off or remove "
                    "one of them."
                ),
                f"policies.{index}.kind",
            )
        if policy.active:
            scopes.add(scope)
    if not any(p.active for p in new):
        # No policy switched on (every row removed or off, or a form sent without its
        # rows) would leave new cases without deadlines and nobody reminded.
        raise CaseError(
            _l(
                "Keep at least one deadline policy switched on: without any, new cases get "
                "no deadlines and nobody is reminded."
            ),
            "_request",
        )
    db.session.execute(delete(DeadlinePolicy))
    db.session.add_all(new)
    db.session.flush()
    audit.record(
        "deadline_policy.replace",
        actor=actor,
        object_type="deadline_policy",
        detail={"count": len(new)},
    )
    return policies()


@dataclass(frozen=True)
class RoutingWarning:
    case_id: int
    warning: str
    group_id: int | None
    opened_at: datetime


def active_cases_by_group() -> dict[int, int]:
    """How many active cases each handler group holds (groups holding none are left out)."""
    rows = db.session.execute(
        select(Case.group_id, func.count())
        .where(Case.state.in_(ACTIVE_STATES), Case.group_id.is_not(None))
        .group_by(Case.group_id)
    )
    return {group_id: count for group_id, count in rows if group_id is not None}


def routing_warnings() -> list[RoutingWarning]:
    """Active cases an admin should look at: routed to the fallback group, or nowhere."""
    rows = db.session.scalars(
        select(Case)
        .where(Case.routing_warning.is_not(None), Case.state.in_(ACTIVE_STATES))
        .order_by(Case.id)
    )
    return [RoutingWarning(c.id, c.routing_warning or "", c.group_id, c.opened_at) for c in rows]
