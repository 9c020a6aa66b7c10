"""The roles a user may hold: the one place their codes are written.

Roles are stored as their value (`user_role.role`); `Role` is a `StrEnum`, so a member
is the plain string wherever a string is expected (the database, JSON, templates).
"""

from __future__ import annotations

from enum import StrEnum

from trygg.i18n import lazy_gettext as _l


class Role(StrEnum):
    EMPLOYEE = "employee"
    HANDLER = "handler"
    MANAGER = "manager"
    SAFETY_REP = "safety_rep"
    # The working environment committee (arbeidsmiljøutvalget): statistics for everyone.
    AMU = "amu"
    ADMIN = "admin"


ROLES = tuple(r.value for r in Role)

# Roles that can read case content. No account holds one of them together with the
# admin role: administering Trygg never gives access to cases (separation of duties).
CASE_READING_ROLES = frozenset({Role.HANDLER, Role.SAFETY_REP})

ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.HANDLER: _l("Case handler"),
    Role.MANAGER: _l("Manager"),
    Role.SAFETY_REP: _l("Safety representative"),
    Role.AMU: _l("Working environment committee (AMU)"),
    Role.ADMIN: _l("Administrator"),
}
