"""Reporting's domain errors: a refused report, a report that is not there (for the caller)."""

from __future__ import annotations


class ReportError(Exception):
    """A report was refused; `field` names the input to fix, the message says how."""

    def __init__(self, message: object, field: str = "_request", status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class ReportNotFound(Exception):
    """No such report, or not one the caller may see (the two are not distinguished)."""
