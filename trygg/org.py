"""The unit hierarchy (departments, teams) with headcount."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_number
from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from trygg import paging
from trygg.extensions import UTCDateTime, db, utcnow
from trygg.i18n import lazy_gettext as _l
from trygg.ids import ID_MAX

MAX_HEADCOUNT = 1_000_000


class OrgError(Exception):
    """A unit operation was refused; the message says why, for the user.

    `field` names the form field the message belongs next to.
    """

    def __init__(self, message: object, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


class Unit(db.Model):  # type: ignore[name-defined]
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit as the tree shows it: its row's columns, not an ORM object (the tree of a
    large organisation, 500 units, is read by every page with a unit picker)."""

    id: int
    name: str
    parent_id: int | None
    headcount: int


@dataclass
class UnitNode:
    """A unit with its depth in the tree, for pickers and the admin list."""

    unit: UnitRef
    depth: int
    children: list[UnitNode] = field(default_factory=list)

    @property
    def path_label(self) -> str:
        return "\u2003" * self.depth + self.unit.name


def get_unit(unit_id: int) -> Unit | None:
    """A unit by id, or None (also for an id no row can have: the database would refuse
    the number itself, see trygg.ids)."""
    return db.session.get(Unit, unit_id) if 0 < unit_id <= ID_MAX else None


def find_unit(name: str) -> Unit | None:
    """A unit by its exact name, or None."""
    return db.session.scalar(select(Unit).where(Unit.name == name.strip()))


def all_units() -> list[Unit]:
    """Every unit, by name."""
    return list(db.session.scalars(select(Unit).order_by(Unit.name)))


def units_page(
    *,
    search: str = "",
    limit: int = paging.DEFAULT_PAGE_SIZE,
    after: tuple[Any, ...] | None = None,
) -> paging.Page[tuple[UnitRef, str | None]]:
    """A page of units by name, each with its parent's name; `search` keeps those whose
    name contains it (case-insensitive); `after` is the last one's (name, id). One
    statement whatever the page size, read as columns."""
    parent = aliased(Unit)
    query = (
        select(Unit.id, Unit.name, Unit.parent_id, Unit.headcount, parent.name)
        .outerjoin(parent, Unit.parent_id == parent.id)
        .order_by(Unit.name, Unit.id)
        .limit(limit + 1)
    )
    if search:
        query = query.where(func.lower(Unit.name).contains(search.lower(), autoescape=True))
    if after is not None:
        query = query.where(
            tuple_(Unit.name, Unit.id) > tuple_(literal(after[0]), literal(after[1]))
        )
    rows = [(UnitRef(*row[:4]), row[4]) for row in db.session.execute(query)]
    return paging.page_of(rows, limit, lambda row: (row[0].name, row[0].id))


def tree() -> list[UnitNode]:
    """The unit forest in depth-first order, flattened, each with its depth."""
    rows = db.session.execute(
        select(Unit.id, Unit.name, Unit.parent_id, Unit.headcount).order_by(Unit.name)
    )
    by_parent: dict[int | None, list[UnitRef]] = {}
    for row in rows:
        unit = UnitRef(*row)
        by_parent.setdefault(unit.parent_id, []).append(unit)
    out: list[UnitNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in by_parent.get(parent_id, []):
            out.append(UnitNode(unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return out


def subtree_ids(unit_id: int) -> set[int]:
    """The unit and all units below it."""
    children: dict[int | None, list[int]] = {}
    for child_id, parent_id in db.session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(child_id)
    found = {unit_id}
    stack = [unit_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def ancestors(unit: Unit) -> list[Unit]:
    """The unit's parents, nearest first."""
    out: list[Unit] = []
    seen = {unit.id}
    current = unit.parent
    while current is not None and current.id not in seen:
        out.append(current)
        seen.add(current.id)
        current = current.parent
    return out


def _with_ancestors_query() -> Any:
    up = (
        select(Unit.id, Unit.parent_id)
        .where(Unit.id.in_(bindparam("ids", expanding=True)))
        .cte("up", recursive=True)
    )
    parent = aliased(Unit)
    up = up.union(select(parent.id, parent.parent_id).join(up, parent.id == up.c.parent_id))
    return select(up.c.id)


# Built once: the statement is the same for every call (the ids are its parameter).
_WITH_ANCESTORS = _with_ancestors_query()


def with_ancestors(unit_ids: Iterable[int]) -> set[int]:
    """The units and every unit above them, in one statement (a recursive query; UNION
    stops at a unit already found, so even a cycle would end)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return set()
    return set(db.session.scalars(_WITH_ANCESTORS, {"ids": ids}))


def _check_name(name: str, exclude_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise OrgError(_l("A unit needs a name."))
    if len(name) > 120:
        raise OrgError(_l("A unit name can be at most 120 characters."))
    existing = find_unit(name)
    if existing is not None and existing.id != exclude_id:
        raise OrgError(_l("A unit named %(name)s already exists.", name=name))
    return name


def _check_headcount(headcount: int) -> int:
    if headcount < 0 or headcount > MAX_HEADCOUNT:
        raise OrgError(
            _l(
                "Headcount must be a whole number from 0 to %(max)s.",
                max=format_number(MAX_HEADCOUNT),
            ),
            field="headcount",
        )
    return headcount


def create_unit(name: str, *, parent: Unit | None = None, headcount: int = 0) -> Unit:
    """Create a unit under an optional parent."""
    unit = Unit(
        name=_check_name(name),
        parent_id=parent.id if parent else None,
        headcount=_check_headcount(headcount),
    )
    db.session.add(unit)
    db.session.flush()
    return unit


def update_unit(unit: Unit, *, name: str, parent: Unit | None, headcount: int) -> Unit:
    """Rename, move or change the headcount of a unit; refuses to create a cycle."""
    if parent is not None and parent.id in subtree_ids(unit.id):
        raise OrgError(
            _l("A unit cannot be moved under itself or one of its sub-units."), field="parent_id"
        )
    unit.name = _check_name(name, exclude_id=unit.id)
    unit.parent_id = parent.id if parent else None
    unit.headcount = _check_headcount(headcount)
    db.session.flush()
    return unit
