"""Submitting a report: the people a reporter picks from, the report checked, sealed and
stored (through `references`: a few Core statements), its attachments, the signal that
opens its case.

Everything a report holds that is not coarse classification is sealed here, with the
report's own data key, before it reaches the session. Operations add and flush; the
request (or CLI command) commits once, so a failure anywhere leaves nothing behind."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from reporting import codes, people_index
from reporting.codes import REPORTER_ACTOR, Channel, ReportStatus
from reporting.errors import ReportError
from reporting.models import Report
from reporting.service.attachments import check_upload, selected_files, store_attachment
from reporting.service.base import (
    _DATA_KEY_ATTR,
    OSLO,
    Upload,
    month_of,
    owner_tag,
    seal_value,
    start_of_day_utc,
    time_band,
)
from reporting.service.references import insert_report, store_reference
from trygg import audit, crypto, keys, org, privacy
from trygg.accounts import service as accounts
from trygg.accounts.models import Membership, User
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l
from trygg.roles import Role
from trygg.signals import report_submitted

# -- people to pick from ---------------------------------------------------------------


def employees_led_by(manager: User) -> list[accounts.Person]:
    """Active users in the units (and sub-units) the manager leads, not the manager, by
    name (read as columns: a department has hundreds)."""
    unit_ids: set[int] = set()
    for unit in manager.managed_units:
        unit_ids |= org.subtree_ids(unit.id)
    if not unit_ids:
        return []
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .where(
            User.active.is_(True),
            User.id != manager.id,
            User.id.in_(select(Membership.user_id).where(Membership.unit_id.in_(unit_ids))),
        )
        .order_by(User.name, User.id)
    )
    return [accounts.Person(*row) for row in rows]


def handlers() -> list[accounts.Person]:
    """Active case handlers, whom a reporter may name as people who must not handle."""
    return accounts.users_with_roles(Role.HANDLER)


# -- submitting -------------------------------------------------------------------------


def _person(entry: dict[str, Any], field: str) -> dict[str, Any]:
    user_id = entry.get("user_id")
    name = (entry.get("name") or "").strip() or None
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None:
            raise ReportError(_l("Pick people from the list."), field=field)
        name = name or user.name
    return {"user_id": user_id, "name": name}


def submit_report(
    data: dict[str, Any],
    *,
    reporter: User | None,
    uploads: Iterable[Upload] = (),
    submission_key: str | None = None,
) -> Report:
    """Validate references, seal and store a report with its attachments; signal it.

    `submission_key`: the report form's token; a second report with the same key fails
    on its unique index (IntegrityError), and the caller answers with the first one
    (`report_by_submission`).

    `data` comes from ReportSchema (or the anonymous schema). `reporter` is None for the
    anonymous link. Raises ReportError when something must be fixed; files are checked
    one at a time while storing, so the caller must roll back (the request boundary
    does) and then nothing is stored.
    """
    anonymous = reporter is None
    files = selected_files(uploads)
    unit = _chosen_unit(data)
    on_behalf_of = _on_behalf_of(data, reporter)
    people = _people(data, reporter, on_behalf_of)
    _check_named_users(data)

    key, wrapped = keys.keyring().new_data_key()
    now = start_of_day_utc() if anonymous else utcnow()
    report = insert_report(
        # Random for anonymous reports: a sequential id would tell their order in the day.
        privacy.new_row_id(Report, unordered=anonymous),
        _report_values(data, reporter, unit, on_behalf_of, now, wrapped)
        | {"submission_key": None if anonymous else submission_key},
        sorted(set(data["incident_types"])),
    )
    setattr(report, _DATA_KEY_ATTR, (wrapped, key))
    sealed = _sealed_fields(report.id, key, data, reporter, people)
    people_index.index_people(
        report.id,
        people,
        reporter_id=reporter.id if reporter is not None else None,
        must_not_handle=data.get("must_not_handle", ()),
    )
    _store_files(report, key, files)

    # The sealed fields are recorded on the object as stored (case opening reads them
    # from there) and go out with the reference in one UPDATE, written directly (Core),
    # without the ORM's per-attribute flush.
    for column, value in sealed.items():
        set_committed_value(report, column, value)
    actor = reporter_actor(report, reporter)
    # Case handling opens the case now, while nothing is locked yet.
    report_submitted.send(report, actor=actor)
    # The reference counter's row stays locked until commit and so serialises every
    # submission: take it only now, when all the work concurrent submissions can do side
    # by side is done. (The audit chain's head is locked only at commit.)
    reference = store_reference(report, now.astimezone(OSLO).year, sealed)
    set_committed_value(report, "reference", reference)
    audit.record(
        "report.submit",
        actor=actor,
        object_type="report",
        object_id=report.id,
        at=now if anonymous else None,
    )
    db.session.flush()
    return report


def _chosen_unit(data: dict[str, Any]) -> org.Unit | None:
    """The unit the report is about, if one was chosen; it must exist."""
    if data.get("unit_id") is None:
        return None
    unit = org.get_unit(data["unit_id"])
    if unit is None:
        raise ReportError(_l("Choose a unit from the list."), field="unit_id")
    return unit


def _on_behalf_of(data: dict[str, Any], reporter: User | None) -> User | None:
    """The employee a manager reports for: one of the employees they lead."""
    if data.get("on_behalf_of_user_id") is None:
        return None
    if reporter is None or not reporter.has_role(Role.MANAGER):
        raise ReportError(
            _l("Only a manager can report on behalf of an employee."),
            field="on_behalf_of_user_id",
        )
    employee = db.session.get(User, data["on_behalf_of_user_id"])
    led = {person.id for person in employees_led_by(reporter)}
    if employee is None or employee.id not in led:
        raise ReportError(_l("Pick the employee from the list."), field="on_behalf_of_user_id")
    return employee


def _people(
    data: dict[str, Any], reporter: User | None, on_behalf_of: User | None
) -> dict[str, Any]:
    """The sealed `people` record: the exposed (the reporter or the employee reported
    for, when no one else is named), the witnesses and the counterpart."""
    exposed = [_person(p, "exposed") for p in data.get("exposed", [])]
    witnesses = [_person(p, "witnesses") for p in data.get("witnesses", [])]
    if on_behalf_of is not None and all(p["user_id"] != on_behalf_of.id for p in exposed):
        exposed.insert(0, {"user_id": on_behalf_of.id, "name": on_behalf_of.name})
    if reporter is not None and on_behalf_of is None and not exposed:
        # An employee reporting for themselves is the exposed employee.
        exposed = [{"user_id": reporter.id, "name": reporter.name}]
    return {
        "exposed": exposed,
        "witnesses": witnesses,
        "counterpart_user_id": data.get("counterpart_user_id"),
    }


def _check_named_users(data: dict[str, Any]) -> None:
    """Those who must not handle the case and the counterpart are existing users."""
    for user_id in data.get("must_not_handle", []):
        if db.session.get(User, user_id) is None:
            raise ReportError(_l("Pick people from the list."), field="must_not_handle")
    if (
        data.get("counterpart_user_id") is not None
        and db.session.get(User, data["counterpart_user_id"]) is None
    ):
        raise ReportError(_l("Pick the person from the list."), field="counterpart_user_id")


def _report_values(
    data: dict[str, Any],
    reporter: User | None,
    unit: org.Unit | None,
    on_behalf_of: User | None,
    now: datetime,
    wrapped: bytes,
) -> dict[str, Any]:
    """The report's columns in clear: coarse classification, never content."""
    anonymous = reporter is None
    occurred: datetime = data["occurred_at"]
    return {
        "reference": f"pending-{secrets.token_hex(12)}",
        "channel_kind": Channel.ANONYMOUS if anonymous else Channel.EMPLOYEE,
        "created_at": now,
        "status": ReportStatus.SUBMITTED,
        "confidential": anonymous or bool(data.get("confidential")),
        "owner_tag": None if reporter is None else owner_tag(reporter),
        "people_index": people_index.VERSION,
        "wrapped_key": wrapped,
        "unit_id": unit.id if unit else None,
        "occurred_month": month_of(occurred),
        "time_band": None if anonymous else time_band(occurred),
        "place_type": data["place_type"],
        "channel": data.get("channel"),
        "counterpart_category": data["counterpart_category"],
        "lone_work": data.get("lone_work"),
        "activity": data.get("activity"),
        "severity": data["severity"],
        "injury_level": data.get("injury_level", "none"),
        "serious_injury": bool(data.get("serious_injury"))
        or data["severity"] == codes.SEVERITY_SERIOUS_INJURY,
        "has_sick_leave": data.get("sick_leave", "none") != "none",
        "police_report": data.get("police_report", "no"),
        "immediate_measures": sorted(set(data.get("immediate_measures", []))),
        "causes": sorted(set(data.get("causes", []))),
        "on_behalf": on_behalf_of is not None,
    }


def _sealed_fields(
    report_id: int,
    key: crypto.DataKey,
    data: dict[str, Any],
    reporter: User | None,
    people: dict[str, Any],
) -> dict[str, bytes | str | None]:
    """Every field that is not coarse classification, sealed: column → value (the
    reference joins them last). An anonymous report's time is only its day."""
    sealed: dict[str, bytes | str | None] = {}

    def seal(name: str, value: Any) -> None:
        sealed[f"{name}_sealed"] = seal_value(key, report_id, name, value)

    occurred: datetime = data["occurred_at"]
    seal(
        "occurred_at",
        occurred.astimezone(OSLO).date().isoformat() if reporter is None else occurred.isoformat(),
    )
    seal("counterpart_identity", data.get("counterpart_identity"))
    seal("injury_description", data.get("injury_description"))
    sick_leave = data.get("sick_leave", "none")
    if sick_leave != "none":
        seal("sick_leave", {"kind": sick_leave, "days": data.get("sick_leave_days")})
    seal("police_details", data.get("police_details"))
    seal("immediate_measures_text", data.get("immediate_measures_text"))
    seal("narrative", data["narrative"])
    seal("causes_text", data.get("causes_text"))
    seal("people", people)
    if reporter is not None:
        seal("reporter", {"user_id": reporter.id, "name": reporter.name})
    seal("must_not_handle", sorted(set(data.get("must_not_handle", []))))
    return sealed


def _store_files(report: Report, key: crypto.DataKey, files: list[Upload]) -> None:
    """Check, seal and store the report's files, one at a time: a refusal midway
    raises, and the caller's rollback (the request boundary) leaves nothing stored."""
    for upload in files:
        name, kind, content = check_upload(upload)
        store_attachment(report, key, name, kind, content, "reporter")
        del content
    if files:
        # The report was placed in the session with no attachments; load them when read.
        db.session.expire(report, ["attachments"])


def reporter_actor(report: Report, user: User | None) -> str:
    """How the reporter appears in the audit log.

    A confidential or anonymous reporter appears as "reporter", never as a user id: the
    log is not sealed, and must not link them to their report.
    """
    if user is None or report.confidential:
        return REPORTER_ACTOR
    return f"user:{user.id}"


def report_by_submission(user: User, submission_key: str) -> Report | None:
    """The user's report sent from the form with this token, if there is one."""
    return db.session.scalar(
        select(Report).where(
            Report.submission_key == submission_key, Report.owner_tag == owner_tag(user)
        )
    )
