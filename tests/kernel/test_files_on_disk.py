"""Files on disk: the keyring is the owner's alone in production; the development
instance folder and database are created for their owner only."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trygg import cli, crypto, settings
from trygg.settings import ConfigError

LONG_SECRET = "x" * 48


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def keyring(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "keyring.json"
    crypto.create_keyring_file(path)
    return path


def production(keyring: Path) -> dict:
    values = settings.load(
        environ={
            "TRYGG_ENV": "production",
            "TRYGG_SECRET_KEY": LONG_SECRET,
            "TRYGG_KEYRING_PATH": str(keyring),
            "TRYGG_BASE_URL": "https://trygg.example.org",
        }
    )
    settings.resolve_dev_secrets(values)
    return values


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o644, 0o620], ids=oct)
def test_production_refuses_a_keyring_others_can_read(keyring, loose):
    keyring.chmod(loose)
    with pytest.raises(ConfigError) as refused:
        settings.validate(production(keyring))
    assert f"chmod 600 {keyring}" in str(refused.value)


@pytest.mark.parametrize("tight", [0o600, 0o400], ids=oct)
def test_production_accepts_a_keyring_only_its_owner_can_read(keyring, tight):
    keyring.chmod(tight)
    settings.validate(production(keyring))


def test_development_does_not_insist(keyring):
    keyring.chmod(0o644)
    values = production(keyring)
    values["env"] = "development"
    settings.validate(values)


def test_the_console_script_says_what_to_do_in_one_line(keyring):
    keyring.chmod(0o644)
    clean = {key: None for key in os.environ if key.startswith("TRYGG_") or key == "DATABASE_URL"}
    result = CliRunner().invoke(
        cli.cli,
        ["audit", "verify"],
        env={
            **clean,
            "TRYGG_ENV": "production",
            "TRYGG_SECRET_KEY": LONG_SECRET,
            "TRYGG_KEYRING_PATH": str(keyring),
            "TRYGG_BASE_URL": "https://trygg.example.org",
        },
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"configuration error: the keyring file {keyring} is open to other users than its "
        f"owner (mode 644): chmod 600 {keyring}"
    )


def test_development_setup_makes_the_instance_folder_and_database_private(tmp_path):
    """`make bootstrap`: devsetup, then the migrations create the SQLite database."""
    instance = tmp_path / "instance"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TRYGG_INSTANCE_PATH": str(instance),
    }
    script = Path(sys.executable).parent / "trygg"
    for command in ([sys.executable, "-m", "trygg.devsetup"], [str(script), "db", "upgrade"]):
        done = subprocess.run(  # noqa: S603 - our own scripts
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            preexec_fn=lambda: os.umask(0o022),  # noqa: PLW1509 - a usual umask, in the child
        )
        assert done.returncode == 0, done.stderr
    assert mode(instance) == 0o700
    database = instance / "trygg.db"
    assert database.stat().st_size > 0  # migrated
    assert mode(database) == 0o600
    for name in ("secret_key", "keyring.json"):
        assert mode(instance / name) == 0o600
    # While the database is open, SQLite keeps a write-ahead log and a shared-memory
    # file beside it, with the database file's mode.
    connection = sqlite3.connect(database)
    try:
        connection.execute("CREATE TABLE scratch (x INTEGER)")
        connection.commit()
        extras = sorted(instance.glob("trygg.db-*"))
        assert [path.name for path in extras] == ["trygg.db-shm", "trygg.db-wal"]
        assert [mode(path) for path in extras] == [0o600, 0o600]
    finally:
        connection.close()


def test_development_setup_tightens_an_existing_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    (instance / "trygg.db").touch(mode=0o644)
    (instance / "trygg.db").chmod(0o644)
    settings.ensure_dev_secrets(settings.load(environ={"TRYGG_INSTANCE_PATH": str(instance)}))
    assert mode(instance) == 0o700
    assert mode(instance / "trygg.db") == 0o600
