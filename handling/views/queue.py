"""The handler's (and safety representative's) queue of cases."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    render_template,
    request,
)
from marshmallow import ValidationError

from handling import schemas, service
from handling.models import Case
from handling.presenters import DeadlineLine, _errors_of, deadline_line
from handling.views.base import Page, _user, bp
from reporting.models import Report
from trygg import org
from trygg.accounts.models import Role
from trygg.extensions import utcnow
from trygg.security import allow

# -- the queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: Case
    report: Report
    unit: str
    deadline: DeadlineLine | None
    overdue: int


@bp.get("/cases")
@allow(Role.HANDLER, Role.SAFETY_REP)
def queue() -> Page:
    """The caller's cases, nearest open deadline first, with filters and overdue counts."""
    raw = {
        name: value
        for name in service.QUEUE_FILTERS
        if (value := request.args.get(name, "").strip())
    }
    errors: dict[str, list[str]] = {}
    try:
        filters = schemas.QueueFilterSchema().load(raw)
    except ValidationError as exc:
        errors = _errors_of(exc)
        filters = schemas.QueueFilterSchema().load({})
    now = utcnow()
    result = service.queue_for(_user(), filters, now=now)
    units = {u.id: u.name for u in org.all_units()}
    rows = [
        QueueRow(
            case=item.case,
            report=item.case.report,
            unit=units.get(item.case.report.unit_id or 0, ""),
            deadline=deadline_line(item.next_deadline, now) if item.next_deadline else None,
            overdue=item.overdue_deadlines,
        )
        for item in result.items
    ]
    html = render_template(
        "handling/queue.html",
        queue=result,
        rows=rows,
        filters=raw,
        errors=errors,
        nodes=org.tree(),
        filtered=bool(raw),
    )
    return (html, 400) if errors else html
