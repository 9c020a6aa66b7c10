"""Intake operations: submit a report, list and open one's own reports, attachments.

Everything a report holds that is not coarse classification is sealed here, with the
report's own data key, before it reaches the session. Operations add and flush; the
request (or CLI command) commits once, so a failure anywhere leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any, Protocol
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from reporting import codes
from reporting.models import (
    SEALED_FIELDS,
    Attachment,
    AttachmentChunk,
    ReferenceCounter,
    Report,
    ReportIncidentType,
    sealed_columns,
)
from trygg import audit, crypto, keys, org, paging, privacy
from trygg.accounts.models import Membership, User, UserRole
from trygg.database import stored
from trygg.extensions import db, utcnow
from trygg.signals import report_submitted

keys.register_wrapped_key_column(Report.wrapped_key)

OSLO = ZoneInfo("Europe/Oslo")
READ_CHUNK = 64 * 1024
STORE_CHUNK = 1024 * 1024


class ReportError(Exception):
    """A report was refused; `field` names the input to fix, the message says how."""

    def __init__(self, message: object, field: str = "_request", status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class ReportNotFound(Exception):
    """No such report, or not one the caller may see (the two are not distinguished)."""


class Upload(Protocol):
    """What an uploaded file must offer (werkzeug's FileStorage does)."""

    @property
    def filename(self) -> str | None: ...

    @property
    def stream(self) -> IO[bytes]: ...


@dataclass(frozen=True)
class StoredFile:
    id: int
    name: str
    content_type: str
    size: int


@dataclass
class ReportContent:
    """A report with its sealed fields opened, for display."""

    report: Report
    fields: dict[str, Any]
    attachments: list[StoredFile] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "id": r.id,
            "reference": r.reference,
            "created_at": r.created_at,
            "incident_types": r.incident_types,
            "status": r.status,
            "confidential": r.confidential,
            "occurred_month": r.occurred_month,
            "time_band": r.time_band,
            "unit_id": r.unit_id,
            "place_type": r.place_type,
            "channel": r.channel,
            "counterpart_category": r.counterpart_category,
            "lone_work": r.lone_work,
            "activity": r.activity,
            "severity": r.severity,
            "injury_level": r.injury_level,
            "serious_injury": r.serious_injury,
            "police_report": r.police_report,
            "immediate_measures": r.immediate_measures,
            "causes": r.causes,
            "on_behalf": r.on_behalf,
            **self.fields,
            "attachments": [a.__dict__ for a in self.attachments],
        }


# -- time -------------------------------------------------------------------------------


def time_band(moment: datetime) -> str:
    """Day 07–15, evening 15–23, night 23–07, in Oslo time."""
    hour = moment.astimezone(OSLO).hour
    if 7 <= hour < 15:
        return "day"
    if 15 <= hour < 23:
        return "evening"
    return "night"


def month_of(moment: datetime) -> date:
    local = moment.astimezone(OSLO)
    return date(local.year, local.month, 1)


def start_of_day_utc(moment: datetime | None = None) -> datetime:
    """Midnight (Oslo) of the given moment's day, in UTC: the only time anonymous data keeps."""
    local = (moment or utcnow()).astimezone(OSLO)
    midnight = datetime(local.year, local.month, local.day, tzinfo=OSLO)
    return midnight.astimezone(UTC)


# -- owners and references --------------------------------------------------------------


def owner_tag(user: User) -> str:
    """A keyed hash naming the submitter; unlinkable to a user without the keyring."""
    return crypto.keyed_hash(keys.keyring().derive("report-owner"), f"user:{user.id}")


def next_reference(prefix: str, year: int) -> str:
    """The next sequential reference, e.g. AVV-2026-00042, safe under concurrency.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite) until commit,
    so two transactions never get the same number.
    """
    counter = ReferenceCounter.__table__  # Core: no ORM bulk-update work in the hot path
    bump = (
        update(counter)
        .where(counter.c.prefix == prefix, counter.c.year == year)
        .values(value=counter.c.value + 1)
        .returning(counter.c.value)
    )
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:
        # First report of the year: create the counter in a savepoint, so a concurrent
        # creator's unique-constraint win does not abort our transaction.
        with contextlib.suppress(IntegrityError), db.session.begin_nested():
            db.session.add(ReferenceCounter(prefix=prefix, year=year, value=0))
        value = db.session.execute(bump).scalar_one()
    return f"{prefix}-{year}-{value:05d}"


_SEALED_COLUMNS = {f"{name}_sealed": None for name in SEALED_FIELDS}


@functools.cache
def _statements() -> dict[str, Any]:
    """The intake's hot statements, built once with named parameters.

    A statement object reused is neither rebuilt nor re-keyed for SQLAlchemy's compiled
    cache on every report; that work cost more than the database round trip.
    """
    table = Report.__table__
    sealed: dict[str, Any] = {column: bindparam(f"v_{column}") for column in _SEALED_COLUMNS}
    # PostgreSQL: the counter's UPDATE as a CTE of the report's UPDATE. The new value is
    # formatted as f"{value:05d}" (zero-padded to five digits, never cut); a year without
    # a counter updates no row.
    assignments = ", ".join(f"{column} = :v_{column}" for column in _SEALED_COLUMNS)
    # The column names interpolated are the model's own constants (SEALED_FIELDS).
    take_and_write = text(
        "WITH bumped AS (UPDATE reference_counter SET value = value + 1"  # noqa: S608
        " WHERE prefix = :prefix AND year = :year RETURNING value)"
        " UPDATE report SET reference = :start || CASE WHEN bumped.value < 100000"
        " THEN lpad(CAST(bumped.value AS varchar), 5, '0')"
        " ELSE CAST(bumped.value AS varchar) END, "
        + assignments
        + " FROM bumped WHERE report.id = :report_id RETURNING report.reference"
    )
    return {
        "insert": insert(table).returning(table.c.id),
        "insert_types": insert(ReportIncidentType.__table__),
        "write": update(table)
        .where(table.c.id == bindparam("report_id"))
        .values({**sealed, "reference": bindparam("v_reference")}),
        "take_and_write": take_and_write,
    }


def _store_reference(report: Report, year: int, sealed: dict[str, Any]) -> str:
    """Take the report's reference and write it with its sealed fields; return it.

    On PostgreSQL a sequential reference is taken and written in one statement (the
    counter's UPDATE is a CTE of the report's UPDATE), unless the year has no counter
    yet: then, as on SQLite, next_reference takes it first.
    """
    statements = _statements()
    params = {f"v_{column}": value for column, value in {**_SEALED_COLUMNS, **sealed}.items()}
    params["report_id"] = report.id
    connection = db.session.connection()
    if not report.anonymous and connection.dialect.name == "postgresql":
        taken = connection.execute(
            statements["take_and_write"],
            {**params, "prefix": "AVV", "year": year, "start": f"AVV-{year}-"},
        ).scalar_one_or_none()
        if taken is not None:
            return str(taken)
    reference = random_reference("VAR", year) if report.anonymous else next_reference("AVV", year)
    connection.execute(statements["write"], {**params, "v_reference": reference})
    return reference


_REF_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"


def random_reference(prefix: str, year: int) -> str:
    """A non-sequential reference (anonymous reports: order within a day is not kept)."""
    while True:
        suffix = "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
        reference = f"{prefix}-{year}-{suffix}"
        if db.session.scalar(select(Report.id).where(Report.reference == reference)) is None:
            return reference


# -- sealing ----------------------------------------------------------------------------


# The data key submit_report made, kept on the Report object (a plain attribute, never
# stored) beside the wrapped key it belongs to, so the case opened in the same request
# does not unwrap it again. It is used only while the row still holds that wrapped key:
# a shredded or re-wrapped key is unwrapped (or refused) as usual.
_DATA_KEY_ATTR = "_trygg_data_key"


def data_key(report: Report) -> crypto.DataKey:
    cached = getattr(report, _DATA_KEY_ATTR, None)
    if cached is not None and report.wrapped_key is not None and cached[0] == report.wrapped_key:
        key: crypto.DataKey = cached[1]
        return key
    return keys.keyring().unwrap(report.wrapped_key)


def seal_value(key: crypto.DataKey, report_id: int, name: str, value: Any) -> bytes | None:
    """One field sealed for one report row (None for an empty value)."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return key.seal(text, table="report", column=name, row=report_id)


def _seal(key: crypto.DataKey, report: Report, name: str, value: Any) -> None:
    report.set_sealed(name, seal_value(key, report.id, name, value))


def _open(key: crypto.DataKey, report: Report, name: str, as_json: bool = False) -> Any:
    blob = report.sealed(name)
    if blob is None:
        return None
    text = key.open_text(blob, table="report", column=name, row=report.id)
    return json.loads(text) if as_json else text


# -- attachments ------------------------------------------------------------------------

_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"\xff\xfb", 0, "audio/mpeg"),
    (b"\xff\xf3", 0, "audio/mpeg"),
    (b"fLaC", 0, "audio/flac"),
]
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


def sniff_type(head: bytes) -> str | None:
    """The file type from its first bytes; None if not on the allow-list."""
    for magic, offset, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp" and head[8:12] in (b"M4A ", b"M4B "):
        return "audio/mp4"
    if _is_text(head):
        return "text/plain"
    return None


# Control characters that plain text holds: tab, line feed, form feed, carriage return.
_TEXT_CONTROLS = frozenset("\t\n\x0c\r")


def _is_text(head: bytes) -> bool:
    """Plain text in UTF-8 or Windows-1252, with no control characters but tabs and
    line breaks (which sets text apart from binary data).

    Windows-1252 is what older Windows programs save Norwegian text in ("Ærlig talt").
    """
    if not head:
        return False
    try:
        # A multi-byte character cut at the end of the sample is still text.
        return _plain(head.decode("utf-8", errors="ignore" if _cut_at_end(head) else "strict"))
    except UnicodeDecodeError:
        pass
    try:
        return _plain(head.decode("cp1252"))
    except UnicodeDecodeError:
        return False


def _cut_at_end(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3
    return False


def _plain(text: str) -> bool:
    # Cc: the C0 and C1 controls and DEL (U+009B is a terminal's one-character ESC [).
    return all(c in _TEXT_CONTROLS or unicodedata.category(c) != "Cc" for c in text)


# Larger images are refused rather than decoded: a small compressed file can expand to
# gigabytes of pixels. 40 megapixels is more than phone cameras deliver by default.
MAX_IMAGE_PIXELS = 40_000_000


def strip_image_metadata(data: bytes, content_type: str) -> bytes:
    """Re-encode an image from its pixels only: EXIF (GPS, device, time) is dropped.

    The pixels are turned upright first (the EXIF orientation tag goes with the rest),
    and copied into a new image in C, never through Python lists (a phone photo would
    take a gigabyte that way).
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ReportError(
                    _l(
                        "The image is too large (%(mp)s megapixels). Attach a smaller image.",
                        mp=round(width * height / 1_000_000),
                    ),
                    field="attachments",
                    status=413,
                )
            image.load()
            # exif_transpose copies the image: only pay for that when it is turned.
            turned = image.getexif().get(0x0112, 1) in range(2, 9)
            upright = (ImageOps.exif_transpose(image) or image) if turned else image
            clean = Image.new(upright.mode, upright.size)
            clean.paste(upright)
            if upright.mode == "P" and upright.getpalette():
                clean.putpalette(upright.getpalette() or [])
            options: dict[str, Any] = {}
            if content_type == "image/jpeg":
                options = {"quality": 92}
            elif "transparency" in upright.info and upright.mode in ("P", "L", "RGB"):
                options = {"transparency": upright.info["transparency"]}
            out = io.BytesIO()
            clean.save(out, format=IMAGE_FORMATS[content_type], **options)
            return out.getvalue()
    except Image.DecompressionBombError:
        # Pillow's own, higher limit, checked while opening: the size is not known here.
        raise ReportError(
            _l("The image is too large. Attach a smaller image."),
            field="attachments",
            status=413,
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ReportError(
            _l("The image could not be read. Try another file."), field="attachments"
        ) from None


def _read_limited(upload: Upload, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = upload.stream.read(READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise ReportError(
                _l(
                    "The file %(name)s is larger than %(mb)s MB. Attach a smaller file.",
                    name=_display_name(upload),
                    mb=limit // 1_000_000,
                ),
                field="attachments",
                status=413,
            )
        parts.append(chunk)
    return b"".join(parts)


def _display_name(upload: Upload) -> str:
    """The file's own name as stored and shown: no folders, no control or format
    characters (a right-to-left override in "bilde\u202egnp.exe" would show it as
    "bildeexe.png"), at most 200 characters."""
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf"}).strip()
    return name[:200] or "file"


def selected_files(uploads: Iterable[Upload]) -> list[Upload]:
    """The uploads that carry a file (a form's empty file input sends a nameless part).

    Raises ReportError when there are more than the allowed number.
    """
    cfg = current_app.config["TRYGG"]
    files = [u for u in uploads if u.filename]
    if len(files) > cfg["attachment_max_count"]:
        raise ReportError(
            lazy_ngettext(
                "Attach at most %(num)s file.",
                "Attach at most %(num)s files.",
                cfg["attachment_max_count"],
            ),
            field="attachments",
        )
    return files


def check_upload(upload: Upload) -> tuple[str, str, bytes]:
    """Read, type-check and clean one upload: (name, content type, bytes).

    Raises ReportError naming what to fix. Only one file is held in memory at a time.
    """
    data = _read_limited(upload, current_app.config["TRYGG"]["attachment_max_bytes"])
    if not data:
        raise ReportError(
            _l("The file %(name)s is empty.", name=_display_name(upload)), field="attachments"
        )
    kind = sniff_type(data[:4096])
    if kind is None:
        raise ReportError(
            _l(
                "The file %(name)s is not an allowed type. Attach images, PDF, sound "
                "recordings or plain text.",
                name=_display_name(upload),
            ),
            field="attachments",
            status=415,
        )
    if kind in IMAGE_FORMATS:
        data = strip_image_metadata(data, kind)
    return _display_name(upload), kind, data


def check_uploads(uploads: Iterable[Upload]) -> list[tuple[str, str, bytes]]:
    """Check every upload at once (for callers that need all files before storing)."""
    return [check_upload(u) for u in selected_files(uploads)]


def store_attachment(
    report: Report,
    key: crypto.DataKey,
    name: str,
    kind: str,
    data: bytes,
    added_by: str,
    *,
    at: datetime | None = None,
) -> Attachment:
    """Seal and store one checked file, in chunks, in the current transaction.

    `at` dates it (an anonymous report's files added later: the day); by default an
    anonymous report's files take the report's day, others the current time.
    """
    attachment = Attachment(
        # An anonymous report's attachments get random ids too (see trygg/privacy.py).
        id=privacy.new_row_id(Attachment, unordered=report.anonymous),
        report_id=report.id,
        name_sealed=b"",
        content_type=kind,
        size=len(data),
        added_by=added_by,
        created_at=at or (report.created_at if report.anonymous else utcnow()),
    )
    db.session.add(attachment)
    db.session.flush()
    attachment.name_sealed = key.seal(name, table="attachment", column="name", row=attachment.id)
    buffer = bytearray()
    seq = 0
    source = (data[i : i + READ_CHUNK] for i in range(0, len(data), READ_CHUNK))
    for piece in key.seal_stream(source, table="attachment", row=attachment.id):
        buffer.extend(piece)
        while len(buffer) >= STORE_CHUNK:
            db.session.add(
                AttachmentChunk(
                    attachment_id=attachment.id, seq=seq, data=bytes(buffer[:STORE_CHUNK])
                )
            )
            del buffer[:STORE_CHUNK]
            seq += 1
    if buffer:
        db.session.add(AttachmentChunk(attachment_id=attachment.id, seq=seq, data=bytes(buffer)))
    db.session.flush()
    return attachment


def attachment_stream(report: Report, attachment: Attachment) -> Iterator[bytes]:
    """The decrypted content, chunk by chunk; CryptoError if anything was altered."""
    key = data_key(report)
    # Kept apart from the object: a caller may end the transaction between chunks,
    # which expires the object's attributes.
    attachment_id = attachment.id

    def sealed_chunks() -> Iterator[bytes]:
        seq = 0
        while True:
            chunk = db.session.scalar(
                select(AttachmentChunk.data).where(
                    AttachmentChunk.attachment_id == attachment_id, AttachmentChunk.seq == seq
                )
            )
            if chunk is None:
                return
            yield chunk
            seq += 1

    return key.open_stream(sealed_chunks(), table="attachment", row=attachment_id)


def attachment_name(report: Report, attachment: Attachment) -> str:
    return data_key(report).open_text(
        attachment.name_sealed, table="attachment", column="name", row=attachment.id
    )


# -- people to pick from ---------------------------------------------------------------


def employees_led_by(manager: User) -> list[User]:
    """Active users in the units (and sub-units) the manager leads, not the manager."""
    unit_ids: set[int] = set()
    for unit in manager.managed_units:
        unit_ids |= org.subtree_ids(unit.id)
    if not unit_ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id != manager.id,
                User.id.in_(select(Membership.user_id).where(Membership.unit_id.in_(unit_ids))),
            )
            .order_by(User.name, User.id)
        )
    )


def handlers() -> list[User]:
    """Active case handlers, whom a reporter may name as people who must not handle."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(select(UserRole.user_id).where(UserRole.role == "handler")),
            )
            .order_by(User.name, User.id)
        )
    )


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


def _insert_report(row_id: int | None, values: dict[str, Any], incident_types: list[str]) -> Report:
    """INSERT a new report and its incident types (Core: no unit-of-work flush), and
    put the matching object in the session as already stored.

    Every column is given, so the object needs no read-back; the sealed columns start
    empty and are written with the reference at the end of submit_report. The
    reference starts as a unique stand-in until the real one is taken, last.
    """
    statements = _statements()
    row = {**values, **_SEALED_COLUMNS}
    if row_id is not None:
        row["id"] = row_id
    connection = db.session.connection()
    report_id = connection.execute(statements["insert"], row).scalar_one()
    connection.execute(
        statements["insert_types"],
        [{"report_id": report_id, "incident_type": t} for t in incident_types],
    )
    row["id"] = report_id
    type_rows = [
        stored(ReportIncidentType, {"report_id": report_id, "incident_type": t})
        for t in incident_types
    ]
    report = stored(Report, row)
    set_committed_value(report, "incident_type_rows", type_rows)
    set_committed_value(report, "attachments", [])
    db.session.add(report)  # attached as persistent (cascading to its types): no SQL
    return report


def submit_report(
    data: dict[str, Any],
    *,
    reporter: User | None,
    uploads: Iterable[Upload] = (),
) -> Report:
    """Validate references, seal and store a report with its attachments; signal it.

    `data` comes from ReportSchema (or the anonymous schema). `reporter` is None for the
    anonymous link. Raises ReportError when something must be fixed; files are checked
    one at a time while storing, so the caller must roll back (the request boundary
    does) and then nothing is stored.
    """
    anonymous = reporter is None
    files = selected_files(uploads)
    unit = None
    if data.get("unit_id") is not None:
        unit = org.get_unit(data["unit_id"])
        if unit is None:
            raise ReportError(_l("Choose a unit from the list."), field="unit_id")
    occurred: datetime = data["occurred_at"]
    on_behalf_of = None
    if data.get("on_behalf_of_user_id") is not None:
        if reporter is None or not reporter.has_role("manager"):
            raise ReportError(
                _l("Only a manager can report on behalf of an employee."),
                field="on_behalf_of_user_id",
            )
        on_behalf_of = db.session.get(User, data["on_behalf_of_user_id"])
        if on_behalf_of is None or on_behalf_of not in employees_led_by(reporter):
            raise ReportError(_l("Pick the employee from the list."), field="on_behalf_of_user_id")
    exposed = [_person(p, "exposed") for p in data.get("exposed", [])]
    witnesses = [_person(p, "witnesses") for p in data.get("witnesses", [])]
    if on_behalf_of is not None and all(p["user_id"] != on_behalf_of.id for p in exposed):
        exposed.insert(0, {"user_id": on_behalf_of.id, "name": on_behalf_of.name})
    if reporter is not None and on_behalf_of is None and not exposed:
        # An employee reporting for themselves is the exposed employee.
        exposed = [{"user_id": reporter.id, "name": reporter.name}]
    for user_id in data.get("must_not_handle", []):
        if db.session.get(User, user_id) is None:
            raise ReportError(_l("Pick people from the list."), field="must_not_handle")
    if (
        data.get("counterpart_user_id") is not None
        and db.session.get(User, data["counterpart_user_id"]) is None
    ):
        raise ReportError(_l("Pick the person from the list."), field="counterpart_user_id")

    ring = keys.keyring()
    key, wrapped = ring.new_data_key()
    now = start_of_day_utc() if anonymous else utcnow()
    year = now.astimezone(OSLO).year
    sick_leave = data.get("sick_leave", "none")
    values: dict[str, Any] = {
        "reference": f"pending-{secrets.token_hex(12)}",
        "channel_kind": "anonymous" if anonymous else "employee",
        "created_at": now,
        "status": "submitted",
        "confidential": anonymous or bool(data.get("confidential")),
        "owner_tag": None if reporter is None else owner_tag(reporter),
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
        "has_sick_leave": sick_leave != "none",
        "police_report": data.get("police_report", "no"),
        "immediate_measures": sorted(set(data.get("immediate_measures", []))),
        "causes": sorted(set(data.get("causes", []))),
        "on_behalf": on_behalf_of is not None,
    }
    report = _insert_report(
        # Random for anonymous reports: a sequential id would tell their order in the day.
        privacy.new_row_id(Report, unordered=anonymous),
        values,
        sorted(set(data["incident_types"])),
    )
    setattr(report, _DATA_KEY_ATTR, (wrapped, key))

    occurred_text = (
        occurred.astimezone(OSLO).date().isoformat() if anonymous else occurred.isoformat()
    )
    sealed: dict[str, bytes | str | None] = {}  # column → value; the reference joins last

    def seal(name: str, value: Any) -> None:
        sealed[f"{name}_sealed"] = seal_value(key, report.id, name, value)

    seal("occurred_at", occurred_text)
    seal("counterpart_identity", data.get("counterpart_identity"))
    seal("injury_description", data.get("injury_description"))
    if sick_leave != "none":
        seal("sick_leave", {"kind": sick_leave, "days": data.get("sick_leave_days")})
    seal("police_details", data.get("police_details"))
    seal("immediate_measures_text", data.get("immediate_measures_text"))
    seal("narrative", data["narrative"])
    seal("causes_text", data.get("causes_text"))
    seal(
        "people",
        {
            "exposed": exposed,
            "witnesses": witnesses,
            "counterpart_user_id": data.get("counterpart_user_id"),
        },
    )
    if reporter is not None:
        seal("reporter", {"user_id": reporter.id, "name": reporter.name})
    seal("must_not_handle", sorted(set(data.get("must_not_handle", []))))

    added_by = "reporter"
    for upload in files:
        # One file at a time: a refusal midway raises, and the caller's rollback
        # (the request boundary) leaves nothing stored.
        name, kind, content = check_upload(upload)
        store_attachment(report, key, name, kind, content, added_by)
        del content
    if files:
        # The report was placed in the session with no attachments; load them when read.
        db.session.expire(report, ["attachments"])

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
    reference = _store_reference(report, year, sealed)
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


def reporter_actor(report: Report, user: User | None) -> str:
    """How the reporter appears in the audit log.

    A confidential or anonymous reporter appears as "reporter", never as a user id: the
    log is not sealed, and must not link them to their report.
    """
    if user is None or report.confidential:
        return "reporter"
    return f"user:{user.id}"


# -- reading ----------------------------------------------------------------------------


def reports_of(
    user: User, *, limit: int = paging.DEFAULT_PAGE_SIZE, after: tuple[Any, ...] | None = None
) -> paging.Page[Report]:
    """A page of the user's own reports, newest first; `after` is the last one's (id,)."""
    query = (
        select(Report)
        .where(Report.owner_tag == owner_tag(user))
        .order_by(Report.id.desc())
        .limit(limit + 1)
        .options(lazyload(Report.attachments), *(defer(c) for c in sealed_columns()))
    )
    if after is not None:
        query = query.where(Report.id < after[0])
    rows = list(db.session.scalars(query))
    return paging.page_of(rows, limit, lambda r: (r.id,))


MAX_ID = 2**31 - 1


def get_report(report_id: int) -> Report | None:
    # Ids beyond 32 bits (from a URL) would make the database driver fail, not miss.
    if not 0 < report_id <= MAX_ID:
        return None
    return db.session.get(Report, report_id)


def own_report(user: User, report_id: int) -> Report:
    """One of the user's own reports; ReportNotFound for anyone else's or none."""
    report = get_report(report_id)
    if report is None or report.owner_tag is None or report.owner_tag != owner_tag(user):
        raise ReportNotFound()
    return report


def is_owner(user: User, report: Report) -> bool:
    return report.owner_tag is not None and report.owner_tag == owner_tag(user)


def open_report(report: Report, *, actor: str, part: str = "report") -> ReportContent:
    """Decrypt a report's sealed fields; writes an audit entry (who, which, what part)."""
    key = data_key(report)
    sick = _open(key, report, "sick_leave", as_json=True) or {"kind": "none", "days": None}
    people = _open(key, report, "people", as_json=True) or {}
    occurred_text = _open(key, report, "occurred_at")
    fields = {
        "occurred_at": datetime.fromisoformat(occurred_text) if occurred_text else None,
        "counterpart_identity": _open(key, report, "counterpart_identity"),
        "counterpart_user_id": people.get("counterpart_user_id"),
        "injury_description": _open(key, report, "injury_description"),
        "sick_leave": sick["kind"],
        "sick_leave_days": sick.get("days"),
        "police_details": _open(key, report, "police_details"),
        "immediate_measures_text": _open(key, report, "immediate_measures_text"),
        "narrative": _open(key, report, "narrative") or "",
        "causes_text": _open(key, report, "causes_text"),
        "exposed": people.get("exposed", []),
        "witnesses": people.get("witnesses", []),
    }
    files = [
        StoredFile(a.id, attachment_name(report, a), a.content_type, a.size)
        for a in report.attachments
    ]
    audit.record(
        "report.read", actor=actor, object_type="report", object_id=report.id, detail={"part": part}
    )
    return ReportContent(report=report, fields=fields, attachments=files)


def reporter_identity(report: Report) -> dict[str, Any] | None:
    """The sealed reporter record ({user_id, name}); callers decide who may see it."""
    return _open(data_key(report), report, "reporter", as_json=True)


def involved_user_ids(report: Report) -> dict[str, set[int]]:
    """User ids named in the report, by role (for conflict-of-interest checks)."""
    key = data_key(report)
    people = _open(key, report, "people", as_json=True) or {}
    must_not = _open(key, report, "must_not_handle", as_json=True) or []
    reporter = _open(key, report, "reporter", as_json=True) or {}
    return {
        "exposed": {p["user_id"] for p in people.get("exposed", []) if p.get("user_id")},
        "witnesses": {p["user_id"] for p in people.get("witnesses", []) if p.get("user_id")},
        "counterpart": {people["counterpart_user_id"]}
        if people.get("counterpart_user_id")
        else set(),
        "must_not_handle": set(must_not),
        "reporter": {reporter["user_id"]} if reporter.get("user_id") else set(),
    }


def open_attachment(
    report: Report, attachment_id: int, *, actor: str
) -> tuple[StoredFile, Iterator[bytes]]:
    """An attachment's name, type and size, and its decrypted content as a stream.

    Writes an audit entry (who, which report, which file). ReportNotFound if the report
    has no such attachment; CryptoError (while streaming) if anything was altered.
    """
    attachment = find_attachment(report, attachment_id)
    info = StoredFile(
        attachment.id,
        attachment_name(report, attachment),
        attachment.content_type,
        attachment.size,
    )
    audit.record(
        "report.read",
        actor=actor,
        object_type="report",
        object_id=report.id,
        detail={"part": "attachment", "attachment": attachment.id},
    )
    return info, attachment_stream(report, attachment)


def find_attachment(report: Report, attachment_id: int) -> Attachment:
    for attachment in report.attachments:
        if attachment.id == attachment_id:
            return attachment
    raise ReportNotFound()


def set_status(report: Report, status: str) -> None:
    """Update the reporter-visible status (called by case handling)."""
    report.status = status
    db.session.flush()
