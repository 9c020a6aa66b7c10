"""Handling's domain errors: what a case operation raises when it refuses.

Views and the API turn them into responses (400/409 with the messages per field, 404).
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString


class CaseError(Exception):
    """A case operation was refused; `errors` maps input fields to messages for the user."""

    status = 400

    def __init__(
        self, message: LazyString | str | None = None, field: str = "_request", **extra: Any
    ) -> None:
        self.errors: dict[str, list[LazyString | str]] = {}
        if message is not None:
            self.errors[field] = [message]
        super().__init__(str(message) if message is not None else "")

    def add(self, field: str, message: LazyString | str) -> None:
        self.errors.setdefault(field, []).append(message)

    def messages(self) -> dict[str, list[str]]:
        """The errors as plain strings in the current language."""
        return {key: [str(m) for m in msgs] for key, msgs in self.errors.items()}


class TransitionForbidden(CaseError):
    """The transition table does not allow this step from the case's state."""

    status = 409


class GuardFailed(CaseError):
    """The step is allowed, but something it needs is missing."""


class CaseClosed(CaseError):
    """The case is closed or dropped; reopen it first."""

    status = 409


class CaseNotFound(Exception):
    """No such case, or not one the caller may see (the two are not distinguished)."""
