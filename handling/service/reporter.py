"""The reporter's side of a case: named and anonymous."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
)

from handling import notices
from handling.errors import CaseError, CaseNotFound
from handling.models import (
    Case,
    CaseEvent,
    CaseMessage,
)
from handling.service.base import _audit, _event
from handling.service.messages import MessageView, _message_text, messages_for, post_message
from handling.service.opening import case_for_report
from handling.service.reading import _case_text
from handling.states import CaseState, Side
from handling.workflow import PLAIN_STATE
from reporting import anonymous
from reporting import service as reporting
from reporting.codes import REPORTER_ACTOR
from reporting.models import Report
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

# -- the reporter's side ----------------------------------------------------------------


@dataclass
class ReporterView:
    """What the reporter sees of their case: its state in plain words, feedback, messages."""

    report: Report
    case: Case
    state: str
    state_text: str
    status: str
    feedback: str | None
    messages: list[MessageView]


def reporter_case(report: Report) -> Case:
    case = case_for_report(report)
    if case is None:
        raise CaseNotFound()
    return case


def reporter_view(report: Report, *, actor: str, case: Case | None = None) -> ReporterView:
    """The reporter's view (the caller checked ownership, e.g. own_report or a receipt);
    `case`: the report's case, when the caller has read it already (`cases_for_reports`).

    Audited as a read of the messages with the reporter's audit label.
    """
    if case is None:
        case = reporter_case(report)
    elif case.report_id != report.id:
        raise CaseNotFound()
    messages = messages_for(case, "reporter", actor=actor)
    feedback = _case_text(case, "feedback") if case.state == CaseState.CLOSED else None
    return ReporterView(
        report=report,
        case=case,
        state=case.state,
        state_text=str(PLAIN_STATE[case.state]),
        status=report.status,
        feedback=feedback,
        messages=messages,
    )


def news_keys(case_ids: Collection[int]) -> dict[int, list[str]]:
    """Each case's news keys (`notices.news_keys`): two queries for any number of cases."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    messages: dict[int, list[int]] = {case_id: [] for case_id in ids}
    closings: dict[int, list[datetime]] = {case_id: [] for case_id in ids}
    asked: dict[int, list[datetime]] = {case_id: [] for case_id in ids}
    # The row ids the notifications were keyed by (the view shows public ids).
    for case_id, message_id in db.session.execute(
        select(CaseMessage.case_id, CaseMessage.id).where(
            CaseMessage.case_id.in_(ids),
            CaseMessage.internal.is_(False),
            CaseMessage.author_kind == Side.HANDLER,
        )
    ):
        messages[case_id].append(message_id)
    # Each closing gave feedback (a case may be reopened and closed again); each
    # consent request (handling.service.consent) asked a question.
    for case_id, kind, at, codes in db.session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.at, CaseEvent.codes).where(
            CaseEvent.case_id.in_(ids),
            CaseEvent.kind.in_(("transition", "identity_consent_asked")),
        )
    ):
        if kind != "transition":
            asked[case_id].append(at)
        elif (codes or {}).get("to") == CaseState.CLOSED:
            closings[case_id].append(at)
    return {
        case_id: notices.news_keys(case_id, messages[case_id], closings[case_id], asked[case_id])
        for case_id in ids
    }


def news_read(view: ReporterView, user_id: int) -> None:
    """The reporter (with an account) was shown their case: the notifications of its
    handlers' messages, feedback and questions are read."""
    notices.reporter_read_news(user_id, news_keys([view.case.id])[view.case.id])


def reports_with_news(user_id: int, report_ids: Collection[int]) -> set[int]:
    """Which of the reporter's reports (their own, as listed to them) have news they
    have not read: their "My reports" marks them. The notifications stay discreet (a
    keyed hash, no report); the link is made here, for the reporter's eyes only."""
    cases = dict(
        db.session.execute(
            select(Case.id, Case.report_id).where(Case.report_id.in_(sorted(report_ids)))
        ).all()
    )
    keys = news_keys(cases)
    unread = notices.reporter_unread_news(user_id, [k for ks in keys.values() for k in ks])
    return {cases[case_id] for case_id, ks in keys.items() if unread.intersection(ks)}


def post_reporter_message(
    report: Report, body: str, *, actor: str, now: datetime | None = None
) -> CaseMessage:
    """The reporter answers (the caller checked ownership)."""
    return post_message(reporter_case(report), None, body, False, actor=actor, now=now)


# -- the anonymous reporter's side ------------------------------------------------------
#
# The caller opened the report with its receipt code (reporting.anonymous). Everything
# the reporter writes is dated to the Oslo day, gets a random id and is logged as
# "reporter" (see post_message, _event and reporting.anonymous.add_attachments).

ANONYMOUS_ACTOR = REPORTER_ACTOR


def _anonymous_case(report: Report) -> Case:
    if not report.anonymous:
        raise CaseNotFound()
    return reporter_case(report)


def anonymous_view(report: Report) -> ReporterView:
    """What the anonymous reporter sees: state in plain words, feedback, messages.

    Audited, at day precision, as a read of the messages by "reporter".
    """
    _anonymous_case(report)
    return reporter_view(report, actor=ANONYMOUS_ACTOR)


def has_revealed_identity(report: Report) -> bool:
    """Whether the reporter has told the case handlers who they are."""
    case = _anonymous_case(report)
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(CaseMessage)
            .where(CaseMessage.case_id == case.id, CaseMessage.identity.is_(True))
        )
    )


def post_anonymous_message(
    report: Report, body: str, *, identity: bool = False, now: datetime | None = None
) -> CaseMessage:
    """The anonymous reporter writes to the case handlers.

    `identity`: the message says who they are. It is kept like any message and cannot
    be taken back; a second one is refused (they can write more in ordinary messages).
    """
    case = _anonymous_case(report)
    if identity and has_revealed_identity(report):
        raise CaseError(_l("You have already told the case handlers who you are."), "identity")
    return post_message(case, None, body, False, actor=ANONYMOUS_ACTOR, now=now, identity=identity)


def add_anonymous_information(
    report: Report, body: str | None, uploads: Iterable[Any] = (), *, now: datetime | None = None
) -> CaseMessage | None:
    """Information the anonymous reporter adds later: a message, files, or both.

    Files follow the anonymous link's rules (reporting.anonymous.add_attachments) and
    appear in the case's timeline. Raises CaseError when there is neither text nor a
    file, ReportError about the files; nothing is stored then.
    """
    case = _anonymous_case(report)
    files = [u for u in uploads if getattr(u, "filename", None)]
    text = (body or "").strip()
    if not text and not files:
        raise CaseError(_l("Write something, or choose a file to add."), "body")
    if text:
        _message_text(text)  # refuse before any file is stored
    stored = anonymous.add_attachments(report, files)
    message = post_anonymous_message(report, text, now=now) if text else None
    if stored:
        day = reporting.start_of_day_utc(now)
        _event(case, "attachments_added", ANONYMOUS_ACTOR, day, count=len(stored))
        _audit("case.attachments", ANONYMOUS_ACTOR, case, at=day, count=len(stored))
        case.updated_at = max(case.updated_at, day)
        db.session.flush()
        if message is None:
            notices.reporter_wrote(case, f"files:{stored[0].id}", section="h-report")
    return message
