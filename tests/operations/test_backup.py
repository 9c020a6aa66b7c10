"""Backup and restore: the drill (fill, back up, wipe, restore, open everything), and
every refusal leaving the target database as it was.

PostgreSQL through pg_dump/pg_restore, SQLite through its online backup API; each
engine's pass of the suite drills its own engine.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import ENGINE
from tests.operations.conftest import recreate_empty
from tests.operations.support import fill, read_back, row_counts
from trygg import crypto

NO_TWO_FACTOR = {"two_factor_roles": []}


@pytest.fixture
def filled(make_app, scratch_database, pg_tools):
    app = make_app(database_url=scratch_database, **NO_TWO_FACTOR)
    return app, fill(app)


@pytest.fixture
def backup_dir(filled, tmp_path) -> Path:
    app, _ = filled
    out = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_drill_restores_everything_and_it_all_opens(
    filled, make_app, scratch_database, tmp_path
):
    app, world = filled
    before = read_back(app, world)
    counts = row_counts(app)
    out = tmp_path / "backup"

    result = invoke(app, "backup", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "The keyring is not in this backup" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {
        "manifest.json": 0o600,
        json.loads((out / "manifest.json").read_text())["file"]: 0o600,
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert {name: manifest["counts"][name] for name in counts} == counts
    assert manifest["audit"] == f"intact: {counts['audit_entry']} entries"
    assert manifest["audit_head"]["seq"] == counts["audit_entry"]
    assert sum(manifest["key_ids"].values()) == counts["report"] + 1  # and the admin's TOTP
    assert manifest["revision"]

    with app.app_context():
        from trygg.extensions import db

        db.engine.dispose()
    recreate_empty(scratch_database)  # the server is lost; a new, empty database

    restored = make_app(database_url=scratch_database, **NO_TWO_FACTOR)
    result = invoke(restored, "restore", str(out))
    assert result.exit_code == 0, result.output
    assert "restored and checked" in result.output
    assert row_counts(restored) == counts
    result = invoke(restored, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert read_back(restored, world) == before


def test_restore_refuses_a_database_that_is_not_empty(filled, backup_dir):
    app, _ = filled
    counts = row_counts(app)
    result = invoke(app, "restore", str(backup_dir))
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert row_counts(app) == counts


def test_restore_refuses_a_keyring_without_the_keys_and_writes_nothing(
    backup_dir, make_app, empty_database, tmp_path
):
    other = tmp_path / "other-keyring.json"
    crypto.create_keyring_file(other)
    app = make_app(database_url=empty_database, keyring_path=str(other))
    result = invoke(app, "restore", str(backup_dir))
    assert result.exit_code == 1
    assert f"the keyring {other} lacks k" in result.output
    assert "configure the keyring that was in use" in result.output
    assert is_empty(app)


def test_restore_with_the_same_key_ids_but_other_keys_is_undone(
    backup_dir, make_app, empty_database, settings, tmp_path
):
    """A keyring that looks right (same key ids) but cannot open the data."""
    ring = crypto.Keyring.load(settings["keyring_path"])
    forged = crypto.Keyring(
        keys={kid: os.urandom(32) for kid in ring.keys},
        active_id=ring.active_id,
        lookup_secret=os.urandom(32),
    )
    forged.save(tmp_path / "forged.json")
    app = make_app(database_url=empty_database, keyring_path=str(tmp_path / "forged.json"))
    result = invoke(app, "restore", str(backup_dir))
    assert result.exit_code == 1
    assert "do not open with this keyring" in result.output
    assert "seal does not match" in result.output  # the lookup secret differs too
    assert is_empty(app)


def test_restore_refuses_a_copy_that_is_not_the_one_described(backup_dir, make_app, empty_database):
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    copy = backup_dir / manifest["file"]
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    app = make_app(database_url=empty_database)
    result = invoke(app, "restore", str(backup_dir))
    assert result.exit_code == 1
    assert "checksum differs" in result.output
    assert is_empty(app)


def test_restore_refuses_a_schema_this_version_does_not_know(backup_dir, make_app, empty_database):
    path = backup_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "revision": "9999"}))
    app = make_app(database_url=empty_database)
    result = invoke(app, "restore", str(backup_dir))
    assert result.exit_code == 1
    assert "schema revision 9999 is unknown to this version" in result.output
    assert is_empty(app)


def test_backup_wants_a_new_folder(filled, backup_dir):
    app, _ = filled
    result = invoke(app, "backup", "--out", str(backup_dir))
    assert result.exit_code == 1
    assert "is not an empty folder" in result.output


def test_restore_names_a_folder_that_is_not_a_backup(make_app, empty_database, tmp_path):
    app = make_app(database_url=empty_database)
    result = invoke(app, "restore", str(tmp_path))
    assert result.exit_code == 1
    assert "has no manifest.json: it is not a Trygg backup" in result.output


def is_empty(app) -> bool:
    from trygg.backup import engines
    from trygg.extensions import db

    with app.app_context():
        return engines.is_empty(db.engine)


def test_a_backup_that_fails_leaves_nothing_behind(make_app, tmp_path, monkeypatch, request):
    """It left a half-written copy, and the folder then refused the next attempt."""
    if ENGINE == "postgres":  # pg_dump is not installed on this host
        app = make_app(database_url=request.getfixturevalue("scratch_database"))
        monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    else:  # the database file is not a database
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"not a database" * 512)
        app = make_app(database_url=f"sqlite:///{garbage}")
    out = tmp_path / "backup"
    result = invoke(app, "backup", "--out", str(out))
    assert result.exit_code != 0
    assert not out.exists()
    given = tmp_path / "given"  # an empty folder the operator made is left, empty
    given.mkdir()
    result = invoke(app, "backup", "--out", str(given))
    assert result.exit_code != 0
    assert list(given.iterdir()) == []


def test_restore_after_the_key_was_retired_says_which_keyring_copy_to_use(
    filled, backup_dir, make_app, empty_database, settings, tmp_path
):
    """A backup from before a rotation, and today's keyring where the old key is retired."""
    rotated = tmp_path / "rotated-keyring.json"
    ring = crypto.Keyring.load(settings["keyring_path"])
    old_id = ring.active_id
    ring.add_key()
    ring.remove_key(old_id)
    ring.save(rotated)
    app = make_app(database_url=empty_database, keyring_path=str(rotated))
    result = invoke(app, "restore", str(backup_dir))
    assert result.exit_code == 1
    assert f"lacks {old_id}" in result.output
    assert f"{old_id} was retired from it since: use the copy of the keyring" in result.output
    assert is_empty(app)
