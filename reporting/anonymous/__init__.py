"""The anonymous whistleblower link: submission, receipts, throttling and follow-up.

A person without an account sends a report and gets a receipt code, shown once. With
that code alone they can come back later. The server keeps nothing that points back to
them (DOMAIN.md, chapter 2A; the issue "The anonymous whistleblower link"):

* the report is stored by reporting.service with reporter=None: dated to the day, a
  random reference and a random id, no owner;
* the receipt is kept only as a 16-bit hint, an argon2id verifier and a sealed link
  (receipts.py), so stored data cannot confirm a guessed code quickly;
* limits are counted per client network under a keyed hash that changes daily, never
  by address, and rows older than a day are deleted as new ones are written
  (throttling.py);
* the follow-up session grants one report (session.py).

This module holds submitting and adding files, and is the one name the views import
the rest by. Like every service here: plain data in, domain objects out, domain
exceptions; no request, session or redirects (the follow-up session helpers take the
session mapping as an argument). Operations add and flush; the caller commits.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask import current_app

from reporting import service
from reporting.anonymous.receipts import (
    RECEIPT_LENGTH,
    ReceiptInvalid,
    format_receipt,
    issue_receipt,
    new_receipt,
    normalise_receipt,
    open_receipt,
)
from reporting.anonymous.session import begin_session, end_session, session_report
from reporting.anonymous.throttling import (
    Throttled,
    begin_receipt_attempt,
    client_network,
    count_submission,
    network_tags,
)
from reporting.codes import REPORTER_ACTOR
from reporting.models import Attachment, Report
from trygg import audit
from trygg.anonymous_link import enabled
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

__all__ = [
    "CLEANABLE_TYPES",
    "RECEIPT_LENGTH",
    "CleanUpload",
    "ReceiptInvalid",
    "Throttled",
    "add_attachments",
    "begin_receipt_attempt",
    "begin_session",
    "clean_uploads",
    "client_network",
    "enabled",
    "end_session",
    "format_receipt",
    "network_tags",
    "new_receipt",
    "normalise_receipt",
    "open_receipt",
    "session_report",
    "start_follow_up",
    "submit",
]

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
    limit = int(current_app.config["TRYGG"]["attachment_max_count"])
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
        actor=REPORTER_ACTOR,
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
