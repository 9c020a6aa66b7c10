"""The bad day, as an operator meets it at the console: a new host without its keyring
yet, a database that is not there, a keyring that is not the one the data was written
with. Each is one line naming what to do and a non-zero exit, never a traceback, and
nothing is changed on the way.

These run the `trygg` console script itself (trygg/cli.py), where the command group
turns such errors into one line.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import func, select, update

from reporting.models import Report
from tests.operations.support import fill
from trygg import crypto
from trygg.accounts.models import User
from trygg.audit import AuditEntry
from trygg.cli import cli
from trygg.extensions import db

NO_TWO_FACTOR = {"two_factor_roles": []}


def trygg(app: Flask, *args: str) -> Result:
    """Run the `trygg` console script against an app."""
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_keys_init_works_before_the_configured_keyring_exists(tmp_path: Path) -> None:
    """The README's first production step: a configuration names the keyring, then
    `trygg keys init --path` makes it. It failed, as every command did, because the app
    refused to start without the keyring it was about to create."""
    path = tmp_path / "etc" / "keyring.json"
    environment = {
        "TRYGG_ENV": "production",
        "TRYGG_SECRET_KEY": "s" * 48,
        "TRYGG_BASE_URL": "https://trygg.example.org",
        "TRYGG_KEYRING_PATH": str(path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}",
        "TRYGG_CONFIG": "",
    }
    result = CliRunner().invoke(cli, ["keys", "init", "--path", str(path)], env=environment)
    assert result.exit_code == 0, result.output
    assert f"created keyring {path} with key k" in result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypto.Keyring.load(path).active_id in result.output
    # The other key commands still need (and build) the app.
    listing = CliRunner().invoke(cli, ["keys", "list"], env=environment)
    assert "Traceback" not in listing.output
    assert listing.exit_code != 0  # the database has no tables yet: one line says so
    assert "trygg db upgrade" in listing.output


def test_a_database_that_cannot_be_opened_is_one_line(make_app, tmp_path: Path) -> None:
    app = make_app(database_url=f"sqlite:///{tmp_path / 'no-such-folder' / 'trygg.db'}")
    for command in (["audit", "verify"], ["keys", "list"], ["db", "upgrade"]):
        line = one_line_error(trygg(app, *command))
        assert line.startswith("Error: the database failed: "), line
        assert "check DATABASE_URL" in line


def test_a_database_not_yet_upgraded_is_one_line(make_app, empty_database) -> None:
    app = make_app(database_url=empty_database)
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE unrelated (id INTEGER)"))
        db.session.commit()
    for command in (["audit", "verify"], ["audit", "head"], ["users", "deactivate", "a@b.no"]):
        line = one_line_error(trygg(app, *command))
        assert "trygg db upgrade" in line, line


@pytest.fixture
def filled_and_wrong(make_app, scratch_database, tmp_path: Path) -> tuple[Flask, Flask]:
    """A database with reports, and the same database under a keyring that is not its own."""
    app = make_app(database_url=scratch_database, **NO_TWO_FACTOR)
    fill(app)
    wrong = tmp_path / "wrong-keyring.json"
    crypto.create_keyring_file(wrong)
    return app, make_app(database_url=scratch_database, keyring_path=str(wrong), **NO_TWO_FACTOR)


def test_a_command_is_refused_in_one_line_before_it_uses_the_wrong_keyring(filled_and_wrong):
    """A command that would open reports, or seal an account's secrets and the audit
    chain's head, with a keyring that does not open the data: refused in one line, and
    nothing written (checked under the right keyring)."""
    app, wrong = filled_and_wrong
    with app.app_context():  # reports from before the people index (revision 0018)
        db.session.execute(update(Report).values(people_index=None))
        db.session.commit()
        before = audit_entries()
    for args in (
        ("retention", "index-people"),
        ("users", "create", "ny@example.org", "--name", "Ny Bruker", "--role", "employee"),
    ):
        line = one_line_error(trygg(wrong, *args))
        assert line.startswith("Error: refused, nothing done: data keys are wrapped with k"), line
        assert "configure the keyring this database was written with" in line
    with app.app_context():
        assert audit_entries() == before
        assert (
            db.session.scalar(
                select(func.count()).select_from(User).where(User.email == "ny@example.org")
            )
            == 0
        )
        assert (
            db.session.scalar(
                select(func.count()).select_from(Report).where(Report.people_index.is_not(None))
            )
            == 0
        )
    # Help is still shown, and the commands that check the keyring themselves still run.
    assert trygg(wrong, "users", "create", "--help").exit_code == 0
    assert "or the keyring is wrong: " in trygg(wrong, "audit", "verify").output


def audit_entries() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_audit_verify_names_the_wrong_keyring_and_seal_refuses_it(filled_and_wrong):
    """A seal that does not match read as tampering only; `audit seal --force` would then
    have sealed the chain with the wrong keyring, breaking it for the right one."""
    app, wrong = filled_and_wrong
    verify = trygg(wrong, "audit", "verify")
    assert verify.exit_code == 1
    assert "the head's seal does not match" in verify.output
    assert "or the keyring is wrong: " in verify.output
    assert "which the keyring" in verify.output
    sealed = trygg(wrong, "audit", "seal", "--force")
    assert "not sealed" in one_line_error(sealed)
    assert trygg(app, "audit", "verify").exit_code == 0


def test_backup_warns_when_the_keyring_does_not_open_the_data(
    filled_and_wrong, tmp_path: Path, pg_tools
):
    """The copy is good, but the operator was about to keep the wrong keyring beside it."""
    _app, wrong = filled_and_wrong
    result = trygg(wrong, "backup", "--out", str(tmp_path / "backup"))
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["unopenable"] > 0
    assert (
        f"warning: {manifest['unopenable']} data keys do not open with the configured keyring"
        in result.output
    )
