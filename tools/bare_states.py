"""Count bare string literals of case states, tracks, access levels, grant kinds, roles
and report statuses outside the modules that define them (issue 11, item 4).

    PYTHONPATH=. python tools/bare_states.py [--root DIR] [--list] [--tests]

The vocabulary is read from the enums themselves (handling/states.py, trygg/roles.py,
reporting/codes.py), so a new member is counted without touching this script. It
counts Python string constants (outside `StrEnum` class bodies) and quoted strings
inside Jinja `{{ }}`/`{% %}` in templates. App code is handling/, reporting/, risk/,
retention/, notifications/ and trygg/; `--tests` counts tests/ instead.

Some words belong to other vocabularies too ("investigation" is a deadline kind,
"assigned" a timeline event, "admin" a menu and a blueprint). Those uses are told apart
by their context (the called function, the keyword, or the table assigned to) and
listed in OTHER below, each with the vocabulary it belongs to; they are reported as a
separate number, never silently dropped.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import Counter
from pathlib import Path

from handling.states import AccessLevel, CaseState, GrantKind, Track
from reporting.codes import ReportStatus
from trygg.roles import Role

VOCABULARY: dict[str, str] = {}
for enum in (CaseState, Track, AccessLevel, GrantKind, Role, ReportStatus):
    for member in enum:
        VOCABULARY.setdefault(member.value, enum.__name__)

APP_DIRS = ("handling", "reporting", "risk", "retention", "notifications", "trygg")

# context → (the other vocabulary, the words it shares). A context is "call:NAME" (a
# positional argument of NAME(...)), "kw:NAME" (a keyword argument), or "table:NAME"
# (inside the value assigned to NAME).
OTHER: dict[str, tuple[str, frozenset[str]]] = {
    "kw:tags": ("OpenAPI tag", frozenset({"admin"})),
    "kw:menu": ("navigation menu", frozenset({"admin"})),
    "call:nav_items": ("navigation menu", frozenset({"admin"})),
    "call:Blueprint": ("blueprint name", frozenset({"admin"})),
    "call:_meet": ("deadline kind", frozenset({"investigation"})),
    "table:DEADLINE_KINDS": ("deadline kind", frozenset({"investigation"})),
    "table:DEFAULT_POLICIES": ("deadline kind", frozenset({"investigation"})),
    "table:LEAD_MINUTES": ("deadline kind", frozenset({"investigation"})),
    "table:DEADLINE_DIMENSIONS": ("deadline dimension", frozenset({"acknowledged"})),
    "call:_event": ("timeline event", frozenset({"assigned"})),
    "table:EVENT_KINDS": ("timeline event", frozenset({"assigned"})),
    "table:NAMING_EVENTS": ("timeline event", frozenset({"assigned"})),
    "table:QUEUE_FILTERS": ("queue filter", frozenset({"assigned"})),
    "table:PARTICIPANT_ROLES": ("debriefing participant", frozenset(VOCABULARY)),
    "table:POLICE_REPORT": ("who reported to the police", frozenset({"employee"})),
    "table:MEASURE_STATES": ("risk measure state", frozenset({"in_progress"})),
    "table:OPEN_MEASURE_STATES": ("risk measure state", frozenset({"in_progress"})),
    "table:FIELDS": ("export field", frozenset({"submitted"})),
    "table:MOMENTS": ("export field", frozenset({"submitted"})),
    "table:DEFAULT_LEAD_MINUTES": ("deadline kind", frozenset({"investigation"})),
    "call:Dimension": ("statistics dimension", frozenset({"acknowledged"})),
    "table:FORM_SECTIONS": ("form name", frozenset({"grant"})),
    "call:_act": ("form name", frozenset({"grant"})),
    "table:__all__": ("exported function name", frozenset(VOCABULARY)),
}

# A use that no context tells apart says so on its line: `# vocabulary: <name>` in
# Python, `{# vocabulary: <name> #}` in a template (a comment alone on its line speaks
# for the next line). `# vocabulary-file: <name>` speaks for the whole file (a test of
# what is stored compares with the plain codes on purpose).
_MARKER = re.compile(r"vocabulary: ([A-Za-z ]+)")
_FILE_MARKER = re.compile(r"vocabulary-file: ([A-Za-z ]+)")
# Calls that only wrap a table: the context is the name the table is assigned to.
_WRAPPERS = frozenset({"frozenset", "set", "tuple", "list", "sorted", "dict"})

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# A quoted word in a Jinja expression, not the message of a gettext call `_('…')`.
_QUOTED = re.compile(r"""(?<!_\()(?:'([a-z_]+)'|"([a-z_]+)")""")


def _context(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.keyword):
            return f"kw:{parent.arg}"
        if isinstance(parent, ast.Call) and child is not parent.func:
            func = parent.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in _WRAPPERS:
                return f"call:{name}"
        if isinstance(parent, ast.Assign | ast.AnnAssign):
            target = parent.targets[0] if isinstance(parent, ast.Assign) else parent.target
            return f"table:{getattr(target, 'id', '')}"
        if isinstance(parent, ast.stmt):
            return ""
        child, parent = parent, parents.get(parent)
    return ""


def _in_enum_body(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.ClassDef):
            return any(getattr(b, "id", "") == "StrEnum" for b in parent.bases)
        parent = parents.get(parent)
    return False


def _marked(text: str) -> dict[int, str]:
    """Line number → the vocabulary its marker names."""
    out: dict[int, str] = {}
    whole = _FILE_MARKER.search(text)
    for n, line in enumerate(text.splitlines(), 1):
        if whole:
            out[n] = f"marker:{whole.group(1).strip()}"
        elif found := _MARKER.search(line):
            out[n] = f"marker:{found.group(1).strip()}"
            if line.lstrip().startswith(("#", "{#")):
                out[n + 1] = out[n]
    return out


def python_hits(path: Path) -> list[tuple[int, str, str]]:
    text = path.read_text(encoding="utf-8")
    marked = _marked(text)
    tree = ast.parse(text)
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    hits = []
    for node in ast.walk(tree):
        word = node.value if isinstance(node, ast.Constant) else None
        if isinstance(word, str) and word in VOCABULARY and not _in_enum_body(node, parents):
            context = marked.get(node.lineno) or _context(node, parents)
            hits.append((node.lineno, word, context))
    return hits


def template_hits(path: Path) -> list[tuple[int, str, str]]:
    text = path.read_text(encoding="utf-8")
    marked = _marked(text)
    hits = []
    for block in _JINJA.finditer(text):
        for quoted in _QUOTED.finditer(block.group()):
            word = quoted.group(1) or quoted.group(2)
            if word in VOCABULARY:
                line = text.count("\n", 0, block.start() + quoted.start()) + 1
                hits.append((line, word, marked.get(line, "")))
    return hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="the tree to scan (default: here)")
    parser.add_argument("--tests", action="store_true", help="count tests/ instead")
    parser.add_argument("--list", action="store_true", help="print every literal")
    args = parser.parse_args()
    root = Path(args.root)
    dirs = ("tests",) if args.tests else APP_DIRS
    bare: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for name in dirs:
        for path in sorted((root / name).rglob("*")):
            if path.suffix == ".py":
                hits = python_hits(path)
                kind = "python"
            elif path.suffix == ".html":
                hits = template_hits(path)
                kind = "template"
            else:
                continue
            for line, word, context in hits:
                shared = OTHER.get(context)
                if context.startswith("marker:"):
                    shared = (context.removeprefix("marker:"), frozenset({word}))
                if shared is not None and word in shared[1]:
                    other[shared[0]] += 1
                    where = f"other ({shared[0]})"
                else:
                    bare[kind] += 1
                    where = f"bare {VOCABULARY[word]}"
                if args.list:
                    print(f"{path.relative_to(root)}:{line}: {word!r} {where} {context}")
    scope = "tests" if args.tests else "app code"
    print(f"{scope}: {bare['python']} bare in Python, {bare['template']} in templates")
    print(f"{scope}: {sum(other.values())} of other vocabularies: {dict(sorted(other.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
