"""Replace bare state/track/access-level/grant-kind/role/status literals in tests with
the enum members, where the context says which vocabulary a word is (issue 11, item 4).

    PYTHONPATH=. python tools/name_bare_states.py tests [more paths]

A literal is rewritten only when what it is compared with, assigned to or passed as
names its vocabulary: `case.state == "closed"`, `{"to": "closed"}`, `track="hr_matter"`,
`make.user("handler", ...)`, `transition(case, "closed")`, a `parametrize` column named
`role`, a table named `ROLES`. Anything else is left alone (and still counted by
tools/bare_states.py). Imports are added; run `ruff check --fix` and `ruff format` after.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from handling.states import AccessLevel, CaseState, GrantKind, Side, Track
from reporting.codes import ReportStatus
from trygg.roles import Role

# The name a value belongs to → its enum.
BY_NAME: dict[str, type[StrEnum]] = {
    "state": CaseState,
    "to": CaseState,
    "from": CaseState,
    "track": Track,
    "status": ReportStatus,
    "level": AccessLevel,
    "levels": AccessLevel,
    "author_kind": Side,
    "viewer": Side,
    "role": Role,
    "roles": Role,
    "who": Role,
    "EXPECTED": CaseState,
    "ROLES": Role,
    "DEMO_ROLES": Role,
    "TWO_FACTOR_ROLES": Role,
    "people": Role,
    "state_of": CaseState,
    "access_level": AccessLevel,
}
# Calls whose positional arguments are of one vocabulary: name → (argument index or
# None for every argument, enum).
BY_CALL: dict[str, tuple[int | None, type[StrEnum]]] = {
    "user": (None, Role),
    "logged_in": (None, Role),
    "log_in": (None, Role),
    "find_user": (None, Role),
    "create_user": (None, Role),
    "Login": (None, Role),
    "has_role": (None, Role),
    "allow": (None, Role),
    "transition": (1, CaseState),
    "check": (1, CaseState),
    "_facts": (0, CaseState),
    "step_form": (0, CaseState),
}
IMPORTS = {
    CaseState: "handling.states",
    Track: "handling.states",
    AccessLevel: "handling.states",
    GrantKind: "handling.states",
    Side: "handling.states",
    ReportStatus: "reporting.codes",
    Role: "trygg.roles",
}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    if isinstance(node, ast.Call):
        return _name(node.func)
    return None


def _parametrize_name(call: ast.Call, path: list[ast.AST]) -> str | None:
    """The column name of a literal inside `parametrize(names, rows)`'s rows."""
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant):
        names = [n.strip() for n in str(first.value).split(",")]
    elif isinstance(first, ast.Tuple | ast.List):
        names = [str(e.value) for e in first.elts if isinstance(e, ast.Constant)]
    else:
        return None
    if len(names) == 1:
        return names[0]
    # path: … rows-container, row tuple, literal
    for outer, inner in zip(path, path[1:], strict=False):
        if isinstance(outer, ast.Tuple) and outer in path and inner in outer.elts:
            return names[outer.elts.index(inner)] if len(outer.elts) == len(names) else None
    return None


def owner(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> type[StrEnum] | None:
    path: list[ast.AST] = [node]
    child: ast.AST = node
    parent = parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.JoinedStr):
            return None
        if isinstance(parent, ast.Compare):
            others = [parent.left, *parent.comparators]
            pairs = [o for o in others if o is not child and isinstance(o, ast.Tuple)]
            if isinstance(child, ast.Tuple) and pairs and len(pairs[0].elts) == len(child.elts):
                # (a.state, a.status) == ("closed", "closed"): element by element
                mate = pairs[0].elts[child.elts.index(path[-2])]
                name = _name(mate)
                return BY_NAME.get(name) if name is not None else None
            names = [_name(o) for o in others if o is not child]
            return next((BY_NAME[n] for n in names if n in BY_NAME), None)
        if isinstance(parent, ast.keyword):
            return BY_NAME.get(parent.arg or "")
        if isinstance(parent, ast.Dict):
            if child in parent.values:
                key = parent.keys[parent.values.index(child)]
                if isinstance(key, ast.Constant) and str(key.value) in BY_NAME:
                    return BY_NAME[str(key.value)]
            # a key, or a value under another key: the table the dict is assigned to
        elif isinstance(parent, ast.Call):
            func = _name(parent.func) or ""
            if func == "parametrize":
                column = _parametrize_name(parent, list(reversed(path)))
                return BY_NAME.get(column or "")
            if child in parent.args and func in BY_CALL:
                index, enum = BY_CALL[func]
                return enum if index is None or parent.args.index(child) == index else None
            if func not in {"frozenset", "set", "tuple", "list", "sorted"}:
                return None
        elif isinstance(parent, ast.Assign | ast.AnnAssign):
            target = parent.targets[0] if isinstance(parent, ast.Assign) else parent.target
            return BY_NAME.get(_name(target) or "")
        elif isinstance(parent, ast.stmt):
            return None
        path.append(parent)
        child, parent = parent, parents.get(parent)
    return None


def replacements(tree: ast.AST) -> Iterator[tuple[ast.Constant, type[StrEnum]]]:
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            enum = owner(node, parents)
            if enum is not None and node.value in {m.value for m in enum}:
                yield node, enum


def rewrite(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    if "vocabulary-file:" in text:
        return 0
    lines = text.splitlines(keepends=True)
    found = sorted(
        replacements(ast.parse(text)), key=lambda r: (r[0].lineno, r[0].col_offset), reverse=True
    )
    used: set[type[StrEnum]] = set()
    for node, enum in found:
        if node.lineno != node.end_lineno or node.end_col_offset is None:
            continue
        line = lines[node.lineno - 1].encode()
        member = f"{enum.__name__}.{enum(node.value).name}".encode()
        new = line[: node.col_offset] + member + line[node.end_col_offset :]
        lines[node.lineno - 1] = new.decode()
        used.add(enum)
    if not used:
        return 0
    imports = ""
    for module in sorted({IMPORTS[e] for e in used}):
        names = sorted(e.__name__ for e in used if IMPORTS[e] == module)
        imports += f"from {module} import {', '.join(names)}\n"
    body = "".join(lines)
    anchor = "from __future__ import annotations\n"
    if anchor in body:
        body = body.replace(anchor, anchor + "\n" + imports, 1)
    else:  # after the module docstring, if any
        tree = ast.parse(body)
        first = tree.body[0] if tree.body else None
        docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        cut = (
            sum(len(line) for line in body.splitlines(keepends=True)[: first.end_lineno])
            if (docstring and first is not None and first.end_lineno is not None)
            else 0
        )
        body = body[:cut] + ("\n" if cut else "") + imports + body[cut:]
    path.write_text(body, encoding="utf-8")
    return len(found)


def main() -> int:
    total = 0
    for root in sys.argv[1:]:
        for path in sorted(Path(root).rglob("*.py")) if Path(root).is_dir() else [Path(root)]:
            total += rewrite(path)
    print(f"{total} literals named")
    return 0


if __name__ == "__main__":
    sys.exit(main())
