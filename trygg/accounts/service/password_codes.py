"""Set-password codes: an admin (or the command line) never chooses a user's password.

Creating a user or resetting a password issues a one-time code instead, shown once to
whoever issued it, to be handed to the user. With the code and their e-mail address the
user chooses their own password (/account/set-password). A code works once, expires
after `password_code_hours`, and a new one replaces the old. Issuing one ends the
user's sessions and their old password.

Two-factor authentication stays as it was: whoever holds a code (the admin did) still
needs the user's authenticator to log in as them. Checking a code counts towards the
account's login limit, under the same lock (login.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from trygg import audit, crypto, keys, typed_codes
from trygg.accounts.errors import LoginFailed
from trygg.accounts.models import PasswordCode, User
from trygg.accounts.service import sessions
from trygg.accounts.service.login import begin_attempt, clear_failures, record_failure
from trygg.accounts.service.passwords import check_password_rules, hash_password, setting
from trygg.accounts.service.users import find_user, reset_by_other
from trygg.extensions import db, utcnow

CODE_LENGTH = 16  # 16 × 5 bits = 80 bits; guesses are held to the login limit


class CodeExpired(LoginFailed):
    """The code was right, but too old: ask for a new one."""

    message = _l("The code has expired. Ask an administrator for a new one.")


@dataclass(frozen=True)
class IssuedCode:
    code: str  # formatted in groups of four; shown once, never stored
    expires_at: datetime


def _hash(user: User, code: str) -> str:
    # Bound to the user: a code issued for one account opens no other.
    return crypto.keyed_hash(keys.keyring().derive("password-code"), f"{user.id}:{code}")


def issue(user: User, *, actor: str) -> IssuedCode:
    """Issue a new code for `user` (replacing any earlier one); their password and
    sessions end. An access change when the user can read case content."""
    code = typed_codes.new_code(CODE_LENGTH)
    expires_at = utcnow() + timedelta(hours=setting("password_code_hours"))
    row = db.session.get(PasswordCode, user.id)
    if row is None:
        row = PasswordCode(user_id=user.id)
        db.session.add(row)
    row.code_hash = _hash(user, code)
    row.issued_by = actor
    row.expires_at = expires_at
    user.password_hash = None
    reset_by_other(user, actor=actor, action="user.password_code", change="password.reset")
    return IssuedCode(typed_codes.format_code(code), expires_at)


def _valid_row(user: User | None, typed: str) -> PasswordCode | None:
    code = typed_codes.normalise_code(typed, CODE_LENGTH)
    row = db.session.get(PasswordCode, user.id) if user is not None else None
    if user is None or row is None or code is None or not user.active:
        return None
    return row if crypto.constant_time_equals(row.code_hash, _hash(user, code)) else None


def redeem(email: str, typed: str, new_password: str) -> User:
    """Set the password of the account `email` with its code; the code is used up.

    Raises AccountError for a password that breaks the rules (the code is kept),
    Throttled while the account is at its login limit, CodeExpired, or LoginFailed
    (counted) for anything else. The caller must commit even on failure.
    """
    begin_attempt(email)
    check_password_rules(new_password)
    user = find_user(email, fresh=True)
    row = _valid_row(user, typed)
    if user is None or row is None:
        record_failure(email)
        raise LoginFailed()
    if row.expires_at <= utcnow():
        raise CodeExpired()
    db.session.delete(row)
    user.password_hash = hash_password(new_password)
    sessions.end_all(user)
    clear_failures(email)
    db.session.flush()
    audit.record(
        "user.password",
        actor=f"user:{user.id}",
        object_type="user",
        object_id=user.id,
        detail={"with": "code"},
    )
    return user
