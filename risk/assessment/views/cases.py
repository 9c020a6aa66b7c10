"""The handler's case page section "Risk items" (registered with trygg.web, so handling
never imports risk): during the learning review a case handler links the case to a
risk item of an assessment covering its unit, or undoes a link made by mistake.

The forms post here and come back to the case page; they work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from risk.assessment import links
from risk.assessment.access import AssessmentError, NotFound
from risk.assessment.views.common import bp, user
from trygg import audit
from trygg.accounts.models import Role
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import allow
from trygg.validation import small_int

Page = tuple[str, int] | BaseResponse


@dataclass(frozen=True)
class Panel:
    case_id: int
    choices: list[links.Choice]

    @property
    def linked(self) -> list[links.Choice]:
        return [c for c in self.choices if c.linked]

    @property
    def options(self) -> list[tuple[str, str]]:
        """The items not linked yet, for the form's list: "assessment:ref", words."""
        return [
            (f"{c.assessment_id}:{c.ref}", f"{c.title}: R{c.ref} {c.hazard}")
            for c in self.choices
            if not c.linked
        ]


def case_panel(case_id: int) -> Panel | None:
    """The section's content, or None (no section) when no assessment covers the case's
    unit or the user may not handle the case."""
    try:
        found = links.choices(user(), case_id)
    except NotFound:
        return None
    return Panel(case_id, found) if found else None


def _choice() -> tuple[int, int] | None:
    """The item chosen in the form, as "assessment:ref"."""
    raw = request.form.get("item", "")
    parts = raw.split(":")
    if len(parts) != 2:
        return None
    assessment, ref = (small_int(p, -1) for p in parts)
    return None if assessment < 0 or ref < 0 else (assessment, ref)


def _refused(exc: AssessmentError, case_id: int) -> tuple[str, int]:
    if isinstance(exc, NotFound):
        # Nothing was written but an excluded handler's attempt, which must stay.
        audit.keep_audited()
        abort(404)
    db.session.rollback()
    page = render_template(
        "risk/assessment/case_link_refused.html",
        case_id=case_id,
        message=str(exc),
        code=exc.status,
    )
    return page, exc.status


def _back(case_id: int) -> BaseResponse:
    return redirect(url_for("handling.case", case_id=case_id, _anchor="h-risk-items"))


def _change_link(case_id: int, change: Callable[..., Any], done: str) -> Page:
    """Link or unlink the chosen item; a refusal shows the case page's section again."""
    chosen = _choice()
    try:
        if chosen is None:
            raise AssessmentError(links.CHOOSE, "item_ref")
        change(user(), case_id, *chosen)
    except AssessmentError as exc:
        return _refused(exc, case_id)
    flash(done, "success#h-risk-items")  # under the section's heading, where _back lands
    return _back(case_id)


@bp.post("/cases/<id:case_id>/risk-links")
@allow(Role.HANDLER)
def link_case(case_id: int) -> Page:
    """Link the case to the chosen risk item (audited; the item shows only a count)."""
    return _change_link(case_id, links.link, _("The case is linked to the risk item."))


@bp.post("/cases/<id:case_id>/risk-links/remove")
@allow(Role.HANDLER)
def unlink_case(case_id: int) -> Page:
    """Undo the case's link to a risk item (audited)."""
    return _change_link(case_id, links.unlink, _("The link to the risk item is removed."))
