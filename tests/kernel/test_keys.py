"""`trygg keys ...`: rotation re-wraps data keys; retirement waits until nothing needs a key.

These tests change the keyring file, so each builds its own app on a fresh keyring
instead of the session's shared one.
"""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select

from tests.factories import Factory, api_login
from trygg import crypto
from trygg.accounts.models import User
from trygg.extensions import db


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
    users = [make.user("employee", totp=True) for _ in range(5)]
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
    user = make.user("handler")
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
    before = make.user("employee", totp=True)
    old_id, _ = keys_in_file(keyring_file)

    # `trygg keys rotate`, then `retire`, from another process while this one runs.
    command_line = make_app(keyring_path=str(keyring_file)).test_cli_runner()
    assert command_line.invoke(args=["keys", "rotate"]).exit_code == 0
    new_id, _ = keys_in_file(keyring_file)
    # The running process opens data keys re-wrapped under the new key...
    assert can_log_in_with_code(keyed_app, before)
    # ...and wraps new ones under it, so retiring the old key loses nothing.
    after = make.user("employee", totp=True)
    assert wrapping_key_of(keyed_app, after.id) == new_id
    retired = command_line.invoke(args=["keys", "retire", old_id])
    assert retired.exit_code == 0, retired.output
    assert can_log_in_with_code(make_app(keyring_path=str(keyring_file)), after)
