"""Uploaded files are spooled encrypted: no plaintext on disk while a request runs."""

from __future__ import annotations

import io

import pytest
from flask import Request, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder, encode_multipart

from tests.disk import can_see_unlinked_files, files_holding
from trygg.uploads import UploadSpool

MARKER = b"VOLD-OG-TRUSLER-MARKER-9c1e"
# Werkzeug spools files larger than 500 KB to disk in clear.
BIG = (MARKER + b" sa han, og slo i bordet.\n") * 30_000

needs_proc = pytest.mark.skipif(
    not can_see_unlinked_files(), reason="needs /proc/self/fd to see unlinked files"
)


def multipart(data: bytes, name: str = "attachments") -> dict:
    """Request arguments for a multipart body held in memory.

    (The test client would otherwise put a large body in a temporary file of its own,
    in clear: that is the client's side, not the server's.)
    """
    boundary, body = encode_multipart(
        {"note": "x", name: FileStorage(io.BytesIO(data), "opptak.txt")}
    )
    return {
        "method": "POST",
        "input_stream": io.BytesIO(body),
        "content_length": len(body),
        "content_type": f"multipart/form-data; boundary={boundary}",
    }


@needs_proc
def test_the_probe_finds_what_werkzeug_spools_in_clear(temp_dir):
    """Without Trygg's request class the marker is on disk: the probe below can see it."""
    assert len(BIG) > 500 * 1024
    builder = EnvironBuilder(**multipart(BIG))
    plain = Request(builder.get_environ())
    assert files_holding(temp_dir, MARKER) == [], "the body itself is in memory"
    assert plain.files["attachments"].filename == "opptak.txt"
    try:
        assert files_holding(temp_dir, MARKER)
    finally:
        plain.close()
        builder.close()


def test_uploads_are_spooled_encrypted(app, temp_dir):
    with app.test_request_context("/report", **multipart(BIG)):
        upload = request.files["attachments"]
        assert isinstance(upload.stream, UploadSpool)
        assert files_holding(temp_dir, MARKER) == []
        parts = []
        while chunk := upload.stream.read(64 * 1024):
            parts.append(chunk)
        assert b"".join(parts) == BIG
        assert files_holding(temp_dir, MARKER) == []
        upload.stream.seek(0)
        assert upload.stream.read(len(MARKER)) == MARKER
        assert upload.stream.tell() == len(MARKER)
    assert upload.stream.closed, "the spool (and its key) is gone with the request"
    assert files_holding(temp_dir, MARKER) == []


def test_a_file_beyond_the_attachment_limit_is_cut_and_cannot_read_as_whole(make_app, temp_dir):
    limit = 100_000
    app = make_app(attachment_max_bytes=limit)
    with app.test_request_context("/report", **multipart(BIG)):
        stream = request.files["attachments"].stream
        assert isinstance(stream, UploadSpool)
        assert stream.cut
        stream.seek(0, io.SEEK_END)
        assert stream.tell() == limit + 1, "no more than one byte beyond the limit is kept"
        stream.seek(0)
        assert stream.read(limit + 1) == BIG[: limit + 1]
        with pytest.raises(RequestEntityTooLarge):
            stream.read(1)
        stream.seek(0)
        with pytest.raises(RequestEntityTooLarge):
            stream.read()  # reading it whole must fail, not return a part
        with pytest.raises(RequestEntityTooLarge):
            list(stream)


def test_a_file_within_the_limit_is_kept_whole(make_app, temp_dir):
    app = make_app(attachment_max_bytes=len(BIG))
    with app.test_request_context("/report", **multipart(BIG)):
        stream = request.files["attachments"].stream
        assert not stream.cut
        assert stream.read() == BIG
        assert stream.read() == b""


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_form_line_breaks_are_read_as_the_browser_counted_them(app, content_type):
    """Every form of the app (the report form, the anonymous form, messages) reads a
    textarea's CR LF as LF: one character each, as the browser's maxlength counted."""
    typed = {"narrative": "Første linje\r\nandre linje\r\n", "body": "ingen linjeskift"}
    with app.test_request_context("/", method="POST", data=typed, content_type=content_type) as ctx:
        assert ctx.request.form.to_dict() == {
            "narrative": "Første linje\nandre linje\n",
            "body": "ingen linjeskift",
        }
