"""The handler's (and safety representative's) queue of cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from handling import schemas, service
from handling.errors import CaseError
from handling.models import Case
from handling.presenters import DeadlineLine, _errors_of, deadline_line
from handling.views.base import Page, _user, bp
from reporting.models import Report
from trygg import org
from trygg.accounts.models import Role
from trygg.extensions import db, utcnow
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.security import allow

# -- the queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: Case
    report: Report
    unit: str
    deadline: DeadlineLine | None
    overdue: int
    unread: int
    assignee: str | None
    incident_types: list[str]


# The queue's columns in order: (sort name, heading).
COLUMNS = (
    ("reference", _l("Reference")),
    ("type", _l("Type of incident")),
    ("unit", _l("Unit")),
    ("state", _l("State")),
    ("severity", _l("How serious")),
    ("occurred", _l("Incident month")),
    ("deadline", _l("Nearest deadline")),
    ("assignee", _l("Case handler")),
    ("unread", _l("Unread messages")),
    ("reporter", _l("Reporter")),
)
QUERY_ARGS = (*service.QUEUE_FILTERS, "q", "sort", "limit", "after")


@bp.get("/cases")
@allow(Role.HANDLER, Role.SAFETY_REP)
def queue() -> Page:
    """The caller's cases: searched, filtered and sorted by the query string (so a view
    can be bookmarked), a page at a time, with the counts over their active cases."""
    raw = {name: value for name in QUERY_ARGS if (value := request.args.get(name, "").strip())}
    errors: dict[str, list[str]] = {}
    try:
        filters = schemas.QueueFilterSchema().load(raw)
    except ValidationError as exc:
        errors = _errors_of(exc)
        filters = schemas.QueueFilterSchema().load({})
    now = utcnow()
    limit, after = filters.pop("limit"), filters.pop("after")
    sort, q = filters.pop("sort"), filters.pop("q")
    user = _user()
    default_state = service.default_state(user)
    if "state" not in raw or "state" in errors:
        filters["state"] = default_state
    result = service.queue_for(user, filters, now=now, limit=limit, after=after, sort=sort, q=q)
    nodes = org.tree()
    units = {n.unit.id: n.unit.name for n in nodes}
    rows = [
        QueueRow(
            case=item.case,
            report=item.case.report,
            unit=units.get(item.case.report.unit_id or 0, ""),
            deadline=deadline_line(item.next_deadline, now) if item.next_deadline else None,
            overdue=item.overdue_deadlines,
            unread=item.unread,
            assignee=item.assignee,
            incident_types=item.incident_types,
        )
        for item in result.items
    ]
    shown = {k: v for k, v in raw.items() if k not in errors}
    html = render_template(
        "handling/queue.html",
        queue=result,
        rows=rows,
        filters=shown,
        errors=errors,
        nodes=nodes,
        filter_names=service.QUEUE_FILTERS,
        sort=sort if "sort" not in errors else "deadline",
        headings=_headings(shown, sort),
        here=_queue_url({k: v for k, v in shown.items() if k != "after"}),
        may_take=user.has_role(Role.HANDLER),
        default_state=default_state,
        filtered=bool(set(shown) & {*service.QUEUE_FILTERS, "q"}),
        next_page=_next_page(shown, result.next_cursor),
        first_page=_queue_url({k: v for k, v in shown.items() if k != "after"})
        if "after" in shown
        else None,
    )
    return (html, 400) if errors else html


@dataclass(frozen=True)
class Heading:
    name: str
    text: Any
    url: str
    # "ascending", "descending" or None: the page's order (aria-sort).
    order: str | None


def _headings(raw: Mapping[str, str], sort: str) -> list[Heading]:
    """Each column's heading links to the list sorted by it (the current one reversed);
    the filters and search stay, the page starts again."""
    kept = {k: v for k, v in raw.items() if k not in ("sort", "after")}
    out = []
    for name, text in COLUMNS:
        order = None
        target = name
        if sort.removeprefix("-") == name:
            order = "descending" if sort.startswith("-") else "ascending"
            target = name if order == "descending" else f"-{name}"
        out.append(Heading(name, text, _queue_url({**kept, "sort": target}), order))
    return out


@bp.post("/cases/<id:case_id>/take")
@allow(Role.HANDLER)
def take(case_id: int) -> Response:
    """ "Take this case": a handler of the case's group becomes its case handler."""
    user = _user()
    try:
        case = service.case_for(user, case_id, lock=True)
        service.take(case, user)
    except CaseError as exc:
        db.session.rollback()
        flash(" ".join(str(m) for ms in exc.errors.values() for m in ms), "error")
    else:
        flash(_("You are now the case handler of %(ref)s.", ref=case.report.reference), "success")
    back = request.form.get("back", "")
    if not _is_queue_link(back):
        back = url_for(".case", case_id=case_id)
    return redirect(back, 303)


def _is_queue_link(target: str) -> bool:
    """Only back to the queue on this site (no other host, no other page)."""
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and parts.path == url_for(".queue")


def _next_page(raw: Mapping[str, str], cursor: str | None) -> str | None:
    """The link to the page after this one: the same filters and size, and the cursor."""
    if cursor is None:
        return None
    return _queue_url({**raw, "after": cursor})


def _queue_url(args: Mapping[str, Any]) -> str:
    return url_for("handling.queue", **args)
