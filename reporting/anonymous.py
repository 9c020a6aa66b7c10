"""The anonymous whistleblower link: receipts, throttling, submission and follow-up.

A person without an account sends a report and gets a receipt code, shown once. With
that code alone they can come back later. The server keeps nothing that points back to
them (DOMAIN.md, chapter 2A; the issue "The anonymous whistleblower link"):

* the report is stored by reporting.service with reporter=None: dated to the day, a
  random reference and a random id, no owner;
* the receipt is kept only as a 16-bit hint, an argon2id verifier and a sealed link
  (models.AnonymousReceipt), so stored data cannot confirm a guessed code quickly;
* limits are counted per client network under a keyed hash that changes daily, never
  by address, and rows older than a day are deleted as new ones are written.

Like every service here: plain data in, domain objects out, domain exceptions; no
request, session or redirects (the follow-up session helpers take the session mapping
as an argument). Operations add and flush; the caller commits.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import math
import secrets
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from reporting import service
from reporting.models import AnonymousReceipt, AnonymousThrottle, Attachment, Report
from trygg import audit, crypto, keys, privacy, site_settings
from trygg.extensions import db, utcnow

# Crockford's base32: no I, L, O or U, so a code read aloud or written by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_LENGTH = 20  # 20 × 5 bits = 100 bits of entropy
GROUP = 4
HINT_HEX = 4  # 16 bits: narrows the rows to try, confirms nothing
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\t\r\n\u00a0\u2010\u2011\u2012\u2013\u2014")

RECEIPT_KIND = "receipt"
SUBMIT_KIND = "submit"
WINDOW = timedelta(hours=1)
RECENT = timedelta(minutes=1)
KEEP = timedelta(days=1)

# File types whose metadata the intake removes (images are re-encoded from their
# pixels) or that have none (plain text). PDF and sound files can carry an author,
# a device or a time that identify someone, so the anonymous link does not take them.
CLEANABLE_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "text/plain": ".txt",
}


class ReceiptInvalid(Exception):
    """The receipt code does not open a report. Deliberately says no more than that."""


class Throttled(Exception):
    """Too many attempts from this network; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = max(1, int(retry_after))


def enabled() -> bool:
    """Whether the anonymous link is open (the admin's choice, else the configuration)."""
    return bool(site_settings.effective("anonymous_enabled"))


def _cfg(key: str) -> int:
    return int(current_app.config["TRYGG"][key])


# -- client networks --------------------------------------------------------------------


def client_network(address: str | None) -> str:
    """The network an address belongs to: IPv4 /24 or IPv6 /48 ("unknown" if none)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _network_tag(network: str, day: datetime) -> str:
    key = keys.keyring().derive("throttle:" + day.date().isoformat())
    return crypto.keyed_hash(key, network)


def network_tags(address: str | None, now: datetime) -> list[str]:
    """Today's keyed hash of the client's network first, then yesterday's.

    The key changes every (UTC) day, so a stored tag cannot be matched to a network
    for longer than the rows are kept; windows that span midnight look up both.
    """
    network = client_network(address)
    return [_network_tag(network, now), _network_tag(network, now - timedelta(days=1))]


# -- throttle counters ------------------------------------------------------------------


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def _hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _purge(now: datetime) -> None:
    db.session.execute(delete(AnonymousThrottle).where(AnonymousThrottle.bucket < now - KEEP))


def _bump(kind: str, network: str, bucket: datetime, delta: int) -> None:
    """Add `delta` to one counter, creating it when missing (safe under concurrency)."""
    where = (
        AnonymousThrottle.kind == kind,
        AnonymousThrottle.network == network,
        AnonymousThrottle.bucket == bucket,
    )
    bump = update(AnonymousThrottle).where(*where).values(count=AnonymousThrottle.count + delta)
    if db.session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        # In a savepoint: a concurrent creator's unique-key win must not abort us.
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(AnonymousThrottle).values(
                        kind=kind, network=network, bucket=bucket, count=delta
                    )
                )
        except IntegrityError:
            db.session.execute(bump)


def _counts(kind: str, since: datetime, networks: list[str] | None) -> list[tuple[datetime, int]]:
    """(bucket, count) of one kind after `since`, oldest first; all networks if None."""
    query = (
        select(AnonymousThrottle.bucket, func.sum(AnonymousThrottle.count))
        .where(AnonymousThrottle.kind == kind, AnonymousThrottle.bucket > since)
        .group_by(AnonymousThrottle.bucket)
        .order_by(AnonymousThrottle.bucket)
    )
    if networks is not None:
        query = query.where(AnonymousThrottle.network.in_(networks))
    return [(bucket, int(count or 0)) for bucket, count in db.session.execute(query)]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds()) + 1


def _wait_for_window(rows: list[tuple[datetime, int]], limit: int, now: datetime) -> int:
    """Seconds until the count in the hour window falls below `limit` again."""
    remaining = sum(count for _, count in rows)
    for bucket, count in rows:
        remaining -= count
        if remaining < limit:
            return _seconds_until(bucket + WINDOW, now)
    return _seconds_until(now + WINDOW, now)


@dataclass(frozen=True)
class Attempt:
    """A receipt attempt counted in advance; `succeeded()` takes it back."""

    network: str
    bucket: datetime

    def succeeded(self) -> None:
        _bump(RECEIPT_KIND, self.network, self.bucket, -1)


def begin_receipt_attempt(address: str | None, now: datetime | None = None) -> Attempt:
    """Count a receipt attempt as failed in advance, or raise Throttled.

    Limits: `receipt_failures_per_hour` per network. When all networks together have
    failed `receipt_flood_failures_per_hour` times in the hour (a distributed attack), a
    network that failed within the last minute or two must also wait; a network with no
    recent failure (someone with their real code) is never held up by others.

    A refused attempt writes nothing and is not counted. An accepted one is counted
    before the code is checked: the counter row stays locked (PostgreSQL), or the
    database (SQLite), until the request commits, so parallel guesses from one network
    cannot all pass the check before any is counted; the count is checked again after.
    """
    now = now or utcnow()
    tags = network_tags(address, now)
    bucket = _minute(now)
    limit = _cfg("receipt_failures_per_hour")
    mine = _counts(RECEIPT_KIND, now - WINDOW, tags)
    if sum(count for _, count in mine) >= limit:
        raise Throttled(_wait_for_window(mine, limit, now))
    flood = sum(count for _, count in _counts(RECEIPT_KIND, now - WINDOW, None))
    if flood >= _cfg("receipt_flood_failures_per_hour"):
        recent = [(b, c) for b, c in mine if b >= bucket - RECENT and c > 0]
        if recent:
            raise Throttled(_seconds_until(recent[-1][0] + 2 * RECENT, now))
    _purge(now)
    _bump(RECEIPT_KIND, tags[0], bucket, 1)
    attempt = Attempt(tags[0], bucket)
    mine = _counts(RECEIPT_KIND, now - WINDOW, tags)
    if sum(count for _, count in mine) > limit:  # a parallel attempt came first
        attempt.succeeded()
        raise Throttled(_wait_for_window(mine, limit + 1, now))
    return attempt


def count_submission(address: str | None, now: datetime | None = None) -> None:
    """Count one anonymous report from this network, or raise Throttled.

    Counted per clock hour: a finer bucket would date the report more precisely than
    the day, for as long as the row is kept.
    """
    now = now or utcnow()
    tags = network_tags(address, now)
    bucket = _hour(now)
    limit = _cfg("anonymous_submissions_per_hour")
    since = bucket - timedelta(seconds=1)
    if sum(count for _, count in _counts(SUBMIT_KIND, since, tags)) >= limit:
        raise Throttled(_seconds_until(bucket + WINDOW, now))
    _purge(now)
    _bump(SUBMIT_KIND, tags[0], bucket, 1)
    if sum(count for _, count in _counts(SUBMIT_KIND, since, tags)) > limit:
        _bump(SUBMIT_KIND, tags[0], bucket, -1)
        raise Throttled(_seconds_until(bucket + WINDOW, now))


# -- receipt codes ----------------------------------------------------------------------


def new_receipt() -> str:
    """A fresh receipt code: 20 characters of Crockford base32 (100 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(RECEIPT_LENGTH))


def format_receipt(code: str) -> str:
    """The code in groups of four for reading and writing: K7M2-QX9P-..."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise_receipt(text: str) -> str | None:
    """The canonical code from what a person typed, or None if it cannot be one.

    Case, spaces and dashes do not matter; O reads as 0 and I or L as 1.
    """
    code = text.translate(_SEPARATORS).upper().translate(_CONFUSABLE)
    if len(code) != RECEIPT_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=_cfg("argon2_time_cost"),
        memory_cost=_cfg("argon2_memory_kib"),
        parallelism=_cfg("argon2_parallelism"),
    )


def _derive(code: str, purpose: str) -> bytes:
    # The keyring's pepper: without the keyring file, not even this step can be redone.
    return crypto.key_from_secret(code, purpose, salt=keys.keyring().derive("receipt"))


def _hint(code: str) -> str:
    return crypto.keyed_hash(keys.keyring().derive("receipt-hint"), code)[:HINT_HEX]


def _unlock_key(code: str, kdf: str, salt: bytes) -> crypto.DataKey:
    name, params = kdf.split(":", 1)
    if name != "argon2id":
        raise crypto.CryptoError("unknown receipt key derivation")
    costs = dict(part.split("=", 1) for part in params.split(","))
    return crypto.stretched_key(
        _derive(code, "receipt:unlock"),
        salt=salt,
        time_cost=int(costs["t"]),
        memory_kib=int(costs["m"]),
        parallelism=int(costs["p"]),
    )


def issue_receipt(report: Report) -> str:
    """Create the receipt that opens `report`; return the code (never stored)."""
    code = new_receipt()
    kdf = "argon2id:m={},t={},p={}".format(
        _cfg("argon2_memory_kib"), _cfg("argon2_time_cost"), _cfg("argon2_parallelism")
    )
    salt = secrets.token_bytes(16)
    row = AnonymousReceipt(
        id=privacy.random_row_id(AnonymousReceipt),
        hint=_hint(code),
        verifier=_hasher().hash(_derive(code, "receipt:verify")),
        unlock_kdf=kdf,
        unlock_salt=salt,
        report_link=b"",
    )
    db.session.add(row)
    db.session.flush()
    row.report_link = _unlock_key(code, kdf, salt).seal(
        str(report.id), table="anonymous_receipt", column="report_link", row=row.id
    )
    db.session.flush()
    return code


def _dummy_verifier() -> str:
    """A verifier no code matches, to spend the same time when no row has the hint."""
    cache: dict[str, str] = current_app.extensions.setdefault("trygg.receipt_dummy", {})
    params = "{}:{}:{}".format(
        _cfg("argon2_memory_kib"), _cfg("argon2_time_cost"), _cfg("argon2_parallelism")
    )
    if params not in cache:
        cache[params] = _hasher().hash(secrets.token_bytes(32))
    return cache[params]


def open_receipt(text: str) -> Report:
    """The anonymous report a typed receipt code opens; ReceiptInvalid otherwise."""
    code = normalise_receipt(text)
    if code is None:
        raise ReceiptInvalid()
    verify = _derive(code, "receipt:verify")
    hasher = _hasher()
    candidates = list(
        db.session.scalars(select(AnonymousReceipt).where(AnonymousReceipt.hint == _hint(code)))
    )
    if not candidates:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_verifier(), verify)
        raise ReceiptInvalid()
    for row in candidates:
        try:
            hasher.verify(row.verifier, verify)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            continue
        try:
            link = _unlock_key(code, row.unlock_kdf, row.unlock_salt).open_text(
                row.report_link, table="anonymous_receipt", column="report_link", row=row.id
            )
        except crypto.CryptoError:
            raise ReceiptInvalid() from None
        report = db.session.get(Report, int(link))
        if report is None or not report.anonymous:
            raise ReceiptInvalid()  # the report was deleted (retention)
        return report
    raise ReceiptInvalid()


# -- submitting -------------------------------------------------------------------------


@dataclass
class CleanUpload:
    """An upload with a neutral file name: names like "IMG_20261126_1432.jpg" or
    "Kari's notes.txt" could identify the reporter."""

    filename: str | None
    stream: BinaryIO


def clean_uploads(uploads: Iterable[Any], *, first: int = 1) -> list[CleanUpload]:
    """Only file types whose metadata is removed; neutral names. ReportError otherwise.

    Files are named by number from `first` on ("1.jpg", "2.txt"): files added later
    continue the report's numbering.
    """
    cleaned: list[CleanUpload] = []
    for upload in uploads:
        if not getattr(upload, "filename", None):
            continue
        stream: BinaryIO = upload.stream
        head = stream.read(4096)
        try:
            stream.seek(0)
        except (AttributeError, OSError):
            stream = io.BytesIO(head + stream.read())
        kind = service.sniff_type(head)
        if kind not in CLEANABLE_TYPES:
            raise service.ReportError(
                _l(
                    "Here you can attach pictures and plain text files only. Other files, "
                    "such as PDF documents and sound recordings, can contain hidden "
                    "information about who made them."
                ),
                field="attachments",
                status=415,
            )
        name = f"{first + len(cleaned)}{CLEANABLE_TYPES[kind]}"
        cleaned.append(CleanUpload(name, stream))
    return cleaned


def submit(
    data: dict[str, Any], *, address: str | None, uploads: Iterable[Any] = ()
) -> tuple[Report, str]:
    """Store an anonymous report and its receipt; return both (the code is shown once).

    `address` is only used to count submissions per network under a keyed hash.
    Raises Throttled, or ReportError (nothing stored) when something must be fixed.
    """
    files = clean_uploads(uploads)
    count_submission(address)
    report = service.submit_report(data, reporter=None, uploads=files)
    return report, issue_receipt(report)


def add_attachments(report: Report, uploads: Iterable[Any]) -> list[Attachment]:
    """Attach files to an anonymous report later, from the follow-up page.

    The rules of the form: pictures and plain text only, pictures stripped of metadata,
    neutral names (continuing the report's numbering), random ids, dated to today in
    Oslo. Raises ReportError, with nothing stored, when something must be fixed. The
    caller commits.
    """
    if not report.anonymous:
        raise ValueError("only anonymous reports take files through the follow-up")
    files = clean_uploads(uploads, first=len(report.attachments) + 1)
    if not files:
        return []
    limit = _cfg("attachment_max_count")
    if len(report.attachments) + len(files) > limit:
        raise service.ReportError(
            _l("A report can have at most %(num)s files.", num=limit), field="attachments"
        )
    checked = service.check_uploads(files)
    day = service.start_of_day_utc()
    key = service.data_key(report)
    stored = [
        service.store_attachment(report, key, name, kind, data, "reporter", at=day)
        for name, kind, data in checked
    ]
    db.session.expire(report, ["attachments"])
    audit.record(
        "report.attach",
        actor="reporter",
        object_type="report",
        object_id=report.id,
        detail={"count": len(stored)},
        at=day,
    )
    return stored


def start_follow_up(text: str, *, address: str | None) -> Report:
    """Check a receipt code within the limits; the report it opens.

    Raises Throttled, or ReceiptInvalid after counting the failure; the caller must
    commit in both the failure and the success case.
    """
    attempt = begin_receipt_attempt(address)
    report = open_receipt(text)
    attempt.succeeded()
    return report


# -- the follow-up session --------------------------------------------------------------

SESSION_REPORT = "anon_report"
SESSION_SEEN = "anon_seen"


def begin_session(store: MutableMapping[str, Any], report: Report) -> None:
    """Start an anonymous follow-up session in `store` (Flask's session).

    The session is cleared first: it grants the one report and nothing else, and no
    login or earlier state travels with it. The language choice is kept.
    """
    lang = store.get("lang")
    store.clear()
    if lang:
        store["lang"] = lang
    store[SESSION_REPORT] = report.id
    store[SESSION_SEEN] = datetime.now(UTC).timestamp()


def session_report(store: MutableMapping[str, Any]) -> Report | None:
    """The report of an active follow-up session; ends it after the idle time."""
    report_id = store.get(SESSION_REPORT)
    seen = store.get(SESSION_SEEN)
    if report_id is None:
        return None
    now = datetime.now(UTC).timestamp()
    idle = timedelta(minutes=_cfg("anonymous_idle_minutes")).total_seconds()
    if not isinstance(seen, int | float) or now - seen > idle:
        end_session(store)
        return None
    report = db.session.get(Report, report_id)
    if report is None or not report.anonymous:
        end_session(store)
        return None
    store[SESSION_SEEN] = now
    return report


def end_session(store: MutableMapping[str, Any]) -> None:
    """End the follow-up session."""
    store.pop(SESSION_REPORT, None)
    store.pop(SESSION_SEEN, None)
