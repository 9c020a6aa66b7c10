"""Password hashing (argon2id, costs from the settings) and the length rules."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

from trygg.accounts.errors import AccountError
from trygg.i18n import lazy_gettext as _l


def setting(key: str) -> int:
    """A whole-number account setting."""
    return int(current_app.config["TRYGG"][key])


def hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=setting("argon2_time_cost"),
        memory_cost=setting("argon2_memory_kib"),
        parallelism=setting("argon2_parallelism"),
    )


def check_password_rules(password: str) -> None:
    """Length limits (over-long passwords are refused before hashing), and not only
    spaces: twelve spaces are twelve characters, and no password."""
    low, high = setting("password_min_length"), setting("password_max_length")
    if password and not password.strip():
        raise AccountError(
            _l("The password cannot be only spaces. Use words, letters or digits."),
            field="password",
        )
    if len(password) < low:
        raise AccountError(
            _l("The password must be at least %(n)s characters.", n=low), field="password"
        )
    if len(password) > high:
        raise AccountError(
            _l("The password can be at most %(n)s characters.", n=high), field="password"
        )


def hash_password(password: str) -> str:
    check_password_rules(password)
    return hasher().hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether `password` is the one hashed; a damaged hash matches nothing."""
    try:
        return bool(hasher().verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def rehash_if_needed(password_hash: str, password: str) -> str | None:
    """A new hash under today's costs, or None when the stored one is current."""
    if hasher().check_needs_rehash(password_hash):
        return hasher().hash(password)
    return None


# A real hash of a random password: checking against it when the account does not exist
# makes unknown e-mails cost the same time as wrong passwords.
_DUMMY_HASH: dict[str, str] = {}


def dummy_verify(password: str) -> None:
    """Spend the time of one password check, for an account that does not exist."""
    current = hasher()
    key = f"{current.time_cost}:{current.memory_cost}:{current.parallelism}"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = current.hash("not-a-real-password-" + key)
    with contextlib.suppress(VerificationError):
        current.verify(_DUMMY_HASH[key], password)
