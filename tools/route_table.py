"""Print the app's routes as sorted (rule, endpoint, methods) lines.

A refactoring that moves views between modules must leave this table unchanged, since
templates and tests name endpoints in url_for:

    .venv/bin/python tools/route_table.py > before.txt
    (refactor)
    .venv/bin/python tools/route_table.py | diff before.txt -
"""

from __future__ import annotations

from trygg.app import create_app


def main() -> None:
    app = create_app()
    rows = sorted(
        (rule.rule, rule.endpoint, " ".join(sorted(rule.methods or ())))
        for rule in app.url_map.iter_rules()
    )
    for row in rows:
        print(*row)


if __name__ == "__main__":
    main()
