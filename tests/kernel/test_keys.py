"""`trygg keys ...`: rotation re-wraps data keys; retirement waits until nothing needs a key.

These tests change the keyring file, so each builds its own app on a fresh keyring
instead of the session's shared one.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pytest
from sqlalchemy import select, update

from tests.factories import Factory, api_login
from trygg import crypto, keys
from trygg.accounts.models import User
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def keyring_file(tmp_path):
    path = tmp_path / "keyring.json"
    crypto.create_keyring_file(path)
    return path


@pytest.fixture
def keyed_app(make_app, keyring_file):
    return make_app(keyring_path=str(keyring_file))


def keys_in_file(path) -> tuple[str, set[str]]:
    raw = json.loads(path.read_text())
    return raw["active"], set(raw["keys"])


def wrapping_key_of(app, user_id: int) -> str:
    with app.app_context():
        blob = db.session.scalar(select(User.wrapped_key).where(User.id == user_id))
        return crypto.wrapped_key_id(blob)


def can_log_in_with_code(app, user) -> bool:
    client = app.test_client()
    api_login(client, user)
    return client.get("/api/v1/me").get_json()["email"] == user.email


def test_rotate_rewraps_every_data_key_and_codes_still_work(keyed_app, keyring_file, make_app):
    make = Factory(keyed_app)
    users = [make.user(Role.EMPLOYEE, totp=True) for _ in range(5)]
    old_id, _ = keys_in_file(keyring_file)

    result = keyed_app.test_cli_runner().invoke(args=["keys", "rotate", "--batch", "2"])

    assert result.exit_code == 0, result.output
    new_id, ids = keys_in_file(keyring_file)
    assert new_id != old_id
    assert ids == {old_id, new_id}
    assert stat.S_IMODE(keyring_file.stat().st_mode) == 0o600
    assert f"re-wrapped 5 data keys under {new_id}" in result.output
    assert {wrapping_key_of(keyed_app, u.id) for u in users} == {new_id}
    assert can_log_in_with_code(keyed_app, users[0])
    # A process started after the rotation reads the new keyring from the file.
    restarted = make_app(keyring_path=str(keyring_file))
    assert can_log_in_with_code(restarted, users[1])


def test_retire_is_refused_while_a_data_key_uses_the_key(keyed_app, keyring_file):
    make = Factory(keyed_app)
    user = make.user(Role.HANDLER)
    runner = keyed_app.test_cli_runner()
    ring = keyed_app.extensions["trygg.keyring"]
    old_id = ring.active_id
    new_id = ring.add_key()  # a new key without re-wrapping: as if a rotation was cut short
    ring.save()

    refused = runner.invoke(args=["keys", "retire", old_id])
    assert refused.exit_code != 0
    assert f"key {old_id} still wraps 1 data keys" in refused.output
    assert old_id in keys_in_file(keyring_file)[1]

    listing = runner.invoke(args=["keys", "list"])
    assert f"{old_id}: 1 data keys" in listing.output
    assert f"{new_id} (active): 0 data keys" in listing.output

    rewrap = runner.invoke(args=["keys", "rewrap"])
    assert rewrap.exit_code == 0, rewrap.output
    assert wrapping_key_of(keyed_app, user.id) == new_id

    retired = runner.invoke(args=["keys", "retire", old_id])
    assert retired.exit_code == 0, retired.output
    assert keys_in_file(keyring_file) == (new_id, {new_id})
    assert can_log_in_with_code(keyed_app, user)


def test_keys_commands_pass_over_a_shredded_data_key(keyed_app, keyring_file):
    """Retention empties a deleted report's wrapped key: nothing to count, re-wrap or
    keep a key for (it crashed `keys list`, `rotate` and `retire` on the demo)."""
    make = Factory(keyed_app)
    kept, shredded = make.user(Role.EMPLOYEE, totp=True), make.user(Role.EMPLOYEE, totp=True)
    with keyed_app.app_context():
        db.session.execute(update(User).where(User.id == shredded.id).values(wrapped_key=b""))
        db.session.commit()
    runner = keyed_app.test_cli_runner()
    old_id, _ = keys_in_file(keyring_file)
    listing = runner.invoke(args=["keys", "list"])
    assert listing.exit_code == 0, listing.output
    assert f"{old_id} (active): 1 data keys" in listing.output
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_id, _ = keys_in_file(keyring_file)
    assert f"re-wrapped 1 data keys under {new_id}" in rotated.output
    assert wrapping_key_of(keyed_app, kept.id) == new_id
    retired = runner.invoke(args=["keys", "retire", old_id])
    assert retired.exit_code == 0, retired.output
    assert keys_in_file(keyring_file) == (new_id, {new_id})


@pytest.mark.parametrize(("which", "message"), [("active", "active key"), ("unknown", "no key")])
def test_retire_refuses_the_active_and_unknown_keys(keyed_app, keyring_file, which, message):
    active_id, _ = keys_in_file(keyring_file)
    kid = active_id if which == "active" else "k20260101-abcdef"
    result = keyed_app.test_cli_runner().invoke(args=["keys", "retire", kid])
    assert result.exit_code != 0
    assert message in result.output
    assert keys_in_file(keyring_file) == (active_id, {active_id})


def test_keys_init_creates_a_private_keyring_and_never_overwrites(runner, tmp_path):
    path = tmp_path / "prod" / "keyring.json"
    created = runner.invoke(args=["keys", "init", "--path", str(path)])
    assert created.exit_code == 0, created.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    again = runner.invoke(args=["keys", "init", "--path", str(path)])
    assert again.exit_code != 0
    assert "refusing to overwrite" in again.output
    assert path.read_bytes() == before


def test_a_running_process_follows_a_rotation_and_retirement_done_beside_it(
    keyed_app, keyring_file, make_app
):
    make = Factory(keyed_app)
    before = make.user(Role.EMPLOYEE, totp=True)
    old_id, _ = keys_in_file(keyring_file)

    # `trygg keys rotate`, then `retire`, from another process while this one runs.
    command_line = make_app(keyring_path=str(keyring_file)).test_cli_runner()
    assert command_line.invoke(args=["keys", "rotate"]).exit_code == 0
    new_id, _ = keys_in_file(keyring_file)
    # The running process opens data keys re-wrapped under the new key...
    assert can_log_in_with_code(keyed_app, before)
    # ...and wraps new ones under it, so retiring the old key loses nothing.
    after = make.user(Role.EMPLOYEE, totp=True)
    assert wrapping_key_of(keyed_app, after.id) == new_id
    retired = command_line.invoke(args=["keys", "retire", old_id])
    assert retired.exit_code == 0, retired.output
    assert can_log_in_with_code(make_app(keyring_path=str(keyring_file)), after)


def test_threads_reload_the_keyring_one_at_a_time_and_keep_the_newest(
    keyed_app, keyring_file, monkeypatch, caplog
):
    """Two threads seeing a changed file never store an older ring beside a newer stamp
    (which would keep that ring until the file changed again); an unreadable file keeps
    the loaded keys and says so once in the log."""

    def rotate() -> str:
        ring = crypto.Keyring.load(keyring_file)
        kid = ring.add_key()
        ring.save()
        return kid

    real_load = crypto.Keyring.load.__func__
    first_has_read, first_may_go = threading.Event(), threading.Event()
    order: list[str] = []

    def slow_load(cls, path):
        fresh = real_load(cls, path)
        if threading.current_thread().name != "MainThread":
            order.append(threading.current_thread().name)
        if threading.current_thread().name == "first":  # read one version, then slow
            first_has_read.set()
            first_may_go.wait(5)
        return fresh

    monkeypatch.setattr(crypto.Keyring, "load", classmethod(slow_load))

    def use() -> None:
        with keyed_app.app_context():
            keys.keyring()

    rotate()
    first = threading.Thread(target=use, name="first")
    first.start()
    assert first_has_read.wait(5)
    newest = rotate()  # changed again while the first thread still holds the older read
    second = threading.Thread(target=use, name="second")
    second.start()
    time.sleep(0.3)
    assert second.is_alive(), "the second thread reloaded beside the first"
    first_may_go.set()
    first.join(5)
    second.join(5)
    assert order == ["first", "second"]
    with keyed_app.app_context():
        assert keys.keyring().active_id == newest

    keyring_file.write_text("{half a file")
    with keyed_app.app_context(), caplog.at_level("WARNING", logger="trygg.keys"):
        assert keys.keyring().active_id == newest
        assert keys.keyring().active_id == newest
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "keyring file unreadable, keeping the keys loaded"
    ]


def test_retire_of_the_active_key_in_use_says_to_rotate_not_to_rewrap(keyed_app, keyring_file):
    """`rewrap` cannot move data off the active key; the operator was sent in a circle."""
    Factory(keyed_app).user(Role.EMPLOYEE, totp=True)
    active_id, _ = keys_in_file(keyring_file)
    result = keyed_app.test_cli_runner().invoke(args=["keys", "retire", active_id])
    assert result.exit_code == 1
    assert "the active key cannot be retired; rotate first" in result.output
    assert "rewrap" not in result.output


@pytest.fixture
def wrong_keyring(tmp_path):
    """Another host's keyring, or a fresh one made by mistake: none of the data's keys."""
    path = tmp_path / "wrong-keyring.json"
    crypto.create_keyring_file(path)
    return path


def test_rotate_with_a_keyring_that_does_not_open_the_data_changes_nothing(
    keyed_app, keyring_file, wrong_keyring, make_app
):
    """It crashed with a traceback, after writing a new key into the wrong keyring file."""
    user = Factory(keyed_app).user(Role.EMPLOYEE, totp=True)
    data_key_id, _ = keys_in_file(keyring_file)
    wrong = make_app(keyring_path=str(wrong_keyring))
    before = wrong_keyring.read_bytes()
    runner = wrong.test_cli_runner()
    for command in (["keys", "rotate"], ["keys", "rewrap"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 1, result.output
        assert f"1 data keys are wrapped with {data_key_id}, which the keyring" in result.output
        assert "nothing was changed" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert wrong_keyring.read_bytes() == before
    assert wrapping_key_of(keyed_app, user.id) == data_key_id


def test_rotate_with_the_right_key_ids_but_other_keys_changes_nothing(
    keyed_app, keyring_file, make_app, tmp_path
):
    Factory(keyed_app).user(Role.EMPLOYEE, totp=True)
    ring = crypto.Keyring.load(keyring_file)
    forged = crypto.Keyring(
        keys={kid: os.urandom(32) for kid in ring.keys},
        active_id=ring.active_id,
        lookup_secret=ring.lookup_secret,
    )
    forged.save(tmp_path / "forged.json")
    before = (tmp_path / "forged.json").read_bytes()
    app = make_app(keyring_path=str(tmp_path / "forged.json"))
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1, result.output
    assert f"holds {ring.active_id}, but not the key the data was wrapped with" in result.output
    assert (tmp_path / "forged.json").read_bytes() == before


def test_list_names_the_keys_the_data_needs_that_the_keyring_lacks(
    keyed_app, keyring_file, wrong_keyring, make_app
):
    """It said "0 data keys" for the wrong keyring's key, and nothing of the data's own."""
    Factory(keyed_app).user(Role.EMPLOYEE, totp=True)
    data_key_id, _ = keys_in_file(keyring_file)
    wrong_id, _ = keys_in_file(wrong_keyring)
    result = (
        make_app(keyring_path=str(wrong_keyring)).test_cli_runner().invoke(args=["keys", "list"])
    )
    assert result.exit_code == 1
    assert f"{wrong_id} (active): 0 data keys" in result.output
    assert f"{data_key_id} (NOT IN THIS KEYRING): 1 data keys cannot be opened" in result.output


def test_rotation_and_retirement_are_in_the_audit_log(keyed_app, keyring_file):
    """Operator actions, as the README says every operator action is: they were not."""
    Factory(keyed_app).user(Role.EMPLOYEE, totp=True)
    old_id, _ = keys_in_file(keyring_file)
    runner = keyed_app.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    new_id, _ = keys_in_file(keyring_file)
    assert runner.invoke(args=["keys", "retire", old_id]).exit_code == 0
    with keyed_app.app_context():
        entries = db.session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.object_id)
            .where(AuditEntry.action.like("keys.%"))
            .order_by(AuditEntry.seq)
        ).all()
    assert [tuple(e) for e in entries] == [
        ("keys.rotate", "cli", new_id),
        ("keys.retire", "cli", old_id),
    ]
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
