"""Login sessions kept on the server: logging out ends them, also for a copied cookie.

The browser's session cookie (signed by Flask) holds the user id with its session
version (Flask-Login) and a random token; the server keeps a hash of the token in a
`login_session` row. Each request loads its user only together with that row, in one
query, so deleting the row (logging out) ends the session wherever its cookie went,
and bumping the session version (password change, log out everywhere) ends them all.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import joinedload

from trygg.accounts.models import LoginSession, User
from trygg.accounts.service.passwords import setting
from trygg.extensions import db, utcnow


def _row_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(user: User) -> str:
    """Record a new session of `user`; return its token for the browser's cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(id=_row_id(token), user_id=user.id))
    # Sessions past their lifetime can never be used again; drop them as we go.
    horizon = utcnow() - timedelta(hours=setting("session_lifetime_hours"))
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < horizon))
    db.session.flush()
    return token


def end(token: str | None) -> None:
    """End one session (logging out); a missing or unknown token is fine."""
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.id == _row_id(token)))


def end_all(user: User) -> None:
    """End every session of `user`: their rows go, and their cookies' session version."""
    user.session_version += 1
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def _parse(user_session_id: str) -> tuple[int, int] | None:
    try:
        user_part, version_part = user_session_id.split(".", 1)
        return int(user_part), int(version_part)
    except ValueError:
        return None


# The session loader's one query, built once: it runs on every authenticated request.
# Roles and units come in the same query, not three round trips (the units also spare
# a look-up later: a report is usually about the reporter's own unit), and so does the
# session's row: no row, no user.
_SESSION_USER = (
    select(User)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(User.id == bindparam("user_id"), LoginSession.id == bindparam("session_row"))
    .options(joinedload(User.role_rows), joinedload(User.memberships))
)
_USER = select(User).where(User.id == bindparam("user_id"))


def _current(user: User | None, version: int) -> User | None:
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def load_session_user(user_session_id: str, token: str | None) -> User | None:
    """Flask-Login's loader: the user of a live session, or None.

    `user_session_id` carries the session version, so sessions from before a password
    change fail; `token` must name a session that has not been ended.
    """
    parsed = _parse(user_session_id)
    if parsed is None or not token:
        return None
    user_id, version = parsed
    params = {"user_id": user_id, "session_row": _row_id(token)}
    return _current(db.session.scalars(_SESSION_USER, params).unique().one_or_none(), version)


def load_pending_user(user_session_id: str) -> User | None:
    """The user between the password and the code step (no session exists yet)."""
    parsed = _parse(user_session_id)
    if parsed is None:
        return None
    user_id, version = parsed
    return _current(db.session.scalars(_USER, {"user_id": user_id}).one_or_none(), version)
