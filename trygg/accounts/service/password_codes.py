"""Set-password codes and resets by someone else: an admin never chooses a password.

Creating a user or resetting a password issues a one-time code instead, shown once to
whoever issued it, to be handed to the user. With the code and their e-mail address the
user chooses their own password (/account/set-password). A code works once, expires
after `password_code_hours`, and a new one replaces the old. Issuing one ends the
user's sessions and their old password.

Two-factor authentication stays as it was: whoever holds a code (the admin did) still
needs the user's authenticator to log in as them. Checking a code counts towards the
account's login limit, under the same lock (login.py).

An account that reads case content (handler, safety representative) is never given a
code its administrator sees: resetting its password or its two-factor is a full reset
(`reset_case_reader`) — password and authenticator both gone, sessions ended — and the
code goes by e-mail to the account's own address (signals.password_code_mailed: the
notifications package writes a row that is always e-mailed; the code waits sealed
under the user's own key until it is used, and is read only when the e-mail is
composed). The owner then chooses a password and sets up two-factor again before they
see any case. The admin cannot change the address (the user form does not take it).
The same goes for an account that is shown details of a case without reading cases
(`users.reset_by_mail`: the responsible person of a follow-up task, who sees the case's
reference and perhaps the exposed employee's name on "My tasks").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from trygg import audit, crypto, keys, sealing, signals, typed_codes
from trygg.accounts.errors import LoginFailed
from trygg.accounts.models import PasswordCode, User
from trygg.accounts.service import sessions
from trygg.accounts.service.login import begin_attempt, clear_failures, record_failure
from trygg.accounts.service.passwords import check_password_rules, hash_password, setting
from trygg.accounts.service.user_keys import user_key
from trygg.accounts.service.users import find_user, reset_by_mail, reset_by_other
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l

CODE_LENGTH = 16  # 16 × 5 bits = 80 bits; guesses are held to the login limit


class CodeExpired(LoginFailed):
    """The code was right, but too old: ask for a new one."""

    message = _l("The code has expired. Ask an administrator for a new one.")


@dataclass(frozen=True)
class IssuedCode:
    # Formatted in groups of four; shown once, never stored. None: it went by e-mail to
    # `mailed_to`, the user's own address (an account that reads case content).
    code: str | None
    expires_at: datetime
    mailed_to: str | None = None


def _hash(user: User, code: str) -> str:
    # Bound to the user: a code issued for one account opens no other.
    return crypto.keyed_hash(keys.keyring().derive("password-code"), f"{user.id}:{code}")


def _store(user: User, actor: str) -> tuple[str, PasswordCode]:
    code = typed_codes.new_code(CODE_LENGTH)
    row = db.session.get(PasswordCode, user.id)
    if row is None:
        row = PasswordCode(user_id=user.id)
        db.session.add(row)
    row.code_hash = _hash(user, code)
    row.issued_by = actor
    row.expires_at = utcnow() + timedelta(hours=setting("password_code_hours"))
    row.mail_sealed = None
    user.password_hash = None
    return code, row


def issue(user: User, *, actor: str, show: bool = False) -> IssuedCode:
    """Issue a new code for `user` (replacing any earlier one); their password and
    sessions end. For an account that reads case content this is `reset_case_reader`
    (the code is e-mailed, never shown), unless `show` (a new account made on the
    server's command line, which has no case yet)."""
    if reset_by_mail(user) and not show:
        return reset_case_reader(
            user, actor=actor, action="user.password_code", change="password.reset"
        )
    code, row = _store(user, actor)
    reset_by_other(user, actor=actor, action="user.password_code", change="password.reset")
    return IssuedCode(typed_codes.format_code(code), row.expires_at)


def clear_two_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_pending = None
    user.totp_enabled = False
    user.totp_last_step = None


def reset_case_reader(user: User, *, actor: str, action: str, change: str) -> IssuedCode:
    """A full reset of an account that reads case content: its password and its
    authenticator go, its sessions end, and a set-password code goes by e-mail to its
    own address (nobody else sees it). An access change, told to its groups' handlers."""
    code, row = _store(user, actor)
    row.mail_sealed = sealing.seal(
        user_key(user), row, "code", typed_codes.format_code(code), row=row.user_id
    )
    clear_two_factor(user)
    reset_by_other(user, actor=actor, action=action, change=change, detail={"full": True})
    signals.password_code_mailed.send(user)
    return IssuedCode(None, row.expires_at, mailed_to=user.email)


def code_for_mail(user_id: int) -> str | None:
    """The code waiting to be e-mailed to the user (None: used, replaced or expired)."""
    row = db.session.get(PasswordCode, user_id)
    user = db.session.get(User, user_id)
    if row is None or user is None or row.mail_sealed is None or row.expires_at <= utcnow():
        return None
    return sealing.open_text(user_key(user), row, "code", row.mail_sealed, row=row.user_id)


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


def reset_two_factor(user: User, *, actor: str) -> IssuedCode | None:
    """Remove a user's TOTP (lost phone); they must enrol again at next login.

    The password stays: whoever resets two-factor still needs it to log in, and an
    admin never knows it (they issue set-password codes, which keep two-factor). For
    a user who reads case content it is a full reset (`reset_case_reader`): the
    password goes too, and the code to choose a new one goes to their own address.
    """
    if reset_by_mail(user):
        return reset_case_reader(
            user, actor=actor, action="user.totp_reset", change="two_factor.reset"
        )
    clear_two_factor(user)
    reset_by_other(user, actor=actor, action="user.totp_reset", change="two_factor.reset")
    return None
