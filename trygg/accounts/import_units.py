"""Importing the unit tree from CSV: `name`, `parent`, `headcount`.

A unit is known by its name (names are unique in Trygg). A line whose unit exists
changes its parent and headcount to the file's; otherwise the unit is created. A parent
is named by its name, and may be a unit further down the same file. A column left out
of the file leaves that value as it is (a new unit: top level, headcount 0); an empty
`parent` cell means top level. Units are never removed or renamed by an import.
"""

from __future__ import annotations

from functools import partial

from trygg import audit, org
from trygg.accounts import csv_import
from trygg.accounts.csv_import import Change, Plan, Row
from trygg.i18n import lazy_gettext as _l

REQUIRED = ("name",)
OPTIONAL = ("parent", "headcount")


def _headcount(row: Row, plan: Plan) -> int | None:
    raw = row.get("headcount")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= org.MAX_HEADCOUNT:
        plan.error(
            row.line,
            _l("Headcount must be a whole number from 0 to %(max)s.", max=org.MAX_HEADCOUNT),
        )
        return None
    return value


def _check_names(rows: list[Row], plan: Plan) -> dict[str, Row]:
    """The file's lines by unit name; errors for empty, long or repeated names."""
    by_name: dict[str, Row] = {}
    for row in rows:
        name = row.get("name") or ""
        extra = csv_import.too_many_cells(row)
        if extra:
            plan.error(row.line, extra)
        elif not name:
            plan.error(row.line, _l("A unit needs a name."))
        elif len(name) > 120:
            plan.error(row.line, _l("A unit name can be at most 120 characters."))
        elif name in by_name:
            plan.error(
                row.line,
                _l("%(name)s is also on line %(line)s.", name=name, line=by_name[name].line),
            )
        else:
            by_name[name] = row
    return by_name


def _parents(by_name: dict[str, Row], existing: dict[str, org.Unit], plan: Plan) -> dict[str, str]:
    """Each unit's parent name after the import ("" for top level)."""
    parents = {unit.name: unit.parent.name if unit.parent else "" for unit in existing.values()}
    for name, row in by_name.items():
        parent = row.get("parent")
        if parent is None:
            parents.setdefault(name, "")
        elif parent and parent not in by_name and parent not in existing:
            plan.error(
                row.line,
                _l("There is no unit named %(name)s, in the file or in Trygg.", name=parent),
            )
            parents[name] = ""
        else:
            parents[name] = parent
    for name, row in by_name.items():
        seen, current = {name}, parents.get(name, "")
        while current and current not in seen:
            seen.add(current)
            current = parents.get(current, "")
        if current:
            plan.error(
                row.line,
                _l("A unit cannot be moved under itself or one of its sub-units."),
            )
    return parents


def plan_units(data: bytes) -> Plan:
    """Check a unit file and work out what it changes (nothing is stored).

    Raises ImportFileError for a file that cannot be read at all."""
    rows = csv_import.read(data, REQUIRED, OPTIONAL)
    plan = Plan()
    existing = {unit.name: unit for unit in org.all_units()}
    by_name = _check_names(rows, plan)
    headcounts = {name: _headcount(row, plan) for name, row in by_name.items()}
    parents = _parents(by_name, existing, plan)
    if plan.errors:
        return plan
    new = [name for name in by_name if name not in existing]
    for name in new:  # created first, so that any line may name them as parent
        plan.steps.append(partial(_create, name, existing))
    for name, row in by_name.items():
        unit = existing.get(name)
        parent, headcount = parents[name], headcounts[name]
        fields: tuple[str, ...]
        if unit is None:
            fields = (f"parent: {parent or '-'}", f"headcount: {headcount or 0}")
            plan.changes.append(Change(row.line, "create", name, fields))
        else:
            fields = _differences(unit, parent, headcount)
            if not fields:
                plan.unchanged += 1
                continue
            plan.changes.append(Change(row.line, "update", name, fields))
        plan.steps.append(partial(_place, existing, name, parent, headcount))
    return plan


def _differences(unit: org.Unit, parent: str, headcount: int | None) -> tuple[str, ...]:
    fields = []
    before = unit.parent.name if unit.parent else ""
    if before != parent:
        fields.append(f"parent: {before or '-'} \u2192 {parent or '-'}")
    if headcount is not None and headcount != unit.headcount:
        fields.append(f"headcount: {unit.headcount} \u2192 {headcount}")
    return tuple(fields)


def _create(name: str, existing: dict[str, org.Unit]) -> None:
    existing[name] = org.create_unit(name)


def _place(
    existing: dict[str, org.Unit], name: str, parent_name: str, headcount: int | None
) -> None:
    unit, parent = existing[name], existing.get(parent_name)
    org.update_unit(
        unit,
        name=unit.name,
        parent=parent,
        headcount=unit.headcount if headcount is None else headcount,
    )


def record(plan: Plan, *, actor: str) -> None:
    """One audit entry for the run, with its counts (a dry run stores nothing)."""
    audit.record("import.units", actor=actor, object_type="unit", detail=plan.counts())
