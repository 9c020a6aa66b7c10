"""TOTP two-factor: enrolment, checking codes (each works once) and resets.

The secret is sealed under the user's own data key (wrapped by the keyring), with
associated data naming the table, column and row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from flask import current_app

from trygg import audit, crypto, sealing
from trygg.accounts.errors import AccountError
from trygg.accounts.models import User
from trygg.accounts.service.user_keys import user_key
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l


def two_factor_required(user: User) -> bool:
    """Whether the user's roles oblige them to use TOTP."""
    return user.has_role(*current_app.config["TRYGG"]["two_factor_roles"])


def _seal(user: User, column: str, value: str) -> bytes:
    return sealing.seal(user_key(user), user, column, value)


def _open(user: User, column: str, blob: bytes) -> str:
    return sealing.open_text(user_key(user), user, column, blob)


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
    issuer = str(current_app.config["TRYGG"]["totp_issuer"])
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    import segno  # only here: a web worker rarely draws a QR code (issue 17, memory)

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
