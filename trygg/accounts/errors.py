"""The domain errors of accounts: what the pages, the API and the CLI turn into answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trygg.accounts.models import User


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
