"""The warning before deletion: the case's handlers hear of it once, in their digest."""

from __future__ import annotations

from datetime import datetime

from handling.models import Case
from handling.service import eligible_handler_ids
from notifications.kinds import Kind
from notifications.service import Event, notify_many
from retention.codes import WARNING_DAYS
from retention.service.deletion import due_items
from trygg.extensions import db, utcnow


def warn_upcoming(now: datetime | None = None) -> int:
    """A notification per case entering its last 30 days, to its assigned handler (or
    all its eligible handlers); each goes in the recipient's daily digest by default,
    so a day's deletions make one e-mail. Returns the rows written (once per case)."""
    now = now or utcnow()
    events: list[Event] = []
    for item in due_items(now, within_days=WARNING_DAYS):
        if item.case_id is None or item.held:
            continue
        case = db.session.get(Case, item.case_id)
        if case is None:
            continue
        eligible = eligible_handler_ids(case.group, case)
        who = [case.assigned_user_id] if case.assigned_user_id in eligible else eligible
        events.append(
            Event(
                Kind.RETENTION_WARNING,
                who,
                f"case:{case.id}:retention:{item.due_at.date().isoformat()}",
                f"/cases/{case.id}",
                f"case:{case.id}",
                eligible,
            )
        )
    return notify_many(events, now=now)
