"""The small helpers every case operation uses: the clock, sealing a case's fields,
row ids, events and audit entries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handling.errors import CaseClosed, CaseError
from handling.models import (
    Case,
    CaseEvent,
)
from handling.workflow import FINISHED_STATES
from reporting import service as reporting
from reporting.codes import REPORTER_ACTOR
from trygg import audit, crypto, privacy, sealing
from trygg.accounts.models import User
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l

OSLO = ZoneInfo("Europe/Oslo")
DUE_SOON = timedelta(hours=24)
TEXT_MAX = 10_000

# -- small helpers ----------------------------------------------------------------------


def sees_reporter(case: Case, user: User) -> bool:
    """Whether `user` may learn who reported: in a confidential report only the case's
    assigned handler (the reporter was told so); anyone else reads "The reporter" in
    their place and may do nothing that would tell them apart."""
    return not case.report.confidential or case.assigned_user_id == user.id


def _now(now: datetime | None) -> datetime:
    return now if now is not None else utcnow()


def _key(case: Case) -> crypto.DataKey:
    return reporting.data_key(case.report)


def _seal(case: Case, record: Any, column: str, value: str | None) -> bytes | None:
    """`value` sealed for `column` of `record` (the case or one of its rows)."""
    if value is None or not value.strip():
        return None
    return sealing.seal(_key(case), record, column, value)


def _open(case: Case, record: Any, column: str, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    return sealing.open_text(_key(case), record, column, blob)


def oslo_day(moment: datetime) -> date:
    """The calendar day of a stored (UTC) time in Oslo."""
    return moment.astimezone(OSLO).date()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _row_id(case: Case, model: Any, *, unordered: bool | None = None) -> int | None:
    """The id for a new row of a case (see trygg/privacy.py).

    An anonymous report's case and the rows written when it is opened or by its reporter
    get random ids: a sequential id would place them among other cases' rows, and so
    date the report, or what its reporter writes later, more precisely than the day.
    `unordered` defaults to whether the case is anonymous.
    """
    if unordered is None:
        unordered = case.report.anonymous
    return privacy.new_row_id(model, unordered=unordered)


def _dated_to_the_day(case: Case, actor: str, when: datetime) -> bool:
    """Written on an anonymous reporter's behalf: by them, or when their case opened.

    A handler's steps keep their time and sequential ids, which keep the order of
    events recorded in the same instant; they tell nothing about the reporter.
    """
    report = case.report
    return report.anonymous and (actor == REPORTER_ACTOR or when == report.created_at)


def _event(
    case: Case, kind: str, actor: str, now: datetime | None = None, /, **values: Any
) -> None:
    at = _now(now)
    db.session.add(
        CaseEvent(
            id=_row_id(case, CaseEvent, unordered=_dated_to_the_day(case, actor, at)),
            case_id=case.id,
            kind=kind,
            codes=values,
            actor=actor,
            at=at,
        )
    )


def _audit(
    action: str, actor: str, case: Case, /, *, at: datetime | None = None, **detail: Any
) -> None:
    audit.record(action, actor=actor, object_type="case", object_id=case.id, detail=detail, at=at)


def _require_unfinished(case: Case) -> None:
    if case.state in FINISHED_STATES:
        raise CaseClosed(_l("The case is closed. Reopen it to make changes."))


def _user(user_id: int | None, field_name: str) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise CaseError(_l("Pick a person from the list."), field_name)
    return user
