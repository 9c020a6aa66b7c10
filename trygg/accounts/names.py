"""A person's name as shown: an erased account's name is a neutral marker, rendered in
the reader's language ("Former employee" / "Tidligere ansatt").

Erasing an account (trygg.accounts.service.users.erase_user) and pseudonymising the
reports that name it (reporting/erasure.py) store FORMER_EMPLOYEE, never English text.
Names stored before the marker existed held the English words; they are shown the same.
"""

from __future__ import annotations

from typing import Any

from trygg.i18n import gettext as _

# Not a name anyone has: names are typed by people, and never start with "@".
FORMER_EMPLOYEE = "@former-employee"
_LEGACY = "Former employee"


def is_former_employee(name: Any) -> bool:
    """Whether `name` is the erased-account marker (or its pre-marker English text)."""
    return name in (FORMER_EMPLOYEE, _LEGACY)


def display_name(name: Any) -> Any:
    """The name to show: the translated "Former employee" for the marker, else as is."""
    if is_former_employee(name):
        return _("Former employee")
    return name
