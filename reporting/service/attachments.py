"""Attachments: type sniffing, size and count limits, image metadata stripped, files
sealed in chunks and streamed back."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_ngettext
from sqlalchemy import select

from reporting.errors import ReportError
from reporting.models import (
    Attachment,
    AttachmentChunk,
    Report,
)
from reporting.service.base import READ_CHUNK, STORE_CHUNK, Upload, data_key
from trygg import crypto, privacy, sealing
from trygg.extensions import db, utcnow
from trygg.i18n import lazy_gettext as _l

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

    Pillow is imported here, on the first image, not with the module: most requests a
    web worker serves carry no image (issue 17, memory per worker).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

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
    attachment.name_sealed = sealing.seal(key, attachment, "name", name)
    buffer = bytearray()
    seq = 0
    source = (data[i : i + READ_CHUNK] for i in range(0, len(data), READ_CHUNK))
    for piece in sealing.seal_stream(key, attachment, source):
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

    return sealing.open_stream(key, Attachment, sealed_chunks(), row=attachment_id)


def attachment_name(report: Report, attachment: Attachment) -> str:
    return sealing.open_text(data_key(report), attachment, "name", attachment.name_sealed)


# The extensions a saved file may keep for each detected type; any other name gets the
# first one added, so a text file named "x.html" is never opened as a web page.
SAVED_EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/mpeg": (".mp3",),
    "audio/flac": (".flac",),
    "audio/wav": (".wav",),
    "audio/mp4": (".m4a", ".m4b"),
    "text/plain": (".txt",),
}


def saved_name(name: str, content_type: str) -> str:
    """The name to save a download under: its extension matches what it really is."""
    allowed = SAVED_EXTENSIONS.get(content_type, (".bin",))
    return name if name.lower().endswith(allowed) else name + allowed[0]
