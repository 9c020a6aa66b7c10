"""What case handling tells whom, through notifications (being split by sub-domain)."""

from __future__ import annotations

from handling.notices.jobs import (
    TASK_DUE_SOON,
    access_change_recipients,
    access_changed,
    assigned,
    case_opened,
    deadlines_job,
    eligible_by_case,
    escalation_by_group,
    exclusions_by_case,
    reporter_has_news,
    reporter_wrote,
    routed,
    section_5_2_flagged,
    settled,
    tasks_job,
)

__all__ = [
    "TASK_DUE_SOON",
    "access_change_recipients",
    "access_changed",
    "assigned",
    "case_opened",
    "deadlines_job",
    "eligible_by_case",
    "escalation_by_group",
    "exclusions_by_case",
    "reporter_has_news",
    "reporter_wrote",
    "routed",
    "section_5_2_flagged",
    "settled",
    "tasks_job",
]
