"""What case handling tells whom, through notifications: one call per event, and the
scheduler's jobs for deadlines and follow-up tasks (registered in handling/setup.py).
Nothing here puts content into a notification.

One module per sub-domain; this package re-exports the names callers use, so they write
`from handling import notices` and `notices.case_opened(...)`.

  recipients      who hears of a case: its eligible handlers, its escalation contacts
  case_events     the one call per case event (opened, routed, assigned, § 5-2, news)
  jobs            the tick's jobs: deadline reminders and escalations, follow-up tasks,
                  and which waiting e-mails are settled
  access_changes  who hears that access was widened
"""

from __future__ import annotations

from handling.notices.access_changes import access_change_recipients, access_changed
from handling.notices.case_events import (
    assigned,
    case_opened,
    handler_read_case,
    news_keys,
    reporter_asked_consent,
    reporter_has_news,
    reporter_read_news,
    reporter_unread_news,
    reporter_wrote,
    routed,
    section_5_2_flagged,
    task_given,
)
from handling.notices.jobs import TASK_DUE_SOON, deadlines_job, settled, tasks_job
from handling.notices.recipients import (
    eligible_by_case,
    escalation_by_group,
    exclusions_by_case,
)

__all__ = [
    "TASK_DUE_SOON",
    "access_change_recipients",
    "access_changed",
    "assigned",
    "case_opened",
    "deadlines_job",
    "eligible_by_case",
    "handler_read_case",
    "escalation_by_group",
    "exclusions_by_case",
    "reporter_asked_consent",
    "reporter_has_news",
    "news_keys",
    "reporter_read_news",
    "reporter_unread_news",
    "task_given",
    "reporter_wrote",
    "routed",
    "section_5_2_flagged",
    "settled",
    "tasks_job",
]
