"""Follow-up tasks, debriefing and the § 5-2 check."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from handling import codes, notices
from handling.errors import CaseError, CaseNotFound
from handling.models import (
    Case,
    Debriefing,
    FollowUpTask,
    Section52Check,
)
from handling.service import responsible
from handling.service.base import (
    OSLO,
    _audit,
    _event,
    _now,
    _require_unfinished,
    _seal,
    _text,
    _user,
    oslo_day,
)
from handling.service.deadlines import TASK_MEETS, _meet, recompute_deadlines
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

# -- follow-up, debriefing, § 5-2 -------------------------------------------------------


def _check_responsible(case: Case, user_id: int | None, *, actor: User, new: bool) -> None:
    """The picker's rule (handling.service.responsible), enforced for every way in; `new`
    when the task gets this person now (not when a form sends the one it has)."""
    user = _user(user_id, "responsible_user_id")
    if user is None:
        return
    if new and not responsible.chooses(case, actor):
        raise CaseError(
            _l(
                "In a confidential report only the case handler assigned to the case chooses"
                " who is responsible. Leave Responsible empty, or take the case first."
            ),
            "responsible_user_id",
        )
    if user.id in case.excluded_user_ids or user.id in responsible.named_in_report(case):
        raise CaseError(
            _l(
                "That person cannot be responsible: they are named in the report"
                " or have a conflict of interest."
            ),
            "responsible_user_id",
        )
    if responsible.is_admin(user):
        raise CaseError(
            _l("An administrator cannot be responsible for a follow-up task."),
            "responsible_user_id",
        )


def _default_task_due(case: Case, template: str) -> datetime | None:
    kind = TASK_MEETS.get(template)
    for row in case.deadlines:
        if row.kind == kind and row.is_open:
            return row.due_at
    return None


# A task's due time is within this many days ahead (five years): a typing error such as
# 9999 would otherwise read "on time" for ever.
TASK_DUE_MAX_DAYS = 5 * 366


def _incident_start(case: Case) -> datetime | None:
    """The first moment of the incident's month (Oslo): nothing done about it is earlier."""
    occurred = case.report.occurred_month
    return datetime.combine(occurred, time(), OSLO) if occurred is not None else None


def _check_due(case: Case, due_at: datetime | None, now: datetime) -> None:
    """A due time between the incident's month and five years from now."""
    if due_at is None:
        return
    start = _incident_start(case)
    too_early = start is not None and due_at < start
    if too_early or due_at > now + timedelta(days=TASK_DUE_MAX_DAYS):
        raise CaseError(
            _l("Choose a due time after the incident and at most five years ahead."), "due_at"
        )


def _mark_shared(case: Case) -> None:
    """`case.shared_unit_id` after a consent was given or withdrawn: the report's unit
    while the case is shared with the safety representative, else None (the rep's queue
    seeks by it)."""
    case.shared_unit_id = case.report.unit_id if case.consented_to_share else None


def add_task(
    case: Case,
    *,
    actor: User,
    template: str,
    responsible_user_id: int | None = None,
    due_at: datetime | None = None,
    note: str | None = None,
    consent_to_share: bool = False,
    status: str = "open",
    now: datetime | None = None,
) -> FollowUpTask:
    """Add a follow-up task; its due time defaults to the matching deadline's."""
    _require_unfinished(case)
    if template not in codes.TASK_TEMPLATES:
        raise CaseError(_l("Choose a kind of follow-up from the list."), "template")
    if status not in codes.TASK_STATUSES:
        raise CaseError(_l("Choose a status from the list."), "status")
    _check_responsible(case, responsible_user_id, actor=actor, new=True)
    now = _now(now)
    _check_due(case, due_at, now)
    label = actor_label(actor)
    task = FollowUpTask(
        case_id=case.id,
        template=template,
        responsible_user_id=responsible_user_id,
        due_at=due_at or _default_task_due(case, template),
        status="open",
        consent_to_share=bool(consent_to_share),
        created_at=now,
    )
    case.tasks.append(task)
    _mark_shared(case)
    db.session.flush()
    task.note_sealed = _seal(case, task, "note", _text(note))
    _event(case, "task_added", label, now, task=task.id, template=template)
    _audit(
        "case.task.add", label, case, task=task.id, template=template, consent=task.consent_to_share
    )
    if status != "open":
        _set_task_status(case, task, status, label, now)
    case.updated_at = now
    db.session.flush()
    if task.status == "open":
        notices.task_given(case, task, actor.id, now)
    return task


def _set_task_status(
    case: Case, task: FollowUpTask, status: str, label: str, now: datetime
) -> None:
    task.status = status
    task.completed_at = now if status == "done" else None
    if status == "done" and task.template in TASK_MEETS:
        _meet(case, TASK_MEETS[task.template], label, now)


TASK_FIELDS = ("status", "responsible_user_id", "due_at", "note", "consent_to_share")


def get_task(case: Case, task_id: int) -> FollowUpTask:
    for task in case.tasks:
        if task.id == task_id:
            return task
    raise CaseNotFound()


def update_task(
    case: Case, task: FollowUpTask, *, actor: User, now: datetime | None = None, **changes: Any
) -> FollowUpTask:
    """Change a task's status, responsible person, due time, note or consent."""
    _require_unfinished(case)
    unknown = set(changes) - set(TASK_FIELDS)
    if unknown:
        raise CaseError(_l("This field is not expected here."), sorted(unknown)[0])
    now = _now(now)
    label = actor_label(actor)
    given = (
        "responsible_user_id" in changes
        and changes["responsible_user_id"] != task.responsible_user_id
    )
    if "responsible_user_id" in changes:
        _check_responsible(case, changes["responsible_user_id"], actor=actor, new=given)
        task.responsible_user_id = changes["responsible_user_id"]
    if given:
        # The new responsible person hears of the due time too (the tick's marks were
        # the previous person's; each reminder's key names its recipient, so no one who
        # was told already is told again).
        task.soon_notified_for = None
        task.overdue_notified_for = None
    if "due_at" in changes:
        _check_due(case, changes["due_at"], now)
        task.due_at = changes["due_at"]
    if "note" in changes:
        task.note_sealed = _seal(case, task, "note", _text(changes["note"]))
    consent_changed = (
        "consent_to_share" in changes and bool(changes["consent_to_share"]) != task.consent_to_share
    )
    if consent_changed:
        task.consent_to_share = bool(changes["consent_to_share"])
        _mark_shared(case)
        _audit("case.consent", label, case, task=task.id, consent=task.consent_to_share)
    if "status" in changes and changes["status"] != task.status:
        if changes["status"] not in codes.TASK_STATUSES:
            raise CaseError(_l("Choose a status from the list."), "status")
        _set_task_status(case, task, changes["status"], label, now)
    _event(
        case,
        "task_updated",
        label,
        now,
        task=task.id,
        template=task.template,
        status=task.status,
        fields=sorted(changes),
    )
    _audit("case.task.update", label, case, task=task.id, fields=sorted(changes))
    case.updated_at = now
    db.session.flush()
    if given and task.status == "open":
        notices.task_given(case, task, actor.id, now)
    return task


def record_debriefing(
    case: Case,
    *,
    actor: User,
    held_on: date,
    participant_roles: Iterable[str] = (),
    support_offered: Iterable[str] = (),
    outcome: str | None = None,
    further_needs: str | None = None,
    consent_to_share_summary: bool = False,
    now: datetime | None = None,
) -> Debriefing:
    """Record a debriefing or learning review; meets the learning-review deadline."""
    _require_unfinished(case)
    roles = sorted(set(participant_roles))
    support = sorted(set(support_offered))
    if any(r not in codes.PARTICIPANT_ROLES for r in roles):
        raise CaseError(_l("Choose participants from the list."), "participant_roles")
    if any(s not in codes.SUPPORT_OFFERED for s in support):
        raise CaseError(_l("Choose support from the list."), "support_offered")
    now = _now(now)
    if held_on > oslo_day(now):
        # Recorded after it was held: a date ahead is a typing error (or a plan, which
        # belongs in a follow-up task), and it would meet the deadline early.
        raise CaseError(
            _l("Enter the day the debriefing was held: it cannot be in the future."), "held_on"
        )
    occurred = case.report.occurred_month
    if occurred is not None and held_on < occurred:
        raise CaseError(
            _l("Enter the day the debriefing was held: it cannot be before the incident."),
            "held_on",
        )
    label = actor_label(actor)
    row = Debriefing(
        case_id=case.id,
        held_on=held_on,
        participant_roles=roles,
        support_offered=support,
        consent_to_share_summary=bool(consent_to_share_summary),
        created_at=now,
    )
    case.debriefings.append(row)
    _mark_shared(case)
    db.session.flush()
    row.outcome_sealed = _seal(case, row, "outcome", _text(outcome))
    row.further_needs_sealed = _seal(case, row, "further_needs", _text(further_needs))
    _meet(case, "learning_review", label, now)
    _event(case, "debriefing", label, now, debriefing=row.id, consent=row.consent_to_share_summary)
    _audit("case.debriefing", label, case, debriefing=row.id, consent=row.consent_to_share_summary)
    case.updated_at = now
    db.session.flush()
    return row


def _set_section52_required(case: Case, required: bool, now: datetime) -> None:
    check_row = case.section52
    if check_row is None:
        if not required:
            return
        check_row = Section52Check(case_id=case.id, required=True, updated_at=now)
        case.section52 = check_row
    check_row.required = required
    check_row.updated_at = now


SECTION52_FIELDS = (
    "required",
    "labour_inspection_notified_at",
    "labour_inspection_notified_by_id",
    "police_notified_at",
    "police_notified_by_id",
    "safety_rep_copied_at",
    "nav_form_sent",
    "nav_form_sent_on",
)


# The § 5-2 steps are recorded when done: a time a few minutes ahead is a clock's
# difference, more is a typing error (and both notices recorded meet the deadline).
SECTION52_SLACK = timedelta(minutes=5)


def _check_section52_times(case: Case, values: dict[str, Any], now: datetime) -> None:
    """Each time or day given is between the incident's month and now."""
    occurred = case.report.occurred_month
    start = _incident_start(case)
    for name in ("labour_inspection_notified_at", "police_notified_at", "safety_rep_copied_at"):
        at = values.get(name)
        if at is None:
            continue
        if at > now + SECTION52_SLACK:
            raise CaseError(_l("Enter when it was done: it cannot be in the future."), name)
        if start is not None and at < start:
            raise CaseError(_l("Enter when it was done: it cannot be before the incident."), name)
    sent_on = values.get("nav_form_sent_on")
    if sent_on is not None:
        if sent_on > oslo_day(now):
            raise CaseError(
                _l("Enter when it was done: it cannot be in the future."), "nav_form_sent_on"
            )
        if occurred is not None and sent_on < occurred:
            raise CaseError(
                _l("Enter when it was done: it cannot be before the incident."),
                "nav_form_sent_on",
            )


def update_section52(
    case: Case, *, actor: User, now: datetime | None = None, **values: Any
) -> Section52Check:
    """Record § 5-2 steps; both notifications recorded meets the § 5-2 deadline.

    A notification time without "by" is recorded as done by the actor. Changing
    `required` changes whether the case has the § 5-2 duty (and its deadline).
    """
    _require_unfinished(case)
    unknown = set(values) - set(SECTION52_FIELDS)
    if unknown:
        raise CaseError(_l("This field is not expected here."), sorted(unknown)[0])
    now = _now(now)
    _check_section52_times(case, values, now)
    label = actor_label(actor)
    for by in ("labour_inspection_notified_by_id", "police_notified_by_id"):
        if values.get(by) is not None:
            _user(values[by], by)
    if "required" in values and bool(values["required"]) != case.section_5_2:
        case.section_5_2 = bool(values["required"])
        _set_section52_required(case, case.section_5_2, now)
        recompute_deadlines(case)
        if case.section_5_2:
            notices.section_5_2_flagged(case)
    row = case.section52
    if row is None:
        row = Section52Check(case_id=case.id, required=case.section_5_2, updated_at=now)
        case.section52 = row
    for name, value in values.items():
        if name != "required":
            setattr(row, name, value)
    for at, by in (
        ("labour_inspection_notified_at", "labour_inspection_notified_by_id"),
        ("police_notified_at", "police_notified_by_id"),
    ):
        if getattr(row, at) is not None and getattr(row, by) is None:
            setattr(row, by, actor.id)
    if row.nav_form_sent is False:
        row.nav_form_sent_on = None
    row.updated_at = now
    if row.labour_inspection_notified_at is not None and row.police_notified_at is not None:
        _meet(case, "section_5_2_notice", label, now)
    _event(case, "section52", label, now, fields=sorted(values))
    _audit("case.section52", label, case, fields=sorted(values))
    case.updated_at = now
    db.session.flush()
    return row
