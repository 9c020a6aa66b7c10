"""Who sees statistics for which units.

A manager sees the units they lead and everything below them; a safety representative
the units they represent and below; the working environment committee (amu) and admins
the whole organisation. Only published nodes can be chosen (risk.statistics.population):
a unit shown only inside its parent is listed with that reason, never as its own slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_request_context
from sqlalchemy import select

from risk.statistics import ORG, Tree
from trygg.accounts.models import Role, User
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l
from trygg.org import Unit

WHOLE_ORGANISATION = _l("The whole organisation")

# The roles that see statistics at all.
VIEWER_ROLES = (Role.MANAGER, Role.SAFETY_REP, Role.AMU, Role.ADMIN)


@dataclass(frozen=True)
class UnitFacts:
    id: int
    parent_id: int | None
    headcount: int
    name: str


def all_units() -> list[UnitFacts]:
    """Every unit (id, parent, headcount, name), by name: read once per request (a
    trends page asks for them several times, and ORM objects for 500 units cost)."""
    found: list[UnitFacts] | None = g.get("risk_units") if has_request_context() else None
    if found is None:
        stmt = select(Unit.id, Unit.parent_id, Unit.headcount, Unit.name).order_by(Unit.name)
        found = [UnitFacts(*row) for row in db.session.execute(stmt)]
        if has_request_context():
            g.risk_units = found
    return found


@dataclass(frozen=True)
class Option:
    node: int
    label: str
    depth: int


@dataclass
class Scope:
    """The nodes a user may see, as picker options, and their units that are not shown."""

    nodes: set[int] = field(default_factory=set)
    options: list[Option] = field(default_factory=list)
    # unit name → (reason, name of the node it is shown in, or None outside the scope)
    withheld: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def default(self) -> int | None:
        return self.options[0].node if self.options else None


def node_name(node: int, names: dict[int, str]) -> str:
    return str(WHOLE_ORGANISATION) if node == ORG else names.get(node, str(node))


def entry_units(user: User) -> tuple[bool, list[int]]:
    """(whole organisation?, the units the user's roles give statistics for)."""
    if user.has_role(Role.AMU, Role.ADMIN):
        return True, []
    return False, own_units(user)


def own_units(user: User) -> list[int]:
    """The units the user leads (as a manager) or represents (as a safety rep)."""
    units: set[int] = set()
    if user.has_role(Role.MANAGER):
        units |= {u.id for u in user.managed_units}
    if user.has_role(Role.SAFETY_REP):
        units |= {u.id for u in user.represented_units}
    return sorted(units)


def scope_of(user: User, tree: Tree) -> Scope:
    """The published nodes this user may see, depth-first from their entry points."""
    names = {u.id: u.name for u in all_units()}
    whole, units = entry_units(user)
    scope = Scope()
    roots = [ORG] if whole else []
    for unit_id in units:
        if tree.home.get(unit_id) == unit_id:
            roots.append(unit_id)
    for unit_id in units:
        home = tree.home.get(unit_id)
        if home != unit_id:
            reason = tree.reason.get(unit_id, "small")
            shown_in = names.get(home) if home in _covered(roots, tree) else None
            scope.withheld[names.get(unit_id, str(unit_id))] = (reason, shown_in)
    for root in roots:
        if root in scope.nodes:
            continue
        _walk(root, tree, names, scope, 0)
    return scope


def _covered(roots: list[int], tree: Tree) -> set[int]:
    out: set[int] = set()
    for root in roots:
        out |= tree.subtree(root)
    return out


def _walk(node: int, tree: Tree, names: dict[int, str], scope: Scope, depth: int) -> None:
    if node in scope.nodes:
        return
    scope.nodes.add(node)
    scope.options.append(Option(node, node_name(node, names), depth))
    for child in sorted(tree.children[node], key=lambda n: names.get(n, "")):
        _walk(child, tree, names, scope, depth + 1)
