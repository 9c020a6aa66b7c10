"""Which units are published on their own: small units and differencing (DOMAIN.md).

A unit's population is its headcount, or the sum of its sub-units' populations where
that is larger (an admin may have entered each unit's own staff). A unit with fewer than
k people is shown only as part of its parent. A published unit's remainder (its own
staff and the small units merged into it) must be empty or have at least k people:
otherwise the parent minus its published children would be a group of fewer than k,
so the smallest published child is merged into the parent too, until it is. The
organisation as a whole is node 0 (ORG); anonymous reports count only there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ORG = 0


@dataclass(frozen=True)
class UnitRow:
    id: int
    parent_id: int | None
    headcount: int


@dataclass
class Tree:
    """The published nodes: ORG and the units shown on their own, with their parents.

    `home` maps every unit id to the published node its reports are counted in (itself,
    or the nearest published ancestor it was merged into). `reason` says why a unit is
    not published: "small" or "differencing".
    """

    parent: dict[int, int | None]
    population: dict[int, int]
    home: dict[int, int]
    reason: dict[int, str] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    chain: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.children = {node: [] for node in self.parent}
        for node, parent in self.parent.items():
            if parent is not None:
                self.children[parent].append(node)
        for kids in self.children.values():
            kids.sort()
        for node in self.parent:
            path = [node]
            while (up := self.parent[path[-1]]) is not None:
                path.append(up)
            self.chain[node] = tuple(path)

    @property
    def nodes(self) -> list[int]:
        return sorted(self.parent)

    def is_leaf(self, node: int) -> bool:
        return not self.children[node]

    def subtree(self, node: int) -> set[int]:
        """The node and every published node below it."""
        out = {node}
        stack = [node]
        while stack:
            for child in self.children[stack.pop()]:
                out.add(child)
                stack.append(child)
        return out

    def depth(self, node: int) -> int:
        return len(self.chain[node]) - 1


def populations(units: Iterable[UnitRow]) -> dict[int, int]:
    """Each unit's population: max(headcount, sum of its children's populations)."""
    rows = {u.id: u for u in units}
    kids: dict[int | None, list[int]] = {}
    for unit in rows.values():
        parent = unit.parent_id if unit.parent_id in rows else None
        kids.setdefault(parent, []).append(unit.id)
    out: dict[int, int] = {}

    def walk(unit_id: int, seen: frozenset[int]) -> int:
        if unit_id in out:
            return out[unit_id]
        below = sum(walk(c, seen | {unit_id}) for c in kids.get(unit_id, []) if c not in seen)
        out[unit_id] = max(rows[unit_id].headcount, below)
        return out[unit_id]

    for unit_id in rows:
        walk(unit_id, frozenset())
    return out


def build_tree(units: Iterable[UnitRow], k: int, *, differencing: bool = True) -> Tree:
    """The published tree for threshold k (see the module docstring)."""
    rows = {u.id: u for u in units}
    pop = populations(rows.values())
    parent_of: dict[int, int] = {
        u.id: (u.parent_id if u.parent_id in rows else ORG) for u in rows.values()
    }
    published = {uid for uid in rows if pop[uid] >= k}
    reason = {uid: "small" for uid in rows if uid not in published}
    # A unit whose ancestor is not published cannot be published either (its figures
    # would show what the hidden ancestor hides): walk down from the top.
    for uid in sorted(rows, key=lambda u: _depth(u, parent_of)):
        up = parent_of[uid]
        if uid in published and up != ORG and up not in published:
            published.discard(uid)
            reason[uid] = reason.get(up, "small")
    pop[ORG] = sum(pop[u] for u in rows if parent_of[u] == ORG)

    def published_parent(uid: int) -> int:
        up = parent_of[uid]
        while up != ORG and up not in published:
            up = parent_of[up]
        return up

    if differencing:
        below = _descendants(parent_of)
        while True:
            kids: dict[int, list[int]] = {}
            for uid in published:
                kids.setdefault(published_parent(uid), []).append(uid)
            merged = False
            for node in sorted(kids):
                rest = pop[node] - sum(pop[u] for u in kids[node])
                if 0 < rest < k:
                    smallest = min(kids[node], key=lambda u: (pop[u], u))
                    for uid in below[smallest] & published:
                        published.discard(uid)
                        reason[uid] = "differencing"
                    merged = True
                    break
            if not merged:
                break
    parent = {ORG: None} | {uid: published_parent(uid) for uid in published}
    home = {}
    for uid in rows:
        node = uid
        while node != ORG and node not in published:
            node = parent_of[node]
        home[uid] = node
    return Tree(parent, {n: pop[n] for n in parent}, home, reason)


def _depth(uid: int, parent_of: Mapping[int, int]) -> int:
    depth, seen = 0, {uid}
    while (uid := parent_of[uid]) != ORG and uid not in seen:
        seen.add(uid)
        depth += 1
    return depth


def _descendants(parent_of: Mapping[int, int]) -> dict[int, set[int]]:
    """Each unit with every unit below it."""
    children: dict[int, list[int]] = {}
    for child, up in parent_of.items():
        children.setdefault(up, []).append(child)
    out: dict[int, set[int]] = {}

    def walk(uid: int, seen: frozenset[int]) -> set[int]:
        if uid in out:
            return out[uid]
        found = {uid}
        for child in children.get(uid, []):
            if child not in seen:
                found |= walk(child, seen | {uid})
        out[uid] = found
        return found

    for uid in parent_of:
        walk(uid, frozenset())
    return out
