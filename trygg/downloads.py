"""Downloads of sealed files: saved by the browser, never shown, streamed as they open.

One place for what every download of a sealed file needs (a report's attachment, from
the reporter's page, the case page or the API): a HEAD request is refused before any
file is opened (Flask answers HEAD on every GET route; here it would decrypt and audit a
download whose content is never sent), the first piece is opened before any header is
sent, each later piece ends its read transaction, and the headers make the browser save
the file under an RFC 6266 name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import NamedTuple
from urllib.parse import quote

from flask import Response, abort, current_app, request, stream_with_context

from trygg import crypto
from trygg.extensions import db


class Download(NamedTuple):
    """A file to send: the name to save it under, its size, its decrypted pieces."""

    name: str
    size: int
    pieces: Iterator[bytes]


def download_headers(name: str, size: int) -> dict[str, str]:
    """Headers that make a browser save the file, never show it (RFC 6266 names)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]+", "_", ascii_name).strip(" .") or "attachment"
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "Content-Type": "application/octet-stream",
        "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff",
    }


def sealed_download(open_file: Callable[[], Download]) -> Response:
    """The response for a sealed file; `open_file` opens (and audits) it, GET only."""
    if request.method == "HEAD":
        abort(405, valid_methods=["GET"])
    file = open_file()
    # Open the first piece here, before any header is sent: a file whose sealed bytes were
    # replaced or moved fails now (CryptoError), and gets the logged, generic error page
    # or JSON instead of a 200 cut off by the server. Damage further into a large file
    # can only cut the download short (it is never served as whole).
    first = next(file.pieces, b"")

    def body() -> Iterator[bytes]:
        yield first
        try:
            for piece in file.pieces:
                # The request's transaction was committed before streaming began; end
                # each chunk's read so a slow download holds no lock (SQLite's BEGIN
                # IMMEDIATE).
                db.session.rollback()
                yield piece
        except crypto.CryptoError as exc:
            # Damage further into the file, found after the headers went out: the
            # download stops short of its Content-Length (never served as whole), and
            # the log says why, as for any sealed value that fails to open.
            current_app.logger.error("sealed data could not be opened: %s", exc)

    return Response(
        stream_with_context(body()),
        headers=download_headers(file.name, file.size),
        direct_passthrough=True,
    )
