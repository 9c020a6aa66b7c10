"""Opening a case for a new report: one INSERT of the case, its events, deadlines and
exclusions (see `_opening_statement`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    insert,
    select,
)
from sqlalchemy.orm.attributes import set_committed_value

from handling import notices
from handling.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    Deadline,
    Section52Check,
)
from handling.service.base import _audit, _dated_to_the_day, _now, _row_id
from handling.service.deadlines import deadlines_due
from handling.service.opening_config import _opening_config, _OpeningConfig, _OpeningGroup
from handling.service.routing import choose_target, conflicts, default_track
from handling.states import CaseState
from reporting import service as reporting
from reporting.codes import VIOLENCE_AND_THREATS
from reporting.models import Report
from trygg import privacy
from trygg.database import stored
from trygg.extensions import db

# -- opening ----------------------------------------------------------------------------


def case_for_report(report: Report) -> Case | None:
    return db.session.scalar(select(Case).where(Case.report_id == report.id))


def cases_for_reports(report_ids: Iterable[int]) -> dict[int, Case]:
    """The cases of these reports, by report id, in one query (with the case's eager
    loads run once for all of them, not once per report)."""
    ids = sorted(set(report_ids))
    if not ids:
        return {}
    return {c.report_id: c for c in db.session.scalars(select(Case).where(Case.report_id.in_(ids)))}


def _follow_up_duty(report: Report, named: reporting.PeopleNamed) -> bool:
    return bool(set(report.incident_types) & VIOLENCE_AND_THREATS) and named.has_exposed


def _insert_rows(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT rows of a table directly (Core, batched), without the ORM's bookkeeping.

    A row whose "id" is None gets the database's next id.
    """
    table = model.__table__
    given = [r for r in rows if r.get("id") is not None]
    generated = [{k: v for k, v in r.items() if k != "id"} for r in rows if r.get("id") is None]
    connection = db.session.connection()
    for batch in (given, generated):
        if batch:
            connection.execute(insert(table), batch)


_CASE_SEALED_COLUMNS = (
    "closing_note_sealed",
    "feedback_sealed",
    "drop_reason_sealed",
    "no_follow_up_reason_sealed",
)


@functools.cache
def _case_insert() -> Any:
    """open_case's INSERT, built once (see reporting.service.references._statements)."""
    table = Case.__table__
    return insert(table).returning(table.c.id)


def open_case(
    report: Report, *, actor: str, now: datetime | None = None, just_stored: bool = False
) -> Case:
    """Open the case for a newly stored report: track, routing, exclusions, deadlines.

    The receiver of `report_submitted` (connected in trygg/app.py); runs inside the
    report's transaction. Opening twice returns the existing case. `just_stored` says
    the report row was inserted in this transaction and has no case yet, which spares
    the look-up (the unique report_id still refuses a second case).

    It decides as `_sync_exclusions`, `route`, `fallback_group`, `_place` and
    `recompute_deadlines` would on a new case, but from one read (`_opening_config`):
    the case is inserted once, with its group, and its rows are written directly.
    """
    if not just_stored:
        existing = case_for_report(report)
        if existing is not None:
            return existing
    # An anonymous report is dated to the day and its exact time is kept nowhere: nor
    # may the case's rows, events and log entries written now reveal it.
    now = report.created_at if report.anonymous else _now(now)
    track = default_track(report)
    section_5_2 = report.requires_section_5_2
    named = reporting.people_named(report)  # the report's people, opened once
    found = conflicts(report, named.user_ids)
    config = _opening_config(report, track, found)
    exclusions = _opening_exclusions(config, found)
    excluded = {user_id for user_id, _reason in exclusions}
    target, warning = _opening_target(config, excluded)
    group_id = target.id if target is not None else None
    wanted = deadlines_due(
        report.created_at,
        track=track,
        incident_types=report.incident_types,
        severity=report.severity,
        section_5_2=section_5_2,
        rows=config.policies,
    )
    opening = _Opening(
        track,
        group_id,
        warning,
        section_5_2,
        _follow_up_duty(report, named),
        exclusions,
        wanted,
    )
    case = _insert_case(report, opening, now)
    _insert_opening_rows(case, opening, actor, now, moved=target is not None)
    for user_id, reason in exclusions:
        _audit("case.exclude", "system", case, at=now, user_id=user_id, reason=reason)
    if warning:
        _audit("case.route_warning", "system", case, at=now, warning=warning, group=group_id)
    _audit("case.open", actor, case, at=now, group=group_id, track=track)
    notices.case_opened(case, target.handler_ids - excluded if target is not None else ())
    return case


@dataclass
class _Opening:
    """What open_case decided for a new case, before anything is written."""

    track: str
    group_id: int | None
    warning: str | None
    section_5_2: bool
    follow_up_duty: bool
    exclusions: list[tuple[int, str]]
    deadlines: dict[str, datetime]


def _opening_exclusions(
    config: _OpeningConfig, found: dict[int, set[str]]
) -> list[tuple[int, str]]:
    """Conflicts of interest recorded for handlers and for the members of the groups
    the case may go to, in that order (as _sync_exclusions records them)."""
    routed, fallback = config.routed, config.fallback
    exclusions: list[tuple[int, str]] = []
    for candidates in (
        config.conflicted_handler_ids,
        routed.member_ids if routed is not None else (),
        fallback.member_ids if fallback is not None else (),
    ):
        for user_id in sorted(set(candidates) & set(found)):
            for reason in sorted(found[user_id]):
                if (user_id, reason) not in exclusions:
                    exclusions.append((user_id, reason))
    return exclusions


def _opening_target(
    config: _OpeningConfig, excluded: set[int]
) -> tuple[_OpeningGroup | None, str | None]:
    """The group a new case goes to and the routing warning (routing.choose_target)."""
    return choose_target(config.routed, config.fallback, lambda group: group.eligible(excluded))


def _insert_case(report: Report, opening: _Opening, now: datetime) -> Case:
    """INSERT the case row with Core and put it in the session as stored."""
    if report.id is None:  # added to the session but not flushed: it needs its id now
        db.session.flush()
    case_id = privacy.new_row_id(Case, unordered=report.anonymous)
    row: dict[str, Any] = {
        "report_id": report.id,
        "track": opening.track,
        "state": CaseState.REPORTED,
        "group_id": opening.group_id,
        "assigned_user_id": None,
        "section_5_2": opening.section_5_2,
        "follow_up_duty": opening.follow_up_duty,
        "routing_warning": opening.warning,
        "forwarded_to": None,
        "causes": [],
        "opened_at": report.created_at,
        # An anonymous case is dated to its day: whoever was a member that day sees it.
        "group_since": report.created_at + timedelta(days=1) - timedelta(microseconds=1)
        if report.anonymous
        else report.created_at,
        "updated_at": now,
        "triaged_at": None,
        "closed_at": None,
        "next_due_at": min(opening.deadlines.values(), default=None),
        **dict.fromkeys(_CASE_SEALED_COLUMNS),
    }
    if case_id is not None:
        # Random for an anonymous report: a sequential id would tell its order in the day.
        row["id"] = case_id
    # Inserted with Core (no unit-of-work flush), every column given, and put in the
    # session as stored; the relationships a new case is known to lack are set empty,
    # the rest (exclusions, deadlines, § 5-2) load from their rows when first used.
    row["id"] = db.session.connection().execute(_case_insert(), row).scalar_one()
    case = stored(Case, row)
    known: dict[str, Any] = {"report": report, "tasks": [], "debriefings": []}
    if not opening.exclusions:
        known["exclusions"] = []
    if not opening.deadlines:
        known["deadlines"] = []
    if not opening.section_5_2:
        known["section52"] = None
    for name, value in known.items():
        set_committed_value(case, name, value)
    db.session.add(case)
    return case


def _insert_opening_rows(
    case: Case, opening: _Opening, actor: str, now: datetime, *, moved: bool
) -> None:
    """The new case's exclusions, events, § 5-2 check and deadlines, inserted directly."""
    if opening.exclusions:
        _insert_rows(
            CaseExclusion,
            [
                {
                    "id": _row_id(case, CaseExclusion),
                    "case_id": case.id,
                    "user_id": user_id,
                    "reason": reason,
                    "created_at": now,
                }
                for user_id, reason in opening.exclusions
            ],
        )
    events: list[tuple[str, str, dict[str, Any]]] = [(actor, "opened", {"track": opening.track})]
    if moved or opening.warning:  # a new case has no group: it moved
        events.append(("system", "routed", {"group": opening.group_id, "warning": opening.warning}))
    _insert_rows(
        CaseEvent,
        [
            {
                "id": _row_id(case, CaseEvent, unordered=_dated_to_the_day(case, who, now)),
                "case_id": case.id,
                "kind": kind,
                "codes": values,
                "actor": who,
                "at": now,
            }
            for who, kind, values in events
        ],
    )
    if opening.section_5_2:
        _insert_rows(Section52Check, [{"case_id": case.id, "required": True, "updated_at": now}])
    _insert_rows(
        Deadline,
        [
            {
                "id": _row_id(case, Deadline),
                "case_id": case.id,
                "kind": kind,
                "due_at": due,
                "created_at": now,
            }
            for kind, due in opening.deadlines.items()
        ],
    )


def on_report_submitted(sender: Report, **kwargs: Any) -> None:
    """Receiver of trygg.signals.report_submitted: open the report's case."""
    # The signal is sent once, right after submit_report inserted the report's row.
    open_case(sender, actor=str(kwargs.get("actor") or "system"), just_stored=True)
