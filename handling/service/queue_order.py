"""The queue's order: every column sorts, both ways, with keyset paging.

A sort is a column name, with "-" before it for descending ("-severity"). The default,
"deadline", keeps the queue's index order (next_due_at, no deadline last, opened_at,
id) and its cursor. Every other sort reads its key as one non-null SQL value beside the
row (so the cursor carries exactly what the database compared) and breaks ties by id:
its cursor is (sort, value, id), and a cursor made under another sort is refused.

Codes (state, type of incident) sort by their label in the caller's language, as the
page shows them: the labels' order is given to SQL as a rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import and_, case, func, literal, or_, select

from handling.models import Case, CaseMessage, CaseReading
from handling.states import Side
from handling.workflow import STATES
from reporting.codes import INCIDENT_TYPES, Channel
from reporting.models import Report, ReportIncidentType
from trygg import org, paging
from trygg.accounts.models import User
from trygg.i18n import lazy_gettext as _l

DEFAULT_SORT = "deadline"
# Column → the kind of its sort value in a cursor.
SORTS: dict[str, type] = {
    "reference": str,
    "type": int,
    "unit": str,
    "state": int,
    "severity": int,
    "occurred": date,
    "deadline": datetime,
    "assignee": str,
    "unread": int,
    "reporter": int,
}
SORT_VALUES = [*SORTS, *(f"-{name}" for name in SORTS)]
SORT_ERROR = _l("Sort by one of the columns of the list.")


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool

    @classmethod
    def parse(cls, value: str | None) -> Sort:
        """A sort from its query value ("severity", "-severity"); ValueError if unknown."""
        text = value or DEFAULT_SORT
        column = text.removeprefix("-")
        if column not in SORTS:
            raise ValueError(text)
        return cls(column, text.startswith("-"))

    @property
    def value(self) -> str:
        return f"-{self.column}" if self.descending else self.column

    @property
    def is_default(self) -> bool:
        return self.column == "deadline"

    def cursor(self, raw: str) -> tuple[Any, ...]:
        """The sort key in a cursor this sort gave; ValidationError otherwise."""
        if self.is_default:
            return paging.decode(raw, (datetime, datetime, int))
        key = paging.decode(raw, (str, SORTS[self.column], int))
        if key[0] != self.value or key[1] is None or key[2] is None:
            raise ValidationError(paging._not_a_cursor())
        return key


def _label_rank(labels: dict[str, Any], column: Any) -> Any:
    """The code's place among the labels in the current language (unknown codes last)."""
    ordered = sorted(labels, key=lambda code: str(labels[code]).casefold())
    return case({code: n for n, code in enumerate(ordered)}, value=column, else_=len(ordered))


def unread_count(user: User) -> Any:
    """SQL: the reporter's messages on the `Case` row that the user has not seen."""
    sent = (
        select(func.count())
        .select_from(CaseMessage)
        .where(CaseMessage.case_id == Case.id, CaseMessage.author_kind == Side.REPORTER)
        .scalar_subquery()
    )
    seen = (
        select(CaseReading.reporter_messages_seen)
        .where(CaseReading.case_id == Case.id, CaseReading.user_id == user.id)
        .scalar_subquery()
    )
    return _non_negative(sent - func.coalesce(seen, 0))


def _non_negative(value: Any) -> Any:
    # max(a, b) is a different function on the two engines; a CASE is the same on both.
    return case((value > 0, value), else_=0)


def sort_value(column: str, user: User, report: Any = Report) -> Any:
    """SQL: the non-null value a sort compares (in a query over Case joined to `report`,
    Report or an alias of it)."""
    if column == "reference":
        return report.reference
    if column == "type":
        first = (
            select(func.min(_label_rank(INCIDENT_TYPES, ReportIncidentType.incident_type)))
            .where(ReportIncidentType.report_id == Case.report_id)
            .scalar_subquery()
        )
        return func.coalesce(first, len(INCIDENT_TYPES))
    if column == "unit":
        name = select(org.Unit.name).where(org.Unit.id == report.unit_id).scalar_subquery()
        return func.coalesce(name, literal(""))
    if column == "state":
        return _label_rank(STATES, Case.state)
    if column == "severity":
        return report.severity
    if column == "occurred":
        return report.occurred_month
    if column == "assignee":
        name = select(User.name).where(User.id == Case.assigned_user_id).scalar_subquery()
        return func.coalesce(name, literal(""))
    if column == "unread":
        return unread_count(user)
    if column == "deadline":
        # Ordered and paged by (next_due_at, opened_at, id): see `order_by`, `after`.
        return Case.next_due_at
    if column == "reporter":
        return case(
            (report.channel_kind == Channel.ANONYMOUS, 2),
            (report.confidential.is_(True), 1),
            else_=0,
        )
    raise ValueError(column)


def order_by(sort: Sort, value: Any) -> list[Any]:
    if sort.is_default and not sort.descending:
        return [Case.next_due_at.asc().nulls_last(), Case.opened_at, Case.id]
    if sort.is_default:
        return [Case.next_due_at.desc().nulls_first(), Case.opened_at.desc(), Case.id.desc()]
    if sort.descending:
        return [value.desc(), Case.id.desc()]
    return [value.asc(), Case.id.asc()]


def after(sort: Sort, value: Any, key: tuple[Any, ...]) -> Any:
    """SQL: the rows after the cursor's key in the sort's order."""
    if sort.is_default:
        return _after_deadline(*key) if not sort.descending else _before_deadline(*key)
    _, last, case_id = key
    if sort.descending:
        return or_(value < last, and_(value == last, Case.id < case_id))
    return or_(value > last, and_(value == last, Case.id > case_id))


def row_key(sort: Sort, case_: Case, value: Any) -> tuple[Any, ...]:
    if sort.is_default:
        return (case_.next_due_at, case_.opened_at, case_.id)
    return (sort.value, value, case_.id)


def _after_deadline(due: datetime | None, opened: datetime, case_id: int) -> Any:
    """The rows after (due, opened, case_id) in the queue's order (no deadline last)."""
    later = or_(Case.opened_at > opened, and_(Case.opened_at == opened, Case.id > case_id))
    if due is None:
        return and_(Case.next_due_at.is_(None), later)
    return or_(
        Case.next_due_at.is_(None),
        Case.next_due_at > due,
        and_(Case.next_due_at == due, later),
    )


def _before_deadline(due: datetime | None, opened: datetime, case_id: int) -> Any:
    """The rows after (due, opened, case_id) in the reversed order (no deadline first)."""
    earlier = or_(Case.opened_at < opened, and_(Case.opened_at == opened, Case.id < case_id))
    if due is None:
        return or_(Case.next_due_at.is_not(None), and_(Case.next_due_at.is_(None), earlier))
    return and_(
        Case.next_due_at.is_not(None),
        or_(Case.next_due_at < due, and_(Case.next_due_at == due, earlier)),
    )
