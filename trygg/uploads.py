"""The request class: uploads spooled encrypted, never as plaintext; form breaks as LF.

Werkzeug's form parser writes every uploaded file larger than 500 KB to a temporary
file in clear before any view runs: a picture attached to a harassment report would sit
on the server's disk unencrypted until it is checked and sealed. Trygg's Request keeps
each uploaded file in a `crypto.SealedSpool` instead (AES-GCM under a key that exists
only in that object, for that file, for that request).

Each spool also keeps at most one byte more than the largest attachment allowed
(`attachment_max_bytes`): that byte is enough for the service to refuse the file with
its own message naming it, and a body of `max_content_length` cannot fill the disk with
one huge part. Reading a cut file whole, or past its kept bytes, raises 413, so a file
that was cut can never be taken for whole. A new kind of upload with a larger limit must raise
this cap.

The same Request reads form text as the browser counted it: browsers send a textarea's
line breaks as CR LF (the HTML form encoding) but count each as one character against
its maxlength, so every form field's CR LF is read (and stored) as LF. Read as sent, a
description that fit in the form would be refused as too long.
"""

from __future__ import annotations

from typing import IO, Any, cast

from flask import Flask, current_app
from flask import Request as FlaskRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from trygg import crypto


class UploadSpool(crypto.SealedSpool):
    """A sealed spool that keeps at most `limit + 1` bytes of what is written."""

    def __init__(self, limit: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keep = None if limit is None else limit + 1
        self.cut = False

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self._keep is not None:
            room = max(self._keep - self.tell(), 0)
            if len(view) > room:
                self.cut = True
                super().write(view[:room])
                return len(view)  # the rest is dropped, as if written
        return super().write(view)

    def _past_the_cut(self) -> None:
        if self.cut and self.tell() >= (self._keep or 0):
            raise RequestEntityTooLarge()

    def read(self, size: int | None = -1) -> bytes:
        if self.cut and (size is None or size < 0):
            raise RequestEntityTooLarge()  # all of it was asked for: it is not here
        data = super().read(size)
        if not data:
            self._past_the_cut()
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = super().readline(size)
        if not data:
            self._past_the_cut()
        return data


class Request(FlaskRequest):
    """Flask's request, with uploaded files spooled encrypted and form line breaks as LF."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any("\r" in value for _key, value in form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict(
                [(key, value.replace("\r\n", "\n")) for key, value in form.items(multi=True)]
            )

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """A sealed spool for each file part, instead of werkzeug's plaintext one."""
        limit = current_app.config["TRYGG"]["attachment_max_bytes"] if current_app else None
        return cast(IO[bytes], UploadSpool(limit))


def init_app(app: Flask) -> None:
    """Make every request of the app spool its uploads encrypted."""
    app.request_class = Request
