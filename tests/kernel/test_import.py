"""`trygg import units|users FILE`: all or nothing per file, errors by line, a dry run
that stores nothing and lists the changes, and a second run that changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from tests.kernel.test_operators import trygg
from trygg.accounts.models import PasswordCode, User
from trygg.audit.models import AuditEntry
from trygg.extensions import db
from trygg.org import Unit
from trygg.roles import Role

UNITS = """name,parent,headcount
Sykehuset,,1200
Akutten,Sykehuset,80
Nattskiftet,Akutten,25
Kantina,Sykehuset,
"""

USERS = """email,name,roles,units,manages,represents
Kari.Nordmann@Example.org,Kari Nordmann,employee|manager,Akutten,Akutten,
ola@example.org,Ola Hansen,employee,Nattskiftet,,
vern@example.org,Vera Vern,employee|safety_rep,Akutten,,Akutten
"""


def _file(tmp_path: Path, text: str, name: str = "import.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _audit(app: Flask, action: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [json.loads(row.detail) for row in rows]


def _tree(app: Flask) -> dict[str, tuple[str | None, int]]:
    with app.app_context():
        return {
            u.name: (u.parent.name if u.parent else None, u.headcount)
            for u in db.session.scalars(select(Unit))
        }


def _errors(result: Result) -> dict[int, str]:
    """The error lines ("FILE:LINE: message") by line number."""
    lines = result.output.splitlines()
    return {int(line.split(".csv:")[1].split(":")[0]): line for line in lines if ".csv:" in line}


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_units_import_builds_the_tree_and_a_second_run_changes_nothing(
    app: Flask, tmp_path: Path
) -> None:
    path = _file(tmp_path, UNITS)
    out = _ok(trygg(app, "import", "units", path))
    assert "imported: 4 created, 0 changed, 0 unchanged" in out
    assert _tree(app) == {
        "Sykehuset": (None, 1200),
        "Akutten": ("Sykehuset", 80),
        "Nattskiftet": ("Akutten", 25),
        "Kantina": ("Sykehuset", 0),
    }
    again = _ok(trygg(app, "import", "units", path))
    assert "imported: 0 created, 0 changed, 4 unchanged" in again
    assert _audit(app, "import.units") == [
        {"created": 4, "updated": 0, "unchanged": 0},
        {"created": 0, "updated": 0, "unchanged": 4},
    ]
    # A parent named further down the file, and a move.
    moved = "name,parent\nKantina,Drift\nDrift,Sykehuset\n"
    assert "1 created, 1 changed" in _ok(trygg(app, "import", "units", _file(tmp_path, moved)))
    assert _tree(app)["Kantina"] == ("Drift", 0)


def test_a_units_file_with_bad_lines_imports_nothing_and_names_each_line(
    app: Flask, tmp_path: Path
) -> None:
    bad = (
        "name,parent,headcount\n"
        "Sykehuset,,1200\n"
        "Akutten,Sykehus,80\n"  # line 3: no such parent
        "Lab,Sykehuset,many\n"  # line 4: headcount
        "Sykehuset,,3\n"  # line 5: twice
        "A,B,1\n"
        "B,A,1\n"  # lines 6 and 7: a cycle
        ",Sykehuset,1\n"  # line 8: no name
    )
    result = trygg(app, "import", "units", _file(tmp_path, bad))
    assert result.exit_code == 1
    by_line = _errors(result)
    assert set(by_line) == {3, 4, 5, 6, 7, 8}
    assert "There is no unit named Sykehus" in by_line[3]
    assert "Headcount must be a whole number" in by_line[4]
    assert "also on line 2" in by_line[5]
    assert "under itself" in by_line[6]
    assert "needs a name" in by_line[8]
    assert "nothing imported: 6 line(s) with errors" in result.output
    assert _count(app, Unit) == 0
    assert _audit(app, "import.units") == []


def test_a_dry_run_lists_the_changes_and_stores_nothing(app: Flask, tmp_path: Path) -> None:
    _ok(trygg(app, "import", "units", _file(tmp_path, UNITS)))
    changed = "name,parent,headcount\nAkutten,Sykehuset,95\nLab,Sykehuset,12\nKantina,Sykehuset,\n"
    out = _ok(trygg(app, "import", "units", "--dry-run", _file(tmp_path, changed)))
    assert "line 2: update unit Akutten (headcount: 80 \u2192 95)" in out
    assert "line 3: create unit Lab (parent: Sykehuset; headcount: 12)" in out
    assert "Kantina" not in out
    assert "dry run: 1 to create, 1 to change, 1 unchanged; nothing was stored" in out
    assert _tree(app)["Akutten"] == ("Sykehuset", 80)
    assert "Lab" not in _tree(app)
    assert len(_audit(app, "import.units")) == 1  # the first, real run only


def _users(app: Flask) -> dict[str, dict[str, Any]]:
    with app.app_context():
        return {
            u.email: {
                "name": u.name,
                "roles": sorted(u.roles),
                "units": sorted(u.unit.name for u in u.memberships),
                "manages": sorted(u.name for u in u.managed_units),
                "represents": sorted(u.name for u in u.represented_units),
                "password": u.password_hash is not None,
            }
            for u in db.session.scalars(select(User))
        }


def test_users_import_creates_accounts_without_passwords_and_is_idempotent(
    app: Flask, tmp_path: Path
) -> None:
    _ok(trygg(app, "import", "units", _file(tmp_path, UNITS, "units.csv")))
    # A spreadsheet's export: byte-order mark and semicolons.
    path = _file(tmp_path, "\ufeff" + USERS.replace(",", ";"), "users.csv")
    out = _ok(trygg(app, "import", "users", path))
    assert "imported: 3 created, 0 changed, 0 unchanged" in out
    users = _users(app)
    assert users["kari.nordmann@example.org"] == {
        "name": "Kari Nordmann",
        "roles": [Role.EMPLOYEE, Role.MANAGER],
        "units": ["Akutten"],
        "manages": ["Akutten"],
        "represents": [],
        "password": False,
    }
    assert users["vern@example.org"]["represents"] == ["Akutten"]
    assert "imported: 0 created, 0 changed, 3 unchanged" in _ok(trygg(app, "import", "users", path))
    assert _audit(app, "import.users")[-1] == {"created": 0, "updated": 0, "unchanged": 3}
    # A file without the manages column leaves what each user leads as it is.
    moved = (
        "email,name,roles,units\nkari.nordmann@example.org,Kari Nordmann,employee|manager,Kantina\n"
    )
    out = _ok(trygg(app, "import", "users", "--dry-run", _file(tmp_path, moved, "moved.csv")))
    assert "units: Akutten \u2192 Akutten|Kantina" in out
    _ok(trygg(app, "import", "users", _file(tmp_path, moved, "moved.csv")))
    kari = _users(app)["kari.nordmann@example.org"]
    assert (kari["units"], kari["manages"]) == (["Akutten", "Kantina"], ["Akutten"])


def test_a_users_file_with_bad_lines_imports_nothing(app: Flask, tmp_path: Path) -> None:
    _ok(trygg(app, "import", "units", _file(tmp_path, UNITS, "units.csv")))
    before = _count(app, User)
    bad = USERS + (
        "boss@example.org,Bo Boss,admin|handler,,,\n"  # line 5: separation of duties
        "not-an-address,Nobody,employee,,,\n"  # line 6
        "ola@example.org,Ola Again,employee,,,\n"  # line 7: twice
        "x@example.org,X,employee|owner,,,\n"  # line 8: no such role
        "y@example.org,Y,employee,Nowhere,,\n"  # line 9: no such unit
        "z@example.org,,employee,,,\n"  # line 10: no name
    )
    result = trygg(app, "import", "users", _file(tmp_path, bad))
    assert result.exit_code == 1
    by_line = _errors(result)
    assert set(by_line) == {5, 6, 7, 8, 9, 10}
    assert "An administrator cannot also be a case handler" in by_line[5]
    assert "Not a valid e-mail address" in by_line[6]
    assert "also on line 3" in by_line[7]
    assert "Unknown role: owner" in by_line[8]
    assert "no unit named Nowhere" in by_line[9]
    assert "name of 1 to 120 characters" in by_line[10]
    assert _count(app, User) == before
    assert _audit(app, "import.users") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,name\na@example.org,A\n", "lacks the column roles"),
        ("email,name,roles,shoe_size\n", "Unknown column shoe_size"),
    ],
)
def test_a_file_that_does_not_fit_is_refused_whole(
    app: Flask, tmp_path: Path, text: str, message: str
) -> None:
    result = trygg(app, "import", "users", _file(tmp_path, text))
    assert result.exit_code == 1
    assert message in result.output
    latin1 = trygg(app, "import", "units", _file(tmp_path, "name\nGjøvik\n", encoding="latin-1"))
    assert "not UTF-8" in latin1.output


def test_a_user_who_gains_a_case_reading_role_gets_a_full_reset(
    app: Flask, tmp_path: Path, make: Any
) -> None:
    _ok(trygg(app, "import", "units", _file(tmp_path, UNITS, "units.csv")))
    make.user(Role.EMPLOYEE, email="ola@example.org", name="Ola Hansen")
    promoted = "email,name,roles\nola@example.org,Ola Hansen,employee|handler\n"
    out = _ok(trygg(app, "import", "users", _file(tmp_path, promoted)))
    assert "0 created, 1 changed" in out
    with app.app_context():
        ola = db.session.scalar(select(User).where(User.email == "ola@example.org"))
        assert ola is not None
        assert ola.password_hash is None  # whoever knew the old one cannot read cases
        code = db.session.get(PasswordCode, ola.id)
        assert code is not None
        assert code.mail_sealed is not None  # to Ola's own address
