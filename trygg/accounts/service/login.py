"""Logging in: the password, then the second factor, within a per-account limit.

Failed attempts are counted in the database per account (under a hash of the address
typed, so unknown addresses are counted too), so the limit holds across processes and
hosts. Each attempt locks its account's counter before reading it and holds the lock
until the caller commits (trygg.database.lock_until_commit): attempts at one account are
checked one after the other, so a limit of five means five checks however many arrive
at once. Attempts at other accounts do not wait.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from trygg.accounts.errors import LoginFailed, SecondFactorNeeded, Throttled
from trygg.accounts.models import LoginFailure, User
from trygg.accounts.service import sign_ins
from trygg.accounts.service.passwords import (
    dummy_verify,
    password_matches,
    rehash_if_needed,
    setting,
)
from trygg.accounts.service.two_factor import verify_totp
from trygg.accounts.service.users import find_user, normalise_email
from trygg.database import lock_until_commit
from trygg.extensions import db, utcnow


def _account_key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def throttle_wait(email: str, now: datetime | None = None) -> int:
    """Seconds the account must wait before another attempt (0: may try now)."""
    now = now or utcnow()
    window = timedelta(minutes=setting("login_window_minutes"))
    limit = setting("login_max_failures")
    recent = list(
        db.session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.account_key == _account_key(email), LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        )
    )
    if len(recent) < limit:
        return 0
    free_at = recent[-1] + window
    return max(1, int((free_at - now).total_seconds()) + 1)


def begin_attempt(email: str) -> None:
    """Lock the account's counter for this transaction; Throttled if it is at the limit."""
    lock_until_commit("login", _account_key(email))
    wait = throttle_wait(email)
    if wait:
        raise Throttled(wait)


def record_failure(email: str) -> None:
    db.session.add(LoginFailure(account_key=_account_key(email)))
    # Old rows are of no use to the counter; trim them as we go.
    horizon = utcnow() - timedelta(days=1)
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < horizon))
    db.session.flush()


def authenticate(email: str, password: str, otp: str | None = None) -> User:
    """Check a login.

    Raises Throttled before checking anything when the account has too many recent
    failures; LoginFailed (recording the failure) for any wrong part; SecondFactorNeeded
    when the password is right and a TOTP code is due but not given.
    The caller must commit even on failure, so the counter persists (and soon: the
    account's counter stays locked until then).
    """
    begin_attempt(email)
    if len(password) > setting("password_max_length"):
        record_failure(email)
        raise LoginFailed()
    user = find_user(email, fresh=True)
    if user is None or not user.password_hash:
        dummy_verify(password)
        record_failure(email)
        raise LoginFailed()
    if not password_matches(user.password_hash, password):
        record_failure(email)
        sign_ins.record(user, sign_ins.FAILED)
        raise LoginFailed()
    if not user.active:
        record_failure(email)
        raise LoginFailed()
    if user.totp_enabled:
        if not otp:
            raise SecondFactorNeeded(user)
        if not verify_totp(user, otp):
            record_failure(email)
            sign_ins.record(user, sign_ins.FAILED_CODE)
            raise LoginFailed()
    fresh_hash = rehash_if_needed(user.password_hash, password)
    if fresh_hash is not None:
        user.password_hash = fresh_hash
    complete_login(user)
    return user


def clear_failures(email: str) -> None:
    """Forget the account's failed attempts (after a success)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.account_key == _account_key(email)))


def complete_login(user: User) -> None:
    """Clear the failure counter and log the login (in the sign-in log, not the chain)."""
    clear_failures(user.email)
    user.last_login_at = utcnow()
    sign_ins.record(user, sign_ins.LOGIN)


def check_second_factor(user: User, otp: str) -> None:
    """The second step of a web login; LoginFailed or Throttled as for authenticate()."""
    begin_attempt(user.email)
    # Read again under the lock: the last accepted code step may have moved since the
    # user was loaded, and a code must work once, however many browsers send it at once.
    db.session.refresh(user)
    if not verify_totp(user, otp):
        record_failure(user.email)
        sign_ins.record(user, sign_ins.FAILED_CODE)
        raise LoginFailed()
    complete_login(user)
