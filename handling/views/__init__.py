"""Case handling's pages: the handler's queue and case page, the reporter's view of their
case, and the admin's handler groups, routing rules and deadline policies.

Views are thin: form → schema → service → 303 redirect with a confirmation, or the same
page again with 400 and the messages next to the fields (typed values kept). A page that
shows case content opens it through the service, which audits every opening; when a
refused form shows the case page again, that reading is committed on its own, because
the request's 4xx answer rolls everything else back. A case the user may not see
answers 404, never 403, so its existence is not revealed.

The pages live in one module per audience, all on one blueprint ("handling"), so the
endpoint names are those of the functions: queue.py (the handler's queue), case.py (the
handler's case page and its steps), reporter.py (the reporter's view of their case),
admin.py (groups, rules, policies), tasks.py (a responsible person's "My tasks"). What
they share is in base.py and inputs.py, and how a case is shown in handling/presenters.py.
"""

from __future__ import annotations

from flask import Flask

# The page modules add their routes to the blueprint when imported.
from handling.views import admin, case, queue, reporter, tasks  # noqa: F401
from handling.views.base import bp
from trygg.accounts.models import Role
from trygg.i18n import lazy_gettext as _l
from trygg.web import register_home_panel, register_landing, register_nav

__all__ = ["bp", "register"]


def register(app: Flask) -> None:
    """Register the pages and their menu entries (called from handling/setup.py)."""
    app.register_blueprint(bp)
    # The queue is the primary action of those who have one, before reporting's (20).
    register_nav("handling.queue", _l("Cases"), Role.HANDLER, Role.SAFETY_REP, primary=10)
    # Leaders are the usual responsible people; anyone responsible finds the page from
    # the start page's "My tasks" section and the due-soon e-mail.
    register_nav("handling.my_tasks", _l("My tasks"), Role.MANAGER, badge=tasks.open_tasks_badge)
    # A manager's open tasks come first on the start page, before their units' trends.
    register_home_panel("handling/_my_tasks_panel.html", tasks.open_tasks_panel, order=10)
    register_home_panel(
        "handling/_shared_cases_panel.html", tasks.shared_cases_panel, Role.SAFETY_REP, order=20
    )
    # A handler's working day starts in the queue.
    register_landing("handling.queue", Role.HANDLER)
    register_nav("handling.admin_groups", _l("Handler groups"), Role.ADMIN, menu="admin")
    register_nav("handling.admin_rules", _l("Routing rules"), Role.ADMIN, menu="admin")
    register_nav("handling.admin_policies", _l("Deadline policies"), Role.ADMIN, menu="admin")
