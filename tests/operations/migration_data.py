"""Data as each migration revision stored it, written with SQL against that revision's
schema (the models describe only the newest one).

`LOADERS[revision]` fills the tables and columns that revision added. A database "at
revision R" is built by upgrading one revision at a time from an empty database and
running each loader on the way, so every table that exists at R has rows. Sealed values
are made with the crypto primitives and the associated data the code of the time used:
that format is what an upgrade must keep readable. A migration that adds a table needs
a loader here (tests/operations/test_upgrade.py says which table has no rows).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import MetaData, Table, insert, text, update
from sqlalchemy.engine import Connection

from handling.states import CaseState, GrantKind, Side, Track
from reporting.codes import Channel, ReportStatus
from trygg import audit, crypto
from trygg.roles import Role

PASSWORD = "correct horse battery staple"
OSLO = ZoneInfo("Europe/Oslo")
STORE_CHUNK = 1024 * 1024
# The cheapest argon2 costs, as the test settings use (the hash carries its own costs).
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
EMPLOYEE, HANDLER, EXCLUDED_HANDLER, ADMIN = 1, 2, 3, 4
HOSPITAL, WARD = 1, 2
ANONYMOUS_REPORT = 1_234_567_891


@dataclass
class World:
    """What the loaders stored, for the checks after the upgrade."""

    ring: crypto.Keyring
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    totp_secret: str = field(default_factory=pyotp.random_base32)
    # report id -> narrative, and its files: attachment id -> (name, content)
    narratives: dict[int, str] = field(default_factory=dict)
    files: dict[int, dict[int, tuple[str, bytes]]] = field(default_factory=dict)
    # case id -> what a handler reads in it
    case_texts: dict[int, dict[str, Any]] = field(default_factory=dict)
    references: int = 0
    receipt: str | None = None
    seq: int = 0
    last_hash: str = audit.GENESIS

    @property
    def year(self) -> int:
        return self.now.astimezone(OSLO).year


def _table(connection: Connection, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=connection)


def put(connection: Connection, name: str, *rows: dict[str, Any]) -> None:
    """INSERT rows into a table as the database has it now (reflected types bind).

    A `created_at` column the row leaves out gets the time of the load (the models'
    default: migrations give the column no server default).
    """
    table = _table(connection, name)
    if "created_at" in table.c:
        rows = tuple({"created_at": datetime.now(UTC), **row} for row in rows)
    connection.execute(insert(table), list(rows))
    _advance_sequence(connection, table, rows)


# Ids from here on stand for the random ids of anonymous rows (trygg/privacy.py), which
# are given explicitly and never come from a sequence.
RANDOM_IDS = 1_000_000


def _advance_sequence(connection: Connection, table: Table, rows: tuple[Any, ...]) -> None:
    """PostgreSQL: move the id sequence past ids given explicitly, as real use would."""
    key = list(table.primary_key.columns)
    if connection.dialect.name != "postgresql" or len(key) != 1:
        return
    given = [row.get(key[0].name) for row in rows]
    ids = [v for v in given if isinstance(v, int) and v < RANDOM_IDS]
    sequence = connection.execute(
        text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table.name}"', "c": key[0].name}
    ).scalar()
    if ids and sequence:
        connection.execute(
            text(
                "SELECT setval(:s, GREATEST(:v, "
                "COALESCE(pg_sequence_last_value(CAST(:s AS regclass)), 0)))"
            ),
            {"s": sequence, "v": max(ids)},
        )


def log(connection: Connection, world: World, action: str, actor: str, kind: str, oid: Any) -> None:
    """Append an audit entry and move the head, as the code of every revision did."""
    world.seq += 1
    detail = "{}"
    entry_hash = audit.digest(
        world.seq, world.now, actor, action, kind, str(oid), detail, world.last_hash
    )
    row = {"seq": world.seq, "at": world.now, "actor": actor, "action": action}
    row |= {"object_type": kind, "object_id": str(oid), "detail": detail}
    put(connection, "audit_entry", {**row, "prev_hash": world.last_hash, "hash": entry_hash})
    world.last_hash = entry_hash
    head = _table(connection, "audit_head")
    values: dict[str, Any] = {"seq": world.seq, "last_hash": entry_hash}
    if "seal" in head.c:  # since 0008: sealed with a key from the keyring
        key = world.ring.derive("audit-head")
        values["seal"] = crypto.keyed_hash(key, f"audit-head:{world.seq}:{entry_hash}")
    connection.execute(update(head).where(head.c.id == 1).values(values))


# -- 0001: units, users, roles, the audit log -------------------------------------------


def _user(world: World, user_id: int, email: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": email,
        "name": name,
        "password_hash": HASHER.hash(PASSWORD),
        "active": True,
        "session_version": 1,
        "created_at": world.now,
        "last_login_at": None,
        "wrapped_key": None,
        "totp_secret": None,
        "totp_pending": None,
        "totp_enabled": False,
        "totp_last_step": None,
    }


def load_0001(connection: Connection, world: World) -> None:
    put(
        connection,
        "unit",
        {"id": HOSPITAL, "name": "Sykehuset", "parent_id": None, "headcount": 400},
        {"id": WARD, "name": "Akuttmottaket", "parent_id": HOSPITAL, "headcount": 60},
    )
    handler = _user(world, HANDLER, "hanne@example.org", "Hanne Handler")
    key, wrapped = world.ring.new_data_key()
    handler |= {"wrapped_key": wrapped, "totp_enabled": True}
    handler["totp_secret"] = key.seal(
        world.totp_secret, table="user_account", column="totp_secret", row=HANDLER
    )
    put(
        connection,
        "user_account",
        _user(world, EMPLOYEE, "kari@example.org", "Kari Nordmann"),
        handler,
        _user(world, EXCLUDED_HANDLER, "ola@example.org", "Ola Handler"),
        {**_user(world, ADMIN, "ada@example.org", "Ada Admin"), "totp_enabled": False},
    )
    put(
        connection,
        "user_role",
        {"user_id": EMPLOYEE, "role": Role.EMPLOYEE},
        {"user_id": HANDLER, "role": Role.HANDLER},
        {"user_id": EXCLUDED_HANDLER, "role": Role.HANDLER},
        {"user_id": ADMIN, "role": Role.ADMIN},
    )
    put(
        connection,
        "membership",
        {"user_id": EMPLOYEE, "unit_id": WARD, "is_manager": False},
        {"user_id": HANDLER, "unit_id": HOSPITAL, "is_manager": False},
    )
    put(connection, "login_failure", {"account_key": "f" * 64, "at": world.now})
    for oid in (HOSPITAL, WARD):
        log(connection, world, "unit.create", "cli", "unit", oid)
    for oid in (EMPLOYEE, HANDLER, EXCLUDED_HANDLER, ADMIN):
        log(connection, world, "user.create", "cli", "user", oid)


# -- 0002: reports, attachments, references ----------------------------------------------


def _report_row(world: World, report_id: int, wrapped: bytes, **values: Any) -> dict[str, Any]:
    row = {
        "id": report_id,
        "reference": f"AVV-{world.year}-{report_id:05d}",
        "channel_kind": Channel.EMPLOYEE,
        "created_at": world.now,
        "status": ReportStatus.SUBMITTED,
        "confidential": False,
        "owner_tag": crypto.keyed_hash(world.ring.derive("report-owner"), f"user:{EMPLOYEE}"),
        "wrapped_key": wrapped,
        "unit_id": WARD,
        "occurred_month": date(world.year, 1, 1),
        "time_band": "day",
        "place_type": "patient_room",
        "channel": "face_to_face",
        "counterpart_category": "patient",
        "lone_work": True,
        "activity": "care",
        "severity": 3,
        "injury_level": "first_aid",
        "serious_injury": False,
        "has_sick_leave": True,
        "police_report": "considering",
        "immediate_measures": ["interrupted"],
        "causes": ["lone_work"],
        "on_behalf": False,
    }
    return row | values


def _sealed_report_fields(key: crypto.DataKey, report_id: int, narrative: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "occurred_at": "2026-01-05T14:30:00+01:00",
        "counterpart_identity": "Pasienten på rom 4",
        "injury_description": "Blåmerke på armen",
        "sick_leave": json.dumps({"kind": "self_certified", "days": 2}),
        "police_details": "Vurderer anmeldelse",
        "immediate_measures_text": "Avbrøt stellet",
        "narrative": narrative,
        "causes_text": "Alene på vakt",
        "people": json.dumps(
            {
                "exposed": [{"user_id": EMPLOYEE, "name": "Kari Nordmann"}],
                "witnesses": [{"user_id": None, "name": "Per Vitne"}],
                "counterpart_user_id": None,
            }
        ),
        "reporter": json.dumps({"user_id": EMPLOYEE, "name": "Kari Nordmann"}),
        "must_not_handle": json.dumps([EXCLUDED_HANDLER]),
    }
    return {
        f"{name}_sealed": key.seal(value, table="report", column=name, row=report_id)
        for name, value in values.items()
    }


def _attachment(
    connection: Connection, key: crypto.DataKey, report_id: int, att_id: int, name: str
) -> tuple[str, bytes]:
    """A file in several chunks (a PDF of random bytes), or a short text."""
    if name.endswith(".pdf"):
        content, kind = b"%PDF-1.4\n" + secrets.token_bytes(STORE_CHUNK + 4096), "application/pdf"
    else:
        content, kind = "Han sa: «Jeg vet hvor du bor.»\n".encode() * 40, "text/plain"
    put(
        connection,
        "attachment",
        {
            "id": att_id,
            "report_id": report_id,
            "created_at": datetime.now(UTC),
            "name_sealed": key.seal(name, table="attachment", column="name", row=att_id),
            "content_type": kind,
            "size": len(content),
            "added_by": "reporter",
        },
    )
    sealed = key.seal_bytes(content, table="attachment", row=att_id)
    pieces = [sealed[i : i + STORE_CHUNK] for i in range(0, len(sealed), STORE_CHUNK)]
    put(
        connection,
        "attachment_chunk",
        *({"attachment_id": att_id, "seq": n, "data": p} for n, p in enumerate(pieces)),
    )
    return name, content


def load_0002(connection: Connection, world: World) -> None:
    for report_id, confidential in ((1, False), (2, True)):
        key, wrapped = world.ring.new_data_key()
        narrative = f"Rapport {report_id}: pasienten slo meg. {secrets.token_hex(6)}"
        row = _report_row(world, report_id, wrapped, confidential=confidential)
        put(connection, "report", row | _sealed_report_fields(key, report_id, narrative))
        put(
            connection,
            "report_incident_type",
            {"report_id": report_id, "incident_type": "physical_violence"},
            {"report_id": report_id, "incident_type": "threat"},
        )
        world.narratives[report_id] = narrative
        world.files[report_id] = {}
        if report_id == 1:
            for att_id, name in ((1, "politianmeldelse.pdf"), (2, "notat.txt")):
                world.files[1][att_id] = _attachment(connection, key, 1, att_id, name)
        actor = "reporter" if confidential else f"user:{EMPLOYEE}"
        log(connection, world, "report.submit", actor, "report", report_id)
    put(connection, "reference_counter", {"prefix": "AVV", "year": world.year, "value": 2})
    world.references = 2


# -- 0003: case handling --------------------------------------------------------------


def _case_key(connection: Connection, world: World, report_id: int) -> crypto.DataKey:
    report = _table(connection, "report")
    wrapped = connection.execute(
        report.select().with_only_columns(report.c.wrapped_key).where(report.c.id == report_id)
    ).scalar_one()
    return world.ring.unwrap(wrapped)


def _case(connection: Connection, world: World, case_id: int, report_id: int, **extra: Any) -> None:
    key = _case_key(connection, world, report_id)
    feedback = f"Tilbakemelding i sak {case_id}"
    row = {
        "id": case_id,
        "report_id": report_id,
        "track": Track.HMS_DEVIATION,
        "state": CaseState.IN_PROGRESS,
        "group_id": 1,
        "assigned_user_id": HANDLER,
        "section_5_2": False,
        "follow_up_duty": True,
        "routing_warning": None,
        "forwarded_to": None,
        "causes": ["lone_work"],
        "opened_at": world.now,
        "updated_at": world.now,
        "triaged_at": world.now,
        "closed_at": None,
        "closing_note_sealed": None,
        "feedback_sealed": key.seal(feedback, table="case", column="feedback", row=case_id),
        "drop_reason_sealed": None,
        "no_follow_up_reason_sealed": None,
    }
    put(connection, "case", row | extra)
    world.case_texts[case_id] = {"report": report_id, "feedback": feedback, "messages": []}


def _case_rows(connection: Connection, world: World, case_id: int, report_id: int) -> None:
    key = _case_key(connection, world, report_id)
    soon = world.now + timedelta(days=3)
    put(
        connection,
        "case_event",
        {"case_id": case_id, "at": world.now, "kind": "opened", "codes": {}, "actor": "system"},
    )
    put(
        connection,
        "deadline",
        {"case_id": case_id, "kind": "acknowledge", "due_at": soon, "created_at": world.now},
    )
    note = f"Oppfølging avtalt i sak {case_id}"
    task_id = case_id * 10
    put(
        connection,
        "follow_up_task",
        {
            "id": task_id,
            "case_id": case_id,
            "template": "individual_talk",
            "responsible_user_id": HANDLER,
            "due_at": soon,
            "status": "open",
            "note_sealed": key.seal(note, table="follow_up_task", column="note", row=task_id),
            # Every other case shared with the safety rep (migration 0026 records them).
            "consent_to_share": case_id % 2 == 0,
            "created_at": world.now,
        },
    )
    outcome = f"Gjennomgang i sak {case_id}"
    put(
        connection,
        "debriefing",
        {
            "id": task_id,
            "case_id": case_id,
            "held_on": world.now.date(),
            "participant_roles": ["exposed_employee", "case_handler"],
            "support_offered": ["bht"],
            "outcome_sealed": key.seal(outcome, table="debriefing", column="outcome", row=task_id),
            "further_needs_sealed": None,
            # Case 1 shared by its debriefing's consent alone (migration 0026).
            "consent_to_share_summary": case_id == 1,
            "created_at": world.now,
        },
    )
    for n, internal in enumerate((False, True)):
        message_id = case_id * 10 + n
        body = f"{'Notat' if internal else 'Melding'} {message_id} i sak {case_id}"
        put(
            connection,
            "case_message",
            {
                "id": message_id,
                "case_id": case_id,
                "author_kind": Side.HANDLER,
                "author_user_id": HANDLER,
                "internal": internal,
                "body_sealed": key.seal(body, table="case_message", column="body", row=message_id),
                "created_at": world.now,
            },
        )
        world.case_texts[case_id]["messages"].append(body)
    world.case_texts[case_id] |= {"task": note, "debriefing": outcome}


def load_0003(connection: Connection, world: World) -> None:
    put(
        connection,
        "handler_group",
        {"id": 1, "name": "HMS", "is_default": True, "is_fallback": True, "created_at": world.now},
    )
    put(
        connection,
        "handler_group_member",
        {"group_id": 1, "user_id": HANDLER},
        {"group_id": 1, "user_id": EXCLUDED_HANDLER},
    )
    put(connection, "routing_rule", {"group_id": 1, "created_at": world.now})
    # Case 2 has a close time (2 days 5 hours) for the rollup's time-to-close histogram;
    # its state stays open so that the handler's queue still lists it.
    closed = {2: {"closed_at": world.now + timedelta(days=2, hours=5)}}
    for case_id, report_id in ((1, 1), (2, 2)):
        _case(connection, world, case_id, report_id, **closed.get(case_id, {}))
        _case_rows(connection, world, case_id, report_id)
        put(
            connection,
            "case_exclusion",
            {
                "case_id": case_id,
                "user_id": EXCLUDED_HANDLER,
                "reason": "named_by_reporter",
                "created_at": world.now,
            },
        )
        log(connection, world, "case.open", "system", "case", case_id)
    put(connection, "section52_check", {"case_id": 1, "required": True, "updated_at": world.now})


# -- 0004: the anonymous link ------------------------------------------------------------


def _receipt(connection: Connection, world: World, report_id: int) -> str:
    """A receipt row as reporting/anonymous.py made it at 0004; returns the code."""
    code = "".join(secrets.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(20))

    def derive(purpose: str) -> bytes:
        return crypto.key_from_secret(code, purpose, salt=world.ring.derive("receipt"))

    salt = secrets.token_bytes(16)
    receipt_id = 987_654_321
    unlock = crypto.stretched_key(
        derive("receipt:unlock"), salt=salt, time_cost=1, memory_kib=8, parallelism=1
    )
    put(
        connection,
        "anonymous_receipt",
        {
            "id": receipt_id,
            "hint": crypto.keyed_hash(world.ring.derive("receipt-hint"), code)[:4],
            "verifier": HASHER.hash(derive("receipt:verify")),
            "unlock_kdf": "argon2id:m=8,t=1,p=1",
            "unlock_salt": salt,
            "report_link": unlock.seal(
                str(report_id), table="anonymous_receipt", column="report_link", row=receipt_id
            ),
        },
    )
    return code


def load_0004(connection: Connection, world: World) -> None:
    key, wrapped = world.ring.new_data_key()
    report_id = ANONYMOUS_REPORT
    day = datetime(world.year, 1, 1, tzinfo=UTC)
    narrative = f"Varsel: lederen roper på meg. {secrets.token_hex(6)}"
    row = _report_row(
        world,
        report_id,
        wrapped,
        reference=f"VAR-{world.year}-ACDEFH",
        channel_kind=Channel.ANONYMOUS,
        created_at=day,
        confidential=True,
        owner_tag=None,
        time_band=None,
    )
    put(connection, "report", row | _sealed_report_fields(key, report_id, narrative))
    put(connection, "report_incident_type", {"report_id": report_id, "incident_type": "bullying"})
    world.narratives[report_id] = narrative
    _case(connection, world, 3, report_id, track=Track.WHISTLEBLOWING, opened_at=day)
    world.receipt = _receipt(connection, world, report_id)
    put(
        connection,
        "anonymous_throttle",
        {"kind": "submit", "network": "a" * 64, "bucket": day, "count": 1},
    )
    put(connection, "site_setting", {"key": "anonymous_enabled", "value": "true"})


# -- 0005: the anonymous reporter's messages ---------------------------------------------


def load_0005(connection: Connection, world: World) -> None:
    key = _case_key(connection, world, ANONYMOUS_REPORT)
    message_id = 555_000_001
    body = "Jeg kan fortelle mer om møtet i går."
    put(
        connection,
        "case_message",
        {
            "id": message_id,
            "case_id": 3,
            "author_kind": Side.REPORTER,
            "author_user_id": None,
            "internal": False,
            "identity": False,
            "reporter_seq": 1,
            "body_sealed": key.seal(body, table="case_message", column="body", row=message_id),
            "created_at": datetime(world.year, 1, 2, tzinfo=UTC),
        },
    )
    world.case_texts[3]["messages"].append(body)


def load_0009(connection: Connection, world: World) -> None:
    """Notifications: an in-app row sent by e-mail, preferences, escalation contacts."""
    put(
        connection,
        "notification",
        {
            "id": 1,
            "dedupe_key": "case:1:new:u2",
            "user_id": HANDLER,
            "kind": "case_new",
            "link": "/cases/1",
            "subject": "case:1",
            "created_at": world.now,
            "read_at": None,
            "mail_state": "sent",
            "mail_key": "case:1:new:u2",
            "attempts": 1,
            "next_attempt_at": None,
            "lease_owner": None,
            "lease_until": None,
            "sent_at": world.now,
            "last_error": None,
        },
    )
    put(
        connection,
        "notification_preference",
        {"user_id": EMPLOYEE, "kind": "report_update", "delivery": "digest"},
    )
    put(
        connection,
        "notification_profile",
        {
            "user_id": HANDLER,
            "language": "en",
            "digest_minute": 450,
            "away": False,
            "substitute_id": None,
        },
    )
    put(connection, "handler_group_escalation", {"group_id": 1, "user_id": ADMIN})
    put(connection, "scheduler_beat", {"owner": "host:1", "last_run_at": world.now, "last_ms": 12})


def load_0006(connection: Connection, world: World) -> None:
    """Security: server-side sessions, access changes, set-password codes, the sign-in log."""
    put(
        connection,
        "login_session",
        {"id": secrets.token_hex(32), "user_id": HANDLER, "created_at": world.now},
    )
    put(
        connection,
        "anonymous_session",
        {
            "id": secrets.token_hex(32),
            "report_link": secrets.token_bytes(60),
            "day": world.now.date(),
        },
    )
    put(
        connection,
        "access_change",
        {
            "id": 1,
            "at": world.now,
            "actor": f"user:{ADMIN}",
            "kind": "role.granted",
            "user_id": HANDLER,
            "object_type": "user",
            "object_id": str(HANDLER),
            "detail": {"role": Role.HANDLER},
        },
    )
    put(
        connection,
        "password_code",
        {
            "user_id": EMPLOYEE,
            "code_hash": secrets.token_hex(32),
            "issued_by": f"user:{ADMIN}",
            "expires_at": world.now + timedelta(hours=72),
        },
    )
    put(connection, "sign_in", {"id": 1, "user_id": HANDLER, "kind": "login", "at": world.now})


def load_0012(connection: Connection, world: World) -> None:
    """Risk assessment: an approved version with an item, a measure with an evaluation, a
    trigger, a comment, a participant, a linked case, admin levels and the scan mark."""
    today = world.now.date()
    put(
        connection,
        "risk_assessment",
        {
            "id": 1,
            "unit_id": WARD,
            "title": "Vold og trusler",
            "work_kind": None,
            "matrix_size": 5,
            "owner_id": HANDLER,
        },
    )
    put(
        connection,
        "risk_assessment_version",
        {
            "id": 1,
            "assessment_id": 1,
            "number": 1,
            "status": "approved",
            "period_start": today,
            "period_end": today + timedelta(days=365),
            "next_review": today + timedelta(days=180),
            "notes": "",
            "approved_by_id": HANDLER,
            "approved_at": world.now,
            "published_at": world.now,
            "summary_risks": "Venterommet",
            "summary_routines": "Alarm",
            "summary_contact": "Leder",
            "summary_show_levels": False,
        },
    )
    put(connection, "risk_participant", {"id": 1, "version_id": 1, "role": "leader", "name": "L"})
    put(
        connection,
        "risk_item",
        {
            "id": 1,
            "version_id": 1,
            "ref": 1,
            "hazard": "Venterommet",
            "description": "",
            "factors": ["alarms"],
            "existing_measures": "",
            "likelihood": 4,
            "consequence": 4,
            "likelihood_after": 2,
            "consequence_after": 3,
            "scope_unit_id": None,
            "scope_types": ["threat"],
            "scope_counterparts": [],
            "scope_places": ["front_desk"],
            "scope_activities": [],
            "scope_time_bands": ["evening"],
            "scope_lone_work": None,
        },
    )
    put(
        connection,
        "risk_measure",
        {
            "id": 1,
            "assessment_id": 1,
            "item_ref": 1,
            "goal": "Alarm",
            "what": "Knapper",
            "collective": True,
            "lowers": "consequence",
            "affected": "Alle",
            "responsible_id": HANDLER,
            "deadline": today,
            "status": "done",
            "done_on": today,
            "is_training": False,
            "repeat_months": None,
            "replaces_id": None,
            "soon_notified_for": today,
            "overdue_notified_for": None,
        },
    )
    put(
        connection,
        "risk_evaluation",
        {
            "id": 1,
            "measure_id": 1,
            "result": "worked",
            "evaluated_on": today,
            "evaluated_by_id": HANDLER,
            "next_step": "",
        },
    )
    put(
        connection,
        "risk_trigger",
        {
            "id": 1,
            "assessment_id": 1,
            "item_ref": 1,
            "kind": "review",
            "cause": f"review:{today.isoformat()}",
            "owner_id": HANDLER,
            "resolved_at": None,
            "resolved_by_id": None,
        },
    )
    put(
        connection,
        "risk_comment",
        {
            "id": 1,
            "version_id": 1,
            "author_id": HANDLER,
            "role": Role.SAFETY_REP,
            "kind": "statement",
            "body": "Enig",
        },
    )
    put(connection, "risk_case_link", {"case_id": 1, "assessment_id": 1, "item_ref": 1})
    put(
        connection,
        "risk_level",
        {"size": 3, "rank": 0, "min_score": 1, "colour": "#ccffcc", "name": "Lav", "demand": "-"},
        {"size": 3, "rank": 1, "min_score": 4, "colour": "#ffcccc", "name": "Høy", "demand": "!"},
    )
    put(connection, "risk_scan", {"name": "triggers", "last_at": world.now})


def load_0013(connection: Connection, world: World) -> None:
    """Retention: a legal hold on a case, a tombstone, a finished day (policies are seeded)."""
    put(
        connection,
        "legal_hold",
        {
            "id": 1,
            "case_id": 1,
            "reason": "police",
            "placed_by": f"user:{HANDLER}",
            "placed_at": world.now,
            "lifted_by": None,
            "lifted_at": None,
        },
    )
    month = world.now.date().replace(day=1)
    put(
        connection,
        "tombstone",
        {
            "id": 1,
            "report_id": 999_999,
            "reference": f"AVV-{world.year - 11}-00001",
            "opened_month": month.replace(year=world.year - 11),
            "closed_month": month.replace(year=world.year - 11),
            "deleted_month": month,
            "policy_id": 1,
            "rule": "case:hms_deviation:closed",
            "months": 120,
        },
    )
    put(
        connection,
        "retention_day",
        {"day": world.now.date(), "finished_at": world.now, "owner": "host:1", "deleted": 1},
    )


# -- 0011: the case's next open deadline, stored ---------------------------------------


def load_0011(connection: Connection, world: World) -> None:
    """A step of case 2 falls due sooner, as handling's service writes it at 0011: the
    new open deadline row and the case's next_due_at together."""
    sooner = world.now + timedelta(hours=12)
    put(
        connection,
        "deadline",
        {"case_id": 2, "kind": "leader_contact", "due_at": sooner, "created_at": world.now},
    )
    case = _table(connection, "case")
    connection.execute(update(case).where(case.c.id == 2).values(next_due_at=sooner))


def load_0010(connection: Connection, world: World) -> None:
    """Case grants: access to an existing case, given with a sealed reason."""
    key = _case_key(connection, world, 1)
    put(
        connection,
        "case_grant",
        {
            "id": 1,
            "case_id": 1,
            "user_id": HANDLER,
            "group_id": 1,
            "granted_by": f"user:{HANDLER}",
            "kind": GrantKind.GRANT,
            "reason_sealed": key.seal("Ferie", table="case_grant", column="reason", row=1),
            "created_at": world.now,
        },
    )


def load_0014(connection: Connection, world: World) -> None:
    """The handler has read one of the reporter's messages on case 1."""
    put(
        connection,
        "case_reading",
        {"case_id": 1, "user_id": HANDLER, "reporter_messages_seen": 1},
    )


def load_0017(connection: Connection, world: World) -> None:
    """The employee chose English (the locale column the account keeps at 0017)."""
    users = _table(connection, "user_account")
    connection.execute(update(users).where(users.c.id == EMPLOYEE).values(locale="en"))


def load_0018(connection: Connection, world: World) -> None:
    """The index of the accounts a report names: report 1 names the employee as exposed."""
    tag = crypto.keyed_hash(world.ring.derive("report-person"), f"user:{EMPLOYEE}")
    put(connection, "report_person", {"report_id": 1, "role": "exposed", "person_tag": tag})


# -- 0019: matrix level names and demands in nb and en -----------------------------------


def load_0019(connection: Connection, world: World) -> None:
    """A 4 × 4 preset whose levels an admin named in both languages."""
    put(
        connection,
        "risk_level",
        {
            "size": 4,
            "rank": 0,
            "min_score": 1,
            "colour": "#ccffcc",
            "name": "Lav",
            "name_en": "Low",
            "demand": "Følg med",
            "demand_en": "Keep watch",
        },
        {
            "size": 4,
            "rank": 1,
            "min_score": 8,
            "colour": "#ffcccc",
            "name": "Høy",
            "name_en": "High",
            "demand": "Stopp",
            "demand_en": "Stop",
        },
    )


def load_0021(connection: Connection, world: World) -> None:
    """A stored trend pattern: marks only, never a count."""
    marks = {"status": {"primary": [5]}, "rows": [5]}
    put(
        connection,
        "trend_pattern",
        {"key": "a" * 64, "marks": json.dumps(marks), "used_on": world.now.date()},
    )


def load_0027(connection: Connection, world: World) -> None:
    """Case 1's reporter agreed to be named to the police."""
    put(
        connection,
        "identity_consent",
        {"case_id": 1, "recipient": "police", "given_at": world.now},
    )


LOADERS: dict[str, Callable[[Connection, World], None]] = {
    "0001": load_0001,
    "0002": load_0002,
    "0003": load_0003,
    "0004": load_0004,
    "0005": load_0005,
    "0009": load_0009,
    "0006": load_0006,
    "0012": load_0012,
    "0013": load_0013,
    "0011": load_0011,
    "0010": load_0010,
    "0014": load_0014,
    "0017": load_0017,
    "0018": load_0018,
    "0019": load_0019,
    "0021": load_0021,
    "0027": load_0027,
}
