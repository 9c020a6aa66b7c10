"""Case operations: opening, routing, conflict of interest, deadlines, workflow steps,
follow-up, debriefing, § 5-2, messages, access and the admin's routing and policies.

Services take plain data and domain objects, return domain objects, raise the domain
errors in handling/errors.py, add and flush; the caller (request, CLI) commits once.
They never touch `request`, `flash` or redirects.

Time: deadlines are computed in Europe/Oslo and stored in UTC (see `add_duration`).

The operations live in one module per sub-domain; this package re-exports the public
names, so callers write `from handling import service` and `service.open_case(...)`.

  base         the clock, sealing a case's fields, row ids, events and audit entries
  deadlines    deadline arithmetic, policies, a case's deadline rows
  routing      routing rules, fallback group, conflicts of interest, exclusions
  opening      opening a case for a new report (the signal receiver)
  access       who may see a case and at which level (the handler's rule itself is
               one SQL predicate in handling/access.py, shared with the queue)
  grants       access to existing cases, given by those who have it; break-glass
  reading      a case's sealed content opened for reading (audited), history
  queue        the handler's queue, the safety representative's list
  transitions  the workflow table (next states, guard, effect), transitions, track
  assignment   assigning (by name, or passed on to one chosen) and recusal
  followup     follow-up tasks, debriefing, § 5-2
  mytasks      a responsible person's own tasks ("My tasks"), marking one done
  messages     messages and internal notes
  reporter     the reporter's side, named and anonymous
  admin        handler groups, routing rules, deadline policies
"""

from __future__ import annotations

from handling.errors import (
    CaseClosed,
    CaseError,
    CaseNotFound,
    GuardFailed,
    TransitionForbidden,
)
from handling.service.access import (
    access_level,
    can_access,
    case_for,
    get_case,
    group_ids_of,
    visible_cases,
)
from handling.service.admin import (
    RoutingWarning,
    active_cases_by_group,
    create_rule,
    delete_rule,
    handler_groups,
    replace_policies,
    routing_rules,
    routing_warnings,
    save_group,
)
from handling.service.assignment import (
    assign,
    assignable,
    choose_group,
    excluded_count,
    get_group,
    may_pass_on,
    pass_on,
    recuse,
    take,
)
from handling.service.base import (
    DUE_SOON,
    OSLO,
    TEXT_MAX,
    oslo_day,
)
from handling.service.consent import (
    ConsentChange,
    consent_allows,
    consents_by_case,
    identity_consents,
    identity_protected,
    pending_requests,
    request_identity_consent,
    set_identity_consents,
)
from handling.service.deadlines import (
    DEFAULT_POLICIES,
    TASK_MEETS,
    PolicyLike,
    add_duration,
    deadline_status,
    deadlines_due,
    next_open_deadline,
    policies,
    recompute_deadlines,
    refresh_next_due,
)
from handling.service.followup import (
    SECTION52_FIELDS,
    TASK_FIELDS,
    add_task,
    get_task,
    record_debriefing,
    update_section52,
    update_task,
)
from handling.service.grants import (
    BREAK_GLASS_REASON_MAX,
    break_glass,
    grant_access,
    grant_candidates,
    grant_row,
    is_group_lead,
    may_grant,
    names_handler,
)
from handling.service.messages import (
    MessageView,
    messages_for,
    post_message,
    public_message_id,
    record_read,
)
from handling.service.mytasks import (
    CONTACT_TEMPLATES,
    DONE_NOTE_MAX,
    OPEN_MAX,
    MyTask,
    holds_tasks,
    mark_task_done,
    my_tasks,
    open_task_count,
)
from handling.service.opening import (
    case_for_report,
    cases_for_reports,
    on_report_submitted,
    open_case,
)
from handling.service.queue import (
    QUEUE_FILTERS,
    Queue,
    QueueItem,
    default_state,
    queue_for,
)
from handling.service.reading import (
    AccessDay,
    AccessRecord,
    CaseContent,
    DebriefingView,
    TaskView,
    access_days,
    access_history,
    debriefing_view,
    events,
    open_case_content,
    task_view,
)
from handling.service.reporter import (
    ANONYMOUS_ACTOR,
    ReporterView,
    add_anonymous_information,
    anonymous_view,
    has_revealed_identity,
    news_read,
    post_anonymous_message,
    post_reporter_message,
    reporter_case,
    reporter_view,
    reports_with_news,
)
from handling.service.responsible import PICKER_LIMIT, QUERY_MAX, Candidate
from handling.service.responsible import chooses as chooses_responsible
from handling.service.responsible import search as search_responsible
from handling.service.responsible import suggestions as responsible_suggestions
from handling.service.routing import (
    conflicts,
    default_track,
    eligible_handler_ids,
    eligible_handlers,
    fallback_group,
    route,
)
from handling.service.transitions import (
    WORKFLOW,
    allowed_next,
    case_facts,
    change_track,
    offered_next,
    transition,
)

__all__ = [
    "WORKFLOW",
    "allowed_next",
    "offered_next",
    "CONTACT_TEMPLATES",
    "DONE_NOTE_MAX",
    "OPEN_MAX",
    "MyTask",
    "holds_tasks",
    "mark_task_done",
    "my_tasks",
    "open_task_count",
    "CaseClosed",
    "CaseError",
    "CaseNotFound",
    "GuardFailed",
    "TransitionForbidden",
    "ANONYMOUS_ACTOR",
    "AccessDay",
    "AccessRecord",
    "Candidate",
    "PICKER_LIMIT",
    "QUERY_MAX",
    "access_days",
    "search_responsible",
    "chooses_responsible",
    "responsible_suggestions",
    "BREAK_GLASS_REASON_MAX",
    "break_glass",
    "grant_access",
    "grant_candidates",
    "grant_row",
    "is_group_lead",
    "may_grant",
    "public_message_id",
    "record_read",
    "CaseContent",
    "DEFAULT_POLICIES",
    "DUE_SOON",
    "DebriefingView",
    "MessageView",
    "OSLO",
    "PolicyLike",
    "QUEUE_FILTERS",
    "Queue",
    "QueueItem",
    "ReporterView",
    "RoutingWarning",
    "SECTION52_FIELDS",
    "TASK_FIELDS",
    "TASK_MEETS",
    "TEXT_MAX",
    "TaskView",
    "access_history",
    "access_level",
    "add_anonymous_information",
    "add_duration",
    "add_task",
    "anonymous_view",
    "assign",
    "assignable",
    "excluded_count",
    "may_pass_on",
    "pass_on",
    "names_handler",
    "take",
    "can_access",
    "case_facts",
    "case_for",
    "case_for_report",
    "cases_for_reports",
    "change_track",
    "choose_group",
    "conflicts",
    "create_rule",
    "deadline_status",
    "deadlines_due",
    "debriefing_view",
    "default_track",
    "delete_rule",
    "eligible_handler_ids",
    "eligible_handlers",
    "events",
    "fallback_group",
    "get_case",
    "get_group",
    "get_task",
    "group_ids_of",
    "handler_groups",
    "has_revealed_identity",
    "identity_consents",
    "identity_protected",
    "consent_allows",
    "consents_by_case",
    "set_identity_consents",
    "pending_requests",
    "request_identity_consent",
    "ConsentChange",
    "messages_for",
    "next_open_deadline",
    "on_report_submitted",
    "open_case",
    "open_case_content",
    "oslo_day",
    "policies",
    "post_anonymous_message",
    "post_message",
    "post_reporter_message",
    "queue_for",
    "default_state",
    "refresh_next_due",
    "visible_cases",
    "recompute_deadlines",
    "record_debriefing",
    "recuse",
    "replace_policies",
    "reporter_case",
    "news_read",
    "reports_with_news",
    "reporter_view",
    "route",
    "routing_rules",
    "routing_warnings",
    "active_cases_by_group",
    "save_group",
    "task_view",
    "transition",
    "update_section52",
    "update_task",
]
