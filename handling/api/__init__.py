"""Case handling's JSON API under /api/v1, for the same operations as the pages.

One module per audience, all on one blueprint ("api_handling"), so the endpoint names
are those of the functions: case.py (the handler's queue, case and steps), reporter.py
(the reporter's case and messages), admin.py (groups, rules, warnings, policies). What
they share is in base.py, and the dicts they dump in handling/presenters.py.
"""

from __future__ import annotations

# The API modules add their routes to the blueprint when imported.
from handling.api import admin, case, reporter  # noqa: F401
from handling.api.base import bp

__all__ = ["bp"]
