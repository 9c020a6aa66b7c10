"""The one call per case event: opened, routed, assigned, § 5-2, messages, news.

A reporter hears only that there is news, at /my-reports, in a discreet row that does
not tie them to the case. Nothing here puts content into a notification.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from handling.models import Case, FollowUpTask
from handling.notices.jobs import TASK_DUE_SOON
from handling.notices.recipients import (
    _case_handlers,
    _case_link,
    _eligible,
    _escalation_events,
    _split_by_access,
)
from notifications.inbox import mark_read_events, mark_read_leading_to, unread_events
from notifications.kinds import Kind
from notifications.service import Event, already_told, mailed_at_once, notify_many
from reporting import service as reporting
from trygg.accounts.models import User


def case_opened(case: Case, handler_ids: Iterable[int] | None = None) -> None:
    """A new case: its group's eligible handlers; § 5-2 at once to the escalation list.

    `handler_ids`: the eligible handlers when the caller knows them already. For an
    anonymous report both are its reporter's doing, and dated to the day (discreet); a
    handler who flags § 5-2 later (`section_5_2_flagged`) acts at a time of their own.
    """
    eligible = sorted(handler_ids) if handler_ids is not None else _eligible(case)
    discreet = case.report.anonymous
    events = [
        Event(
            Kind.CASE_NEW,
            eligible,
            f"case:{case.id}:new",
            _case_link(case.id),
            f"case:{case.id}",
            eligible,
            discreet,
        )
    ]
    if case.section_5_2:
        events += _escalation_events(
            case, Kind.SECTION_5_2, f"case:{case.id}:s52", eligible, discreet=discreet
        )
    notify_many(events)


def routed(case: Case, now: datetime) -> None:
    """The case moved to another group: its handlers hear of it as of a new case."""
    if case.group_id is None:
        return
    eligible = _eligible(case)
    key = f"case:{case.id}:routed:g{case.group_id}:{int(now.timestamp())}"
    notify_many(
        [Event(Kind.CASE_NEW, eligible, key, _case_link(case.id), f"case:{case.id}", eligible)]
    )


def section_5_2_flagged(case: Case) -> None:
    """The § 5-2 duty applies (at triage or later): the escalation list, at once.

    Once per case and person: flagged again after it was cleared, the duty is the one
    they were told of (the event key is the same, so the row exists). An anonymous
    report flagged as it opened was told in discreet rows, under a hashed key: those
    told so are left out here, or they would hear of it a second time."""
    key = f"case:{case.id}:s52"
    events = _escalation_events(case, Kind.SECTION_5_2, key, _eligible(case))
    if case.report.anonymous:
        told = already_told(key, [u for e in events for u in e.recipients], discreet=True)
        events = [replace(e, recipients=[u for u in e.recipients if u not in told]) for e in events]
    notify_many(events)


def assigned(case: Case, now: datetime) -> None:
    """The case was assigned to someone: tell them (not when they took it themselves)."""
    if case.assigned_user_id is None:
        return
    key = f"case:{case.id}:assigned:u{case.assigned_user_id}:{int(now.timestamp())}"
    eligible = _eligible(case)
    notify_many(
        [
            Event(
                Kind.CASE_ASSIGNED,
                [case.assigned_user_id],
                key,
                _case_link(case.id),
                f"case:{case.id}",
                eligible,
            )
        ]
    )


def task_given(case: Case, task: FollowUpTask, actor_id: int, now: datetime) -> None:
    """Someone else was made responsible for a follow-up task: tell them now, not only
    when it falls due. A leader who does not handle the case is sent to My tasks."""
    person = task.responsible_user_id
    if person is None or person == actor_id:
        return
    key = f"task:{task.id}:given:u{person}:{int(now.timestamp())}"
    eligible = _eligible(case)
    notify_many(
        _split_by_access(
            Kind.TASK_ASSIGNED,
            [person],
            eligible,
            key,
            case.id,
            f"task:{task.id}",
            "/my-tasks",
        )
    )
    # Given when it is due within a day already: this mail, which says where to read what
    # to do and by when, is also the "due soon" reminder, not a second mail a moment
    # later. Not for someone who takes such notices in a digest or not by e-mail, nor
    # where the substitute of someone away (told of both, within the case) does.
    due = task.due_at
    audience = eligible if person in eligible else None
    if (
        due is not None
        and due <= now + TASK_DUE_SOON
        and mailed_at_once(person, Kind.TASK_ASSIGNED, audience)
    ):
        task.soon_notified_for = due


def reporter_wrote(
    case: Case, key: str, also: Iterable[int] = (), section: str | None = None
) -> None:
    """The reporter sent a message or added information: the case's handlers, and
    `also` those of its handlers who are waiting for it (who may still open the case).

    `section`: the part of the case page that shows what the reporter added (a message
    under "h-messages", files under "h-report"), where the notification leads."""
    eligible = _eligible(case)
    told = _case_handlers(case, eligible)
    told = told + sorted(u for u in set(also) if u in eligible and u not in told)
    notify_many(
        [
            Event(
                Kind.CASE_MESSAGE,
                told,
                f"case:{case.id}:{key}",
                _case_link(case.id, section),
                f"case:{case.id}",
                eligible,
                case.report.anonymous,
            )
        ]
    )


def news_keys(
    case_id: int,
    message_ids: Iterable[int],
    closings: Iterable[datetime],
    consent_requests: Iterable[datetime],
) -> list[str]:
    """The event keys `reporter_has_news` was given for one case's news: the handlers'
    messages to the reporter, the feedback of each closing, each consent question."""
    keys = [f"case:{case_id}:message:{m}" for m in message_ids]
    keys += [f"case:{case_id}:feedback:{int(at.timestamp())}" for at in closings]
    keys += [f"case:{case_id}:consent-request:{int(at.timestamp())}" for at in consent_requests]
    return keys


def handler_read_case(case: Case, user: User) -> None:
    """A handler or safety representative opened the case: their notifications that
    lead to it (a new case, a message, a deadline) are read, as a reporter's news is when
    they open their report."""
    mark_read_leading_to(user.id, _case_link(case.id))


def reporter_read_news(user_id: int, keys: Iterable[str]) -> None:
    """The reporter opened their case: its news (`news_keys`) is read, so the start page
    stops saying there is news. Stored hashed: only the reporter's own are found."""
    mark_read_events(user_id, keys, discreet=True)


def reporter_unread_news(user_id: int, keys: Iterable[str]) -> set[str]:
    """Of a reporter's news keys (`news_keys`), those not read yet."""
    return unread_events(user_id, keys, discreet=True)


def reporter_asked_consent(case: Case, at: datetime) -> None:
    """A handler asked the reporter whether they agree to be named: news for them."""
    reporter_has_news(case, f"consent-request:{int(at.timestamp())}")


def reporter_has_news(case: Case, key: str) -> None:
    """A handler's message or the case's feedback: the reporter, if they have an account.

    An anonymous reporter has no address; their follow-up page tells them to come back.
    """
    if case.report.anonymous:
        return
    reporter = reporting.involved_user_ids(case.report)["reporter"]
    if reporter:
        notify_many(
            [
                Event(
                    Kind.REPORT_UPDATE,
                    reporter,
                    f"case:{case.id}:{key}",
                    "/my-reports",
                    None,
                    None,
                    True,
                )
            ]
        )
