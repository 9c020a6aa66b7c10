"""The sign-in log: logins and failed attempts, outside the audit chain.

The audit chain records every change and every read of case content in one sequence.
A confidential reporter's submission is in it too, under "reporter", not their id. Had
their login been written to the same sequence just before it, the pair would name
them. Routine sign-ins therefore go here instead: a plain table, kept
`sign_in_log_days`, shown to each user for their own account. Changes to accounts
(password, two-factor, roles) stay in the chain.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from trygg.accounts.models import SignIn, User
from trygg.accounts.service.passwords import setting
from trygg.extensions import db, utcnow

LOGIN = "login"
FAILED = "login.failed"  # a wrong password
FAILED_CODE = "login.failed_code"  # a wrong code from the authenticator app


def record(user: User, kind: str) -> None:
    """Log one sign-in event of `user` (in the caller's transaction)."""
    db.session.add(SignIn(user_id=user.id, kind=kind))
    horizon = utcnow() - timedelta(days=setting("sign_in_log_days"))
    db.session.execute(delete(SignIn).where(SignIn.at < horizon))


def recent(user: User, limit: int = 10) -> list[SignIn]:
    """The user's newest sign-in events, newest first."""
    return list(
        db.session.scalars(
            select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.id.desc()).limit(limit)
        )
    )
