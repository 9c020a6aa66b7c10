"""Settings: defaults, then the TRYGG_CONFIG file, then TRYGG_* environment; fail fast."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trygg import cli, crypto, settings
from trygg.roles import Role
from trygg.settings import ConfigError

TRYGG_SCRIPT = Path(sys.executable).parent / "trygg"
LONG_SECRET = secrets.token_urlsafe(40)


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "trygg.toml"
    path.write_text(text)
    return str(path)


def test_defaults_come_from_the_defaults_file():
    values = settings.load(environ={})
    assert values["env"] == "development"
    assert values["login_max_failures"] == 5
    assert values["two_factor_roles"] == [Role.HANDLER, Role.ADMIN]
    assert values["secure_cookies"] is False


def test_file_beats_defaults_environment_beats_file_overrides_beat_all(tmp_path):
    config = write_config(
        tmp_path,
        'login_max_failures = 7\nsession_idle_minutes = 10\ntotp_issuer = "From file"\n',
    )
    environ = {"TRYGG_CONFIG": config, "TRYGG_SESSION_IDLE_MINUTES": "20"}
    values = settings.load(environ=environ, overrides={"totp_issuer": "Override"})
    assert values["login_max_failures"] == 7  # file over default
    assert values["session_idle_minutes"] == 20  # environment over file
    assert values["totp_issuer"] == "Override"  # explicit override over everything
    assert values["login_window_minutes"] == 15  # untouched default


def test_database_url_is_read_without_the_prefix_too():
    values = settings.load(environ={"DATABASE_URL": "postgresql+psycopg://db/x"})
    assert values["database_url"] == "postgresql+psycopg://db/x"
    both = settings.load(
        environ={"DATABASE_URL": "postgresql+psycopg://db/x", "TRYGG_DATABASE_URL": "sqlite://"}
    )
    assert both["database_url"] == "sqlite://"


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("TRYGG_SECURE_COOKIES", "true", True),
        ("TRYGG_SECURE_COOKIES", "On", True),
        ("TRYGG_SECURE_COOKIES", "0", False),
        ("TRYGG_SECURE_COOKIES", "", False),
        ("TRYGG_LOGIN_MAX_FAILURES", "9", 9),
        ("TRYGG_MAX_CONTENT_LENGTH", "1_000", 1000),
        ("TRYGG_TWO_FACTOR_ROLES", "admin, handler", [Role.ADMIN, Role.HANDLER]),
        ("TRYGG_TWO_FACTOR_ROLES", "", []),
        ("TRYGG_TOTP_ISSUER", "Kommune", "Kommune"),
    ],
)
def test_environment_strings_take_the_type_of_the_default(name, raw, expected):
    values = settings.load(environ={name: raw})
    key = name.removeprefix("TRYGG_").lower()
    assert values[key] == expected
    assert type(values[key]) is type(expected)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("TRYGG_SECURE_COOKIES", "maybe"),
        ("TRYGG_LOGIN_MAX_FAILURES", "five"),
        ("TRYGG_PROXY_HOPS", "1.5"),
    ],
)
def test_malformed_environment_value_names_the_variable(name, raw):
    with pytest.raises(ConfigError, match=name):
        settings.load(environ={name: raw})


@pytest.mark.parametrize(
    "line",
    [
        'login_max_failures = "five"',
        "login_max_failures = 2.5",
        "secure_cookies = 1",
        "session_idle_minutes = true",
        'two_factor_roles = "admin"',
        "totp_issuer = 3",
    ],
)
def test_wrongly_typed_value_in_the_file_names_the_setting(tmp_path, line):
    config = write_config(tmp_path, line + "\n")
    name = line.split(" ")[0]
    with pytest.raises(ConfigError, match=name):
        settings.load(environ={"TRYGG_CONFIG": config})


def test_unknown_key_in_the_file_is_refused(tmp_path):
    config = write_config(tmp_path, 'env = "testing"\nsecret_kee = "typo"\n')
    with pytest.raises(ConfigError, match="secret_kee"):
        settings.load(environ={"TRYGG_CONFIG": config})


def test_config_file_that_is_missing_or_not_toml_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a readable file"):
        settings.load(environ={"TRYGG_CONFIG": str(tmp_path / "nope.toml")})
    broken = write_config(tmp_path, "env = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        settings.load(environ={"TRYGG_CONFIG": broken})


@pytest.fixture
def production_keyring(tmp_path):
    path = tmp_path / "keys" / "keyring.json"
    crypto.create_keyring_file(path)
    return path


def production_values(**environ: str) -> dict:
    values = settings.load(environ={"TRYGG_ENV": "production", **environ})
    settings.resolve_dev_secrets(values)
    return values


def test_production_without_secret_key_is_refused(production_keyring):
    values = production_values(TRYGG_KEYRING_PATH=str(production_keyring))
    with pytest.raises(ConfigError, match="TRYGG_SECRET_KEY"):
        settings.validate(values)


def test_production_without_keyring_is_refused():
    values = production_values(TRYGG_SECRET_KEY=LONG_SECRET)
    with pytest.raises(ConfigError, match="TRYGG_KEYRING_PATH"):
        settings.validate(values)


def test_production_with_missing_keyring_file_is_refused(tmp_path):
    values = production_values(
        TRYGG_SECRET_KEY=LONG_SECRET, TRYGG_KEYRING_PATH=str(tmp_path / "gone.json")
    )
    with pytest.raises(ConfigError, match=r"TRYGG_KEYRING_PATH names .*gone\.json"):
        settings.validate(values)


def test_production_never_falls_back_to_the_development_secrets(tmp_path):
    (tmp_path / "secret_key").write_text(LONG_SECRET)
    crypto.create_keyring_file(tmp_path / "keyring.json")
    values = production_values(TRYGG_INSTANCE_PATH=str(tmp_path))
    assert values["secret_key"] == ""
    assert values["keyring_path"] == ""
    with pytest.raises(ConfigError, match="TRYGG_SECRET_KEY"):
        settings.validate(values)


def test_production_with_a_short_secret_key_is_refused(production_keyring):
    values = production_values(TRYGG_SECRET_KEY="short", TRYGG_KEYRING_PATH=str(production_keyring))
    with pytest.raises(ConfigError, match="too short"):
        settings.validate(values)


def test_complete_production_settings_pass(production_keyring):
    values = production_values(
        TRYGG_SECRET_KEY=LONG_SECRET,
        TRYGG_KEYRING_PATH=str(production_keyring),
        TRYGG_BASE_URL="https://trygg.example.org",
    )
    settings.validate(values)


def test_production_without_the_public_address_is_refused(production_keyring):
    values = production_values(
        TRYGG_SECRET_KEY=LONG_SECRET, TRYGG_KEYRING_PATH=str(production_keyring)
    )
    with pytest.raises(ConfigError, match="TRYGG_BASE_URL"):
        settings.validate(values)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TRYGG_ENV": "staging"}, "TRYGG_ENV"),
        ({"TRYGG_DEFAULT_LOCALE": "sv"}, "TRYGG_DEFAULT_LOCALE"),
        ({"TRYGG_TWO_FACTOR_ROLES": "admin,wizard"}, "wizard"),
        ({"TRYGG_SESSION_IDLE_MINUTES": "0"}, "TRYGG_SESSION_IDLE_MINUTES"),
        ({"TRYGG_LOGIN_MAX_FAILURES": "-1"}, "TRYGG_LOGIN_MAX_FAILURES"),
        ({"TRYGG_ANONYMOUS_SESSION_MINUTES": "0"}, "TRYGG_ANONYMOUS_SESSION_MINUTES"),
        ({"TRYGG_ANONYMOUS_SESSION_MINUTES": "1441"}, "TRYGG_ANONYMOUS_SESSION_MINUTES"),
        ({"TRYGG_SMTP_SECURITY": "tls"}, "TRYGG_SMTP_SECURITY"),
        ({"TRYGG_SMTP_PORT": "70000"}, "TRYGG_SMTP_PORT"),
        ({"TRYGG_BASE_URL": "trygg.example.org"}, "TRYGG_BASE_URL"),
        ({"TRYGG_SCHEDULER_INTERVAL_SECONDS": "0"}, "TRYGG_SCHEDULER_INTERVAL_SECONDS"),
        ({"TRYGG_OUTBOX_MAX_ATTEMPTS": "0"}, "TRYGG_OUTBOX_MAX_ATTEMPTS"),
        ({"TRYGG_SMTP_PASSWORD_FILE": "/nonexistent/pw"}, "TRYGG_SMTP_PASSWORD_FILE"),
        (
            {"TRYGG_SMTP_PASSWORD": "x", "TRYGG_SMTP_PASSWORD_FILE": "/etc/hostname"},
            "not both",
        ),
    ],
)
def test_invalid_values_are_refused_naming_the_setting(production_keyring, environ, named):
    values = settings.load(
        environ={
            "TRYGG_SECRET_KEY": LONG_SECRET,
            "TRYGG_KEYRING_PATH": str(production_keyring),
            **environ,
        }
    )
    with pytest.raises(ConfigError, match=named):
        settings.validate(values)


def run_trygg(tmp_path: Path, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """The real console script, in an empty directory, with only the given settings."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **environ}
    return subprocess.run(
        [str(TRYGG_SCRIPT), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "configuration error: production needs a secret key: set TRYGG_SECRET_KEY"),
        (
            {"TRYGG_SECRET_KEY": LONG_SECRET},
            "configuration error: production needs a keyring: set TRYGG_KEYRING_PATH",
        ),
        (
            {"TRYGG_SECRET_KEY": LONG_SECRET, "TRYGG_KEYRING_PATH": "/nonexistent/keyring.json"},
            "configuration error: TRYGG_KEYRING_PATH names /nonexistent/keyring.json, "
            "which does not exist",
        ),
    ],
)
def test_console_script_refuses_to_start_in_production_with_one_line(tmp_path, environ, message):
    result = run_trygg(tmp_path, "audit", "verify", TRYGG_ENV="production", **environ)
    assert result.returncode != 0
    assert result.stderr.strip() == message
    assert "Traceback" not in result.stderr + result.stdout


def run_in_process(*args: str, **environ: str):
    """The console script's command group in this process: same code, no start-up cost."""
    clean = {key: None for key in os.environ if key.startswith("TRYGG_") or key == "DATABASE_URL"}
    return CliRunner().invoke(cli.cli, list(args), env={**clean, **environ})


def test_console_script_names_a_keyring_file_that_is_not_a_keyring(tmp_path):
    bad = tmp_path / "keyring.json"
    bad.write_text("not json")
    bad.chmod(0o600)
    result = run_in_process(
        "audit",
        "verify",
        TRYGG_ENV="production",
        TRYGG_SECRET_KEY=LONG_SECRET,
        TRYGG_KEYRING_PATH=str(bad),
        TRYGG_BASE_URL="https://trygg.example.org",
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"configuration error: TRYGG_KEYRING_PATH: keyring file {bad} is not a valid keyring"
    )


def test_console_script_names_a_wrongly_typed_setting_in_the_file(tmp_path):
    config = write_config(tmp_path, 'env = "production"\nlogin_max_failures = "five"\n')
    result = run_in_process("audit", "verify", TRYGG_CONFIG=config)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"configuration error: login_max_failures in {config} must be a whole number, not 'five'"
    )
