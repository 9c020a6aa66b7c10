"""Settings: config/defaults.toml, then the TRYGG_CONFIG file, then TRYGG_* environment.

Every key of defaults.toml is a setting; its type there is the type it must have. The
environment wins over the file, the file over the defaults. `validate()` fails fast with
one line naming what is wrong, so a misconfigured production host refuses to start.
"""

from __future__ import annotations

import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trygg.roles import ROLES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = PROJECT_ROOT / "config" / "defaults.toml"
ENV_PREFIX = "TRYGG_"
ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def load_defaults() -> dict[str, Any]:
    """The defaults, read from config/defaults.toml."""
    with DEFAULTS_FILE.open("rb") as fh:
        return tomllib.load(fh)


def _coerce(name: str, raw: str, like: Any) -> Any:
    """Turn an environment string into the type the default has."""
    if isinstance(like, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be true or false, not {raw!r}")
    if isinstance(like, int):
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be a whole number") from None
    if isinstance(like, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _check_type(name: str, value: Any, like: Any, path: Path) -> None:
    """A value from the file must have the type of its default (bool is not a number)."""
    if isinstance(like, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(like, int):
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif isinstance(like, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        kind = "a list of strings"
    else:
        ok, kind = isinstance(value, str), "a string"
    if not ok:
        raise ConfigError(f"{name} in {path} must be {kind}, not {value!r}")


def load(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge defaults, the TRYGG_CONFIG file, the environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    values = load_defaults()
    known = set(values)
    config_file = environ.get("TRYGG_CONFIG")
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"TRYGG_CONFIG names {path}, which is not a readable file")
        try:
            with path.open("rb") as fh:
                from_file = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"TRYGG_CONFIG file {path} is not valid TOML: {exc}") from None
        unknown = sorted(set(from_file) - known)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r} in {path}")
        for key, value in from_file.items():
            _check_type(key, value, values[key], path)
        values.update(from_file)
    if environ.get("DATABASE_URL"):
        values["database_url"] = environ["DATABASE_URL"]
    for key in known:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            values[key] = _coerce(key, environ[env_name], values[key])
    if overrides:
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}")
        values.update(overrides)
    return values


def validate(values: dict[str, Any]) -> None:
    """Fail fast, naming the first setting that is missing or wrong."""
    env = values["env"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"TRYGG_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    if not values["secret_key"]:
        if env == "production":
            raise ConfigError("production needs a secret key: set TRYGG_SECRET_KEY")
        raise ConfigError("no secret key: set TRYGG_SECRET_KEY, or run `make run` once")
    if not values["keyring_path"]:
        if env == "production":
            raise ConfigError("production needs a keyring: set TRYGG_KEYRING_PATH")
        raise ConfigError("no keyring: set TRYGG_KEYRING_PATH, or run `make run` once")
    if not Path(values["keyring_path"]).is_file():
        raise ConfigError(
            f"TRYGG_KEYRING_PATH names {values['keyring_path']}, which does not exist"
        )
    if env == "production":
        _check_private(Path(values["keyring_path"]))
    if env == "production" and len(values["secret_key"]) < 32:
        raise ConfigError("TRYGG_SECRET_KEY is too short: use at least 32 characters")
    if values["trends_k"] < 3:
        raise ConfigError("TRYGG_TRENDS_K must be at least 3: smaller counts identify people")
    if not 1 <= values["trends_max_months"] <= 120:
        raise ConfigError("TRYGG_TRENDS_MAX_MONTHS must be from 1 to 120")
    if not 0 <= values["risk_trend_rise_percent"] <= 1000:
        raise ConfigError("TRYGG_RISK_TREND_RISE_PERCENT must be from 0 to 1000")
    if values["default_locale"] not in ("nb", "en"):
        raise ConfigError("TRYGG_DEFAULT_LOCALE must be nb or en")
    unknown_roles = set(values["two_factor_roles"]) - set(ROLES)
    if unknown_roles:
        raise ConfigError(
            f"TRYGG_TWO_FACTOR_ROLES names an unknown role: {sorted(unknown_roles)[0]}"
        )
    for key in (
        "session_idle_minutes",
        "session_lifetime_hours",
        "login_max_failures",
        "password_code_hours",
        "sign_in_log_days",
        "anonymous_idle_minutes",
        "anonymous_session_minutes",
        "anonymous_submissions_per_hour",
        "receipt_failures_per_hour",
        "receipt_flood_failures_per_hour",
    ):
        if values[key] <= 0:
            raise ConfigError(f"TRYGG_{key.upper()} must be positive")
    if values["anonymous_session_minutes"] > 24 * 60:
        raise ConfigError("TRYGG_ANONYMOUS_SESSION_MINUTES can be at most 1440 (a day)")
    if values["small_unit_headcount"] < 0:
        raise ConfigError("TRYGG_SMALL_UNIT_HEADCOUNT cannot be negative")
    _validate_mail(values)


SMTP_SECURITY = ("starttls", "ssl", "none")


def _validate_mail(values: dict[str, Any]) -> None:
    """The notification settings: SMTP, the public address and the tick."""
    base_url = values["base_url"]
    if not base_url and values["env"] == "production":
        raise ConfigError("production needs the public address: set TRYGG_BASE_URL")
    if base_url and not base_url.startswith(("https://", "http://")):
        raise ConfigError("TRYGG_BASE_URL must start with https:// (or http://)")
    if values["smtp_security"] not in SMTP_SECURITY:
        raise ConfigError("TRYGG_SMTP_SECURITY must be starttls, ssl or none")
    if values["smtp_password"] and values["smtp_password_file"]:
        raise ConfigError("set TRYGG_SMTP_PASSWORD or TRYGG_SMTP_PASSWORD_FILE, not both")
    password_file = values["smtp_password_file"]
    if password_file and not Path(password_file).is_file():
        raise ConfigError(f"TRYGG_SMTP_PASSWORD_FILE names {password_file}, which does not exist")
    if not 0 < values["smtp_port"] < 65536:
        raise ConfigError("TRYGG_SMTP_PORT must be a port number (1-65535)")
    for key in ("smtp_timeout_seconds", "scheduler_interval_seconds", "outbox_max_attempts"):
        if values[key] <= 0:
            raise ConfigError(f"TRYGG_{key.upper()} must be positive")


def base_url(values: Mapping[str, Any]) -> str:
    """Where users reach Trygg (no trailing slash); the development server outside production."""
    return str(values["base_url"] or "http://127.0.0.1:5000").rstrip("/")


def _check_private(keyring: Path) -> None:
    """The keyring unlocks every report: no one but its owner may read or change it."""
    mode = stat.S_IMODE(keyring.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"the keyring file {keyring} is open to other users than its owner "
            f"(mode {mode:o}): chmod 600 {keyring}"
        )


def instance_path(values: Mapping[str, Any]) -> Path:
    """Where instance files live."""
    return Path(values["instance_path"] or PROJECT_ROOT / "instance").resolve()


def resolve_dev_secrets(values: dict[str, Any]) -> None:
    """Outside production, fall back to the secret key and keyring under instance/.

    Only reads: `python -m trygg.devsetup` (run by `make run`/`make test`) creates them.
    Production never falls back; validate() demands explicit settings there.
    """
    if values["env"] == "production":
        return
    folder = instance_path(values)
    if not values["secret_key"] and (folder / "secret_key").is_file():
        values["secret_key"] = (folder / "secret_key").read_text().strip()
    if not values["keyring_path"] and (folder / "keyring.json").is_file():
        values["keyring_path"] = str(folder / "keyring.json")


def ensure_dev_secrets(values: dict[str, Any]) -> list[Path]:
    """Create instance/secret_key and instance/keyring.json (mode 0600) if missing.

    The instance folder is made (or narrowed to) mode 0700, and an existing development
    database in it to 0600 (a new one is created 0600 when first opened: see
    trygg.database). Returns the files created. Used by `python -m trygg.devsetup`,
    never by the app.
    """
    # Imported here: settings must stay importable for tooling that only reads config.
    from trygg import crypto

    folder = instance_path(values)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    database = folder / "trygg.db"
    if not values["database_url"] and database.exists():
        database.chmod(stat.S_IMODE(database.stat().st_mode) & 0o700)
    created: list[Path] = []
    key_file = folder / "secret_key"
    if not key_file.exists():
        _write_private(key_file, secrets.token_urlsafe(48))
        created.append(key_file)
    keyring_file = folder / "keyring.json"
    if not keyring_file.exists():
        crypto.create_keyring_file(keyring_file)
        created.append(keyring_file)
    return created


def _write_private(path: Path, text: str) -> None:
    """Create a file readable only by its owner (mode 0600) with the given text."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")


def database_url(values: Mapping[str, Any]) -> str:
    """The SQLAlchemy URL: the setting, or SQLite under instance/."""
    return values["database_url"] or f"sqlite:///{instance_path(values) / 'trygg.db'}"
