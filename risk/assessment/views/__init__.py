"""The assessment pages, by audience: the leader's and readers' pages (pages.py), the
action plan (plan.py), employees' summaries and the admin's matrix (others.py), and
the section on the handler's case page for linking a case to a risk item (cases.py)."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_date

from risk.assessment.access import READER_ROLES
from risk.assessment.views import cases, others, pages, plan  # noqa: F401 - routes on bp
from risk.assessment.views.common import bp
from trygg.accounts.models import Role
from trygg.i18n import lazy_gettext as _l
from trygg.web import register_case_panel, register_home_panel, register_nav


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.filters["format_date"] = format_date
    register_nav("risk_assessment.overview", _l("Risk assessments"), *READER_ROLES)
    register_nav("risk_assessment.matrix_admin", _l("Risk matrix"), Role.ADMIN, menu="admin")
    register_home_panel("risk/assessment/_summaries.html", others.home_summaries)
    register_case_panel("risk/assessment/_case_panel.html", cases.case_panel, Role.HANDLER)
