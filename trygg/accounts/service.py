"""Account operations: users, passwords, logins, throttling and two-factor.

Used by the login pages, the JSON API, the admin pages and the CLI alike. Operations
take plain data, raise domain exceptions, add and flush; the caller commits.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import joinedload

from trygg import audit, crypto, keys
from trygg.accounts.models import ROLES, LoginFailure, Membership, User, UserRole
from trygg.extensions import db, utcnow
from trygg.org import Unit

keys.register_wrapped_key_column(User.wrapped_key)


class AccountError(Exception):
    """An account operation was refused; the message is for the user."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LoginFailed(Exception):
    """Wrong e-mail, password or code. Deliberately says no more than that."""


class Throttled(Exception):
    """Too many failed attempts; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class SecondFactorNeeded(Exception):
    """Password accepted; a TOTP code is needed to finish logging in."""

    def __init__(self, user: User) -> None:
        super().__init__(user.id)
        self.user = user


def _cfg(key: str) -> object:
    return current_app.config["TRYGG"][key]


def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=int(_cfg("argon2_time_cost")),  # type: ignore[call-overload]
        memory_cost=int(_cfg("argon2_memory_kib")),  # type: ignore[call-overload]
        parallelism=int(_cfg("argon2_parallelism")),  # type: ignore[call-overload]
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    """Length limits; over-long passwords are refused before hashing."""
    low, high = int(_cfg("password_min_length")), int(_cfg("password_max_length"))  # type: ignore[call-overload]
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
    return _hasher().hash(password)


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.name)))


# The session loader's one query, built once: it runs on every authenticated request.
# Roles and units come in the same query, not three round trips (the units also spare
# a look-up later: a report is usually about the reporter's own unit).
_SESSION_USER = (
    select(User)
    .where(User.id == bindparam("user_id"))
    .options(joinedload(User.role_rows), joinedload(User.memberships))
)


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions fail."""
    try:
        user_part, version_part = session_id.split(".", 1)
        user_id, version = int(user_part), int(version_part)
    except ValueError:
        return None
    user = db.session.scalars(_SESSION_USER, {"user_id": user_id}).unique().one_or_none()
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise AccountError(_l("This field is required."), field="name")
    return name


def _set_roles(user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    unknown = wanted - set(ROLES)
    if unknown:
        raise AccountError(_l("Unknown role: %(role)s", role=sorted(unknown)[0]), field="roles")
    if not wanted:
        raise AccountError(_l("Choose at least one role."), field="roles")
    user.role_rows = [UserRole(role=r) for r in sorted(wanted)]


def _set_units(
    user: User,
    units: Iterable[Unit],
    managed: Iterable[Unit] = (),
    represented: Iterable[Unit] = (),
) -> None:
    managed, represented = list(managed), list(represented)
    managed_ids = {u.id for u in managed}
    rep_ids = {u.id for u in represented}
    all_units = {u.id: u for u in [*units, *managed, *represented]}
    user.memberships = [
        Membership(
            unit_id=uid, unit=unit, is_manager=uid in managed_ids, is_safety_rep=uid in rep_ids
        )
        for uid, unit in sorted(all_units.items())
    ]


def create_user(
    *,
    email: str,
    name: str,
    roles: Iterable[str],
    units: Iterable[Unit] = (),
    managed_units: Iterable[Unit] = (),
    represented_units: Iterable[Unit] = (),
    password: str | None = None,
    actor: str = "system",
) -> User:
    """Create a user; AccountError if the e-mail is taken or a value is invalid."""
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError(_l("A user with this e-mail address already exists."), field="email")
    user = User(email=email, name=_check_name(name), active=True, session_version=1)
    _set_roles(user, roles)
    _set_units(user, units, managed_units, represented_units)
    if password is not None:
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        actor=actor,
        object_type="user",
        object_id=user.id,
        detail={"roles": sorted(user.roles), "units": sorted(m.unit_id for m in user.memberships)},
    )
    return user


def update_user(
    user: User,
    *,
    name: str,
    roles: Iterable[str],
    units: Iterable[Unit],
    managed_units: Iterable[Unit] = (),
    represented_units: Iterable[Unit] = (),
    active: bool,
    actor: str,
) -> User:
    """Change a user's name, roles, units and active flag."""
    before_roles = sorted(user.roles)
    user.name = _check_name(name)
    _set_roles(user, roles)
    _set_units(user, units, managed_units, represented_units)
    if user.active and not active:
        user.session_version += 1
    user.active = active
    db.session.flush()
    audit.record(
        "user.update",
        actor=actor,
        object_type="user",
        object_id=user.id,
        detail={
            "roles_before": before_roles,
            "roles": sorted(user.roles),
            "units": sorted(m.unit_id for m in user.memberships),
            "active": active,
        },
    )
    return user


def deactivate_user(user: User, *, actor: str) -> None:
    """Deactivate a user and end all their sessions."""
    user.active = False
    user.session_version += 1
    db.session.flush()
    audit.record("user.deactivate", actor=actor, object_type="user", object_id=user.id)


def set_password(user: User, password: str, *, actor: str) -> None:
    """Set a new password; every existing session of the user ends."""
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.flush()
    audit.record("user.password", actor=actor, object_type="user", object_id=user.id)


def end_all_sessions(user: User, *, actor: str) -> None:
    """Log the user out everywhere."""
    user.session_version += 1
    db.session.flush()
    audit.record("user.logout_everywhere", actor=actor, object_type="user", object_id=user.id)


# -- throttling -------------------------------------------------------------------------


def _account_key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def throttle_wait(email: str, now: datetime | None = None) -> int:
    """Seconds the account must wait before another attempt (0: may try now)."""
    now = now or utcnow()
    window = timedelta(minutes=int(_cfg("login_window_minutes")))  # type: ignore[call-overload]
    limit = int(_cfg("login_max_failures"))  # type: ignore[call-overload]
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


def _record_failure(email: str) -> None:
    db.session.add(LoginFailure(account_key=_account_key(email)))
    # Old rows are of no use to the counter; trim them as we go.
    horizon = utcnow() - timedelta(days=1)
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < horizon))
    db.session.flush()


def failure_count(email: str) -> int:
    window = timedelta(minutes=int(_cfg("login_window_minutes")))  # type: ignore[call-overload]
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(
                LoginFailure.account_key == _account_key(email),
                LoginFailure.at > utcnow() - window,
            )
        )
        or 0
    )


# A real hash of a random password: checking against it when the account does not exist
# makes unknown e-mails cost the same time as wrong passwords.
_DUMMY_HASH: dict[str, str] = {}


def _dummy_verify(password: str) -> None:
    hasher = _hasher()
    key = f"{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash("not-a-real-password-" + key)
    with contextlib.suppress(VerificationError):
        hasher.verify(_DUMMY_HASH[key], password)


def authenticate(email: str, password: str, otp: str | None = None) -> User:
    """Check a login.

    Raises Throttled before checking anything when the account has too many recent
    failures; LoginFailed (recording the failure) for any wrong part; SecondFactorNeeded
    when the password is right and a TOTP code is due but not given.
    The caller must commit even on failure, so the counter persists.
    """
    wait = throttle_wait(email)
    if wait:
        raise Throttled(wait)
    if len(password) > int(_cfg("password_max_length")):  # type: ignore[call-overload]
        _record_failure(email)
        raise LoginFailed()
    user = find_user(email)
    if user is None or not user.password_hash:
        _dummy_verify(password)
        _record_failure(email)
        raise LoginFailed()
    try:
        _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _record_failure(email)
        audit.record("login.failed", actor="anonymous", object_type="user", object_id=user.id)
        raise LoginFailed() from None
    if not user.active:
        _record_failure(email)
        raise LoginFailed()
    if user.totp_enabled:
        if not otp:
            raise SecondFactorNeeded(user)
        if not verify_totp(user, otp):
            _record_failure(email)
            audit.record(
                "login.failed_otp", actor="anonymous", object_type="user", object_id=user.id
            )
            raise LoginFailed()
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    complete_login(user)
    return user


def complete_login(user: User) -> None:
    """Clear the failure counter and log the login."""
    db.session.execute(
        delete(LoginFailure).where(LoginFailure.account_key == _account_key(user.email))
    )
    user.last_login_at = utcnow()
    audit.record("login", actor=f"user:{user.id}", object_type="user", object_id=user.id)


def check_second_factor(user: User, otp: str) -> None:
    """The second step of a web login; LoginFailed or Throttled as for authenticate()."""
    wait = throttle_wait(user.email)
    if wait:
        raise Throttled(wait)
    if not verify_totp(user, otp):
        _record_failure(user.email)
        audit.record("login.failed_otp", actor="anonymous", object_type="user", object_id=user.id)
        raise LoginFailed()
    complete_login(user)


# -- two-factor -------------------------------------------------------------------------


def two_factor_required(user: User) -> bool:
    """Whether the user's roles oblige them to use TOTP."""
    return user.has_role(*_cfg("two_factor_roles"))  # type: ignore[misc]


def _user_key(user: User) -> crypto.DataKey:
    ring = keys.keyring()
    if user.wrapped_key is None:
        data_key, wrapped = ring.new_data_key()
        user.wrapped_key = wrapped
        return data_key
    return ring.unwrap(user.wrapped_key)


def _seal(user: User, column: str, value: str) -> bytes:
    return _user_key(user).seal(value, table="user_account", column=column, row=user.id)


def _open(user: User, column: str, blob: bytes) -> str:
    return _user_key(user).open_text(blob, table="user_account", column=column, row=user.id)


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def start_enrolment(user: User) -> Enrolment:
    """Create (or show again) a pending TOTP secret, sealed, with its QR code."""
    if user.totp_pending is not None:
        secret = _open(user, "totp_pending", user.totp_pending)
    else:
        secret = pyotp.random_base32()
        user.totp_pending = _seal(user, "totp_pending", secret)
        db.session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=str(_cfg("totp_issuer")))
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(
        scale=5, dark="#000", light="#fff", title=str(_l("QR code for your authenticator app"))
    )
    return Enrolment(secret=secret, uri=uri, qr_svg=svg)


def _accept_code(user: User, secret: str, code: str) -> bool:
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    now = utcnow()
    current_step = totp.timecode(now)
    for offset in (-1, 0, 1):
        step = current_step + offset
        if crypto.constant_time_equals(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # already used: a code works once
            user.totp_last_step = step
            return True
    return False


def confirm_enrolment(user: User, code: str) -> None:
    """Activate the pending secret once the user proves their app shows the right code."""
    if user.totp_pending is None:
        raise AccountError(_l("Start the set-up again."), field="otp")
    secret = _open(user, "totp_pending", user.totp_pending)
    if not _accept_code(user, secret, code):
        raise AccountError(
            _l("That code is not right. Check the time on your phone and try the newest code."),
            field="otp",
        )
    user.totp_secret = _seal(user, "totp_secret", secret)
    user.totp_pending = None
    user.totp_enabled = True
    db.session.flush()
    audit.record(
        "user.totp_enrolled", actor=f"user:{user.id}", object_type="user", object_id=user.id
    )


def verify_totp(user: User, code: str) -> bool:
    """Check a code against the user's active secret; each code works once."""
    if not user.totp_enabled or user.totp_secret is None:
        return False
    try:
        secret = _open(user, "totp_secret", user.totp_secret)
    except crypto.CryptoError:
        current_app.logger.error("TOTP secret of user %s failed to open", user.id)
        return False
    return _accept_code(user, secret, code)


def reset_two_factor(user: User, *, actor: str) -> None:
    """Remove a user's TOTP (lost phone); they must enrol again at next login."""
    user.totp_secret = None
    user.totp_pending = None
    user.totp_enabled = False
    user.totp_last_step = None
    user.session_version += 1
    db.session.flush()
    audit.record("user.totp_reset", actor=actor, object_type="user", object_id=user.id)
