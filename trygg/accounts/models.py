"""Users, their roles and unit memberships, and failed-login counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trygg.extensions import UTCDateTime, db, utcnow
from trygg.org import Unit

# Defined in trygg.roles (the kernel's settings check them too); re-exported here.
from trygg.roles import CASE_READING_ROLES as CASE_READING_ROLES
from trygg.roles import ROLE_LABELS as ROLE_LABELS
from trygg.roles import ROLES as ROLES
from trygg.roles import Role as Role


class User(db.Model):  # type: ignore[name-defined]
    __tablename__ = "user_account"
    # The admin user list pages by name.
    __table_args__ = (Index("ix_user_account_name", "name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the login session id: bumping it ends every session of this user.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The user's own data key (wrapped by the keyring) seals the TOTP secret.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_pending: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last accepted TOTP time step: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # The interface language the user chose ("nb", "en"); None: the installation's
    # default. It follows the account to every browser (trygg/web.py select_locale).
    locale: Mapped[str | None] = mapped_column(String(8))

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )
    memberships: Mapped[list[Membership]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def units(self) -> list[Unit]:
        return [m.unit for m in self.memberships]

    @property
    def managed_units(self) -> list[Unit]:
        return [m.unit for m in self.memberships if m.is_manager]

    @property
    def represented_units(self) -> list[Unit]:
        """The units this user is safety representative for (verneombud)."""
        return [m.unit for m in self.memberships if m.is_safety_rep]


class UserRole(db.Model):  # type: ignore[name-defined]
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Membership(db.Model):  # type: ignore[name-defined]
    """A user belongs to a unit; a manager member is the line manager of its members, a
    safety representative member represents its members (verneområde)."""

    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    is_safety_rep: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    unit: Mapped[Unit] = relationship(lazy="joined")


class LoginFailure(db.Model):  # type: ignore[name-defined]
    """One failed login, keyed by a hash of the account name typed.

    Counted in the database so the limit holds across processes and hosts.
    """

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class LoginSession(db.Model):  # type: ignore[name-defined]
    """A logged-in browser, so that logging out ends the session on the server.

    `id` is a hash of the random token kept in the browser's (signed) session cookie;
    each request's user is loaded only together with its row, in the same query, and
    logging out deletes the row, so a copy of the cookie no longer works. Rows older
    than the session lifetime are deleted as new ones are made.
    """

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PasswordCode(db.Model):  # type: ignore[name-defined]
    """A one-time code with which a user chooses their own password (one per user).

    Issued by an admin or the command line instead of a password: nobody but the user
    ever knows it. Stored as a keyed hash bound to the user; it expires, and using it
    deletes it.
    """

    __tablename__ = "password_code"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A case reader's code waits here, sealed under their own key, for the e-mail to
    # their own address (the admin who reset them never sees it); gone once used.
    mail_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class SignIn(db.Model):  # type: ignore[name-defined]
    """The sign-in log: each login, wrong password and wrong code at a known account.

    Kept apart from the audit chain on purpose: a login entry in the chain right before
    a confidential report's submission would tell who sent it. Rows older than
    `sign_in_log_days` are deleted as new ones are written. The user sees their own
    recent sign-ins on their account page.
    """

    __tablename__ = "sign_in"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
