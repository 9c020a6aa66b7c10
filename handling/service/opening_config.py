"""What opening a case reads of the admin's configuration, in one round trip: the routed,
default and fallback groups with their members, the conflicted handlers and the deadline
policies that may apply (see `_opening_statement`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import case as sql_case

from handling.models import DeadlinePolicy, HandlerGroup, HandlerGroupMember, RoutingRule
from reporting.models import Report
from trygg import org
from trygg.accounts.models import User, UserRole
from trygg.extensions import db
from trygg.roles import Role


class _OpeningPolicy(NamedTuple):
    """A deadline policy as the opening reads it (see PolicyLike)."""

    id: int
    kind: str
    track: str | None
    incident_type: str | None
    min_severity: int
    amount: int
    unit: str
    active: bool = True


@dataclass
class _OpeningGroup:
    id: int
    flags: int = 0
    member_ids: list[int] = field(default_factory=list)
    # Members who are active and hold the handler role (exclusions aside).
    handler_ids: set[int] = field(default_factory=set)

    def eligible(self, excluded: set[int]) -> bool:
        return any(uid not in excluded for uid in self.handler_ids)


@dataclass
class _OpeningConfig:
    routed: _OpeningGroup | None
    fallback: _OpeningGroup | None
    # Of the users with a conflict of interest, those holding the handler role.
    conflicted_handler_ids: set[int]
    policies: list[_OpeningPolicy]


# Flags of a group row in _opening_statement.
_ROUTED, _DEFAULT, _FALLBACK = 1, 2, 4


def _chosen_group(in_unit: bool) -> Any:
    """The group of the most specific matching routing rule: a rule naming the track
    beats one that does not, then one naming an incident type, then the one whose unit
    is nearest above the report's (the oldest rule breaks ties)."""
    rule = RoutingRule.__table__
    criteria = [
        or_(rule.c.track.is_(None), rule.c.track == bindparam("track")),
        or_(
            rule.c.incident_type.is_(None),
            rule.c.incident_type.in_(bindparam("types", expanding=True)),
        ),
    ]
    rules: Any = rule
    order: list[Any] = [
        sql_case((rule.c.track.is_(None), 1), else_=0),
        sql_case((rule.c.incident_type.is_(None), 1), else_=0),
    ]
    if in_unit:
        # The report's unit and its ancestors, `up` steps above it: a rule's unit
        # contains the report's exactly when it is one of them, and the deepest such
        # unit is the nearest. The bound stops a cycle (org.update_unit refuses them).
        unit = org.Unit.__table__
        above = unit.alias("above")
        chain = select(unit.c.id, unit.c.parent_id, literal(0, Integer).label("up")).where(
            unit.c.id == bindparam("unit_id")
        )
        chain_cte = chain.cte("unit_chain", recursive=True)
        chain_cte = chain_cte.union_all(
            select(above.c.id, above.c.parent_id, chain_cte.c.up + 1).where(
                above.c.id == chain_cte.c.parent_id, chain_cte.c.up < 10_000
            )
        )
        rules = rule.outerjoin(chain_cte, chain_cte.c.id == rule.c.unit_id)
        criteria.append(or_(rule.c.unit_id.is_(None), chain_cte.c.id.is_not(None)))
        # A rule without a unit ranks below every rule with one.
        order.append(func.coalesce(chain_cte.c.up, 1_000_000))
    else:
        criteria.append(rule.c.unit_id.is_(None))
    order.append(rule.c.id)  # the oldest rule breaks ties
    return (
        select(rule.c.group_id).select_from(rules).where(*criteria).order_by(*order).limit(1)
    ).scalar_subquery()


def routed_group_id(report: Report, track: str) -> int | None:
    """The group of the most specific matching routing rule (None when no rule matches):
    the one routing rule, which `_opening_statement` embeds for a new case and
    `routing.route` runs alone for a change of track."""
    params: dict[str, Any] = {"track": track, "types": sorted(set(report.incident_types))}
    if report.unit_id is not None:
        params["unit_id"] = report.unit_id
    chosen = _chosen_group(report.unit_id is not None)
    return db.session.connection().scalar(select(chosen), params)


def _group_rows(chosen: Any) -> Any:
    """The "g" rows: each group routing may use, once per member."""
    group = HandlerGroup.__table__
    member = HandlerGroupMember.__table__
    user = User.__table__
    role = UserRole.__table__
    no_text = cast(null(), String)
    is_handler = exists().where(role.c.user_id == member.c.user_id, role.c.role == Role.HANDLER)
    return (
        select(
            literal("g", String).label("k"),
            group.c.id.label("a"),
            member.c.user_id.label("b"),
            (
                sql_case((group.c.id == chosen, _ROUTED), else_=0)
                + sql_case((group.c.is_default.is_(True), _DEFAULT), else_=0)
                + sql_case((group.c.is_fallback.is_(True), _FALLBACK), else_=0)
            ).label("c"),
            sql_case((and_(user.c.active.is_(True), is_handler), 1), else_=0).label("d"),
            no_text.label("s1"),
            no_text.label("s2"),
            no_text.label("s3"),
            no_text.label("s4"),
        )
        .select_from(
            group.outerjoin(member, member.c.group_id == group.c.id).outerjoin(
                user, user.c.id == member.c.user_id
            )
        )
        .where(
            or_(
                group.c.id == chosen,
                group.c.is_default.is_(True),
                group.c.is_fallback.is_(True),
            )
        )
    )


def _conflicted_handler_rows() -> Any:
    """The "h" rows: the users with a conflict of interest who hold the handler role."""
    role = UserRole.__table__
    no_int = cast(null(), Integer)
    no_text = cast(null(), String)
    return select(
        literal("h", String), role.c.user_id, no_int, no_int, no_int, *[no_text] * 4
    ).where(
        role.c.role == Role.HANDLER,
        role.c.user_id.in_(bindparam("conflicted", expanding=True)),
    )


def _policy_rows() -> Any:
    """The "p" rows: the active deadline policies that may apply."""
    policy = DeadlinePolicy.__table__
    return select(
        literal("p", String),
        policy.c.id,
        policy.c.min_severity,
        policy.c.amount,
        cast(null(), Integer),
        policy.c.kind,
        policy.c.unit,
        policy.c.track,
        policy.c.incident_type,
    ).where(
        policy.c.active.is_(True),
        or_(policy.c.track.is_(None), policy.c.track == bindparam("track")),
        or_(
            policy.c.incident_type.is_(None),
            policy.c.incident_type.in_(bindparam("types", expanding=True)),
        ),
        policy.c.min_severity <= bindparam("severity"),
    )


@functools.cache
def _opening_statement(in_unit: bool, with_conflicts: bool) -> Any:
    """One SELECT for all that opening a case reads of the admin's configuration.

    The structure only, built once per process; the values are bound per report (track,
    types, severity, unit_id, conflicted), so nothing an admin edits is kept here. Rows
    of one shape (k, a, b, c, d, s1..s4):

    - "g": a handler group that routing may use, once per member: a = group id,
      b = member id (None for no members), c = flags (_ROUTED: the most specific
      matching rule's group, _DEFAULT, _FALLBACK), d = 1 if the member is an active
      handler. The rule is chosen as `route` chooses it.
    - "h": a = a user with a conflict of interest who holds the handler role.
    - "p": an active deadline policy that may apply: a = id, b = min severity,
      c = amount, s1 = kind, s2 = unit, s3 = track, s4 = incident type.
    """
    parts: list[Any] = [_group_rows(_chosen_group(in_unit))]
    if with_conflicts:
        parts.append(_conflicted_handler_rows())
    parts.append(_policy_rows())
    return union_all(*parts)


def _opening_config(report: Report, track: str, conflicted: Iterable[int]) -> _OpeningConfig:
    """Routing, groups, handlers and deadline policies for a new case, in one round trip.

    Read fresh for every case: all of it is the admin's to change at any time.
    """
    conflicted_ids = sorted(conflicted)
    params: dict[str, Any] = {
        "track": track,
        "types": sorted(set(report.incident_types)),
        "severity": report.severity,
    }
    if report.unit_id is not None:
        params["unit_id"] = report.unit_id
    if conflicted_ids:
        params["conflicted"] = conflicted_ids
    statement = _opening_statement(report.unit_id is not None, bool(conflicted_ids))
    groups: dict[int, _OpeningGroup] = {}
    handler_ids: set[int] = set()
    rows: list[_OpeningPolicy] = []
    for k, a, b, c, d, s1, s2, s3, s4 in db.session.connection().execute(statement, params):
        if k == "g":
            group = groups.get(a)
            if group is None:
                group = groups[a] = _OpeningGroup(a, c)
            if b is not None:
                group.member_ids.append(b)
                if d:
                    group.handler_ids.add(b)
        elif k == "h":
            handler_ids.add(a)
        else:
            rows.append(_OpeningPolicy(a, s1, s3, s4, b, c, s2))
    for group in groups.values():
        group.member_ids.sort()

    def first(flag: int) -> _OpeningGroup | None:
        # At most one default and one fallback group (_only_flag); the oldest if not.
        return next((groups[i] for i in sorted(groups) if groups[i].flags & flag), None)

    rows.sort(key=lambda p: (p.kind, p.min_severity, p.id))
    return _OpeningConfig(
        routed=first(_ROUTED) or first(_DEFAULT),
        fallback=first(_FALLBACK),
        conflicted_handler_ids=handler_ids,
        policies=rows,
    )
