"""Erasing a user's personal data: the account is anonymised, every package forgets its
own rows about the person, and cases stay intact with the user's id ("former employee")."""

from __future__ import annotations

from handling.erasure import forget_handler
from notifications.service import forget_user
from reporting.erasure import pseudonymise_user
from trygg.accounts.models import User
from trygg.accounts.names import FORMER_EMPLOYEE
from trygg.accounts.service import erase_user


class CannotEraseSelf(Exception):
    """An admin cannot erase their own account."""


def erase_person(user: User, *, actor: str, actor_id: int | None = None) -> None:
    """Erase an account's personal data everywhere; audited ("user.erase")."""
    if actor_id is not None and actor_id == user.id:
        raise CannotEraseSelf()
    forget_user(user.id)
    forget_handler(user.id)
    pseudonymise_user(user.id, FORMER_EMPLOYEE)
    erase_user(user, actor=actor)
