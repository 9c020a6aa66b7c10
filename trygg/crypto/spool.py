"""Uploads in flight: a temporary file that never holds plaintext on disk.

Format (never stored: a temporary file that dies with the request):

    upload spool = chunk 0 | chunk 1 | ... ; chunk i = AES-GCM(spool key, nonce i)
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from trygg.crypto.formats import NONCE_BYTES, CryptoError

SPOOL_CHUNK = 64 * 1024
_TAG_BYTES = 16
_SPOOL_AAD = b"trygg:spool:v1:"


def _anonymous_temporary_file() -> IO[bytes]:
    # Unlinked at once (or never linked, with O_TMPFILE): nothing else can open it.
    return tempfile.TemporaryFile()  # noqa: SIM115 - SealedSpool closes it


class SealedSpool(io.RawIOBase):
    """A temporary file for one upload that never holds plaintext on disk.

    Written once from start to end (as werkzeug's form parser does), then read with
    free seeking. Each `chunk_size` piece is sealed with AES-256-GCM under a random key
    made for this spool alone and never stored: the nonce is the chunk's index (each
    index is sealed once under a key used for nothing else), and the associated data
    marks the last chunk, so a changed, swapped, truncated or extended chunk fails to
    open (CryptoError). The size and chunk count are kept in memory, not in the file.

    Plaintext held in memory is at most one chunk being filled and one chunk being
    read. A file of a single chunk keeps its ciphertext in memory and never creates a
    temporary file; larger ones go to `opener()` (an anonymous temporary file).
    """

    def __init__(
        self,
        *,
        chunk_size: int = SPOOL_CHUNK,
        opener: Callable[[], IO[bytes]] = _anonymous_temporary_file,
    ) -> None:
        super().__init__()
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self._aead: AESGCM | None = AESGCM(AESGCM.generate_key(bit_length=256))
        self._chunk = chunk_size
        self._opener = opener
        self._file: IO[bytes] | None = None
        self._pending = bytearray()
        self._chunks = 0
        self._size = 0
        self._finished = False
        self._pos = 0
        self._cache: tuple[int, bytes] | None = None

    def __repr__(self) -> str:  # never print key material
        return f"<SealedSpool {self._size} bytes>"

    # -- writing: once, from start to end ---------------------------------------------

    def writable(self) -> bool:
        return not self._finished and not self.closed

    def write(self, data: Any) -> int:
        """Append bytes; refused once the spool has been read or seeked."""
        self._check_open()
        if self._finished:
            raise io.UnsupportedOperation("a spool is written once, before it is read")
        view = memoryview(data).cast("B")
        self._pending += view
        self._size += len(view)
        # Strictly more than a chunk: the last chunk is sealed (as last) by _finish.
        while len(self._pending) > self._chunk:
            self._seal(bytes(self._pending[: self._chunk]), last=False)
            del self._pending[: self._chunk]
        return len(view)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        if self._aead is None:
            raise ValueError("I/O operation on a closed spool")
        if self._file is None:
            # Only a single-chunk file stays in memory (as ciphertext all the same).
            self._file = io.BytesIO() if last and self._chunks == 0 else self._opener()
        nonce = self._chunks.to_bytes(NONCE_BYTES, "big")
        self._file.write(self._aead.encrypt(nonce, plain, _SPOOL_AAD + bytes([last])))
        self._chunks += 1

    def _finish(self) -> None:
        if not self._finished:
            self._seal(bytes(self._pending), last=True)
            self._pending = bytearray()
            self._finished = True

    # -- reading and seeking ------------------------------------------------------------

    def readable(self) -> bool:
        return not self.closed

    def seekable(self) -> bool:
        return not self.closed

    def tell(self) -> int:
        self._check_open()
        return self._pos if self._finished else self._size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the read position; the first seek ends writing."""
        self._check_open()
        self._finish()
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._pos = target
        return target

    def _current(self) -> tuple[bytes, int]:
        """The plaintext chunk holding the read position, and the offset into it."""
        self._check_open()
        self._finish()
        if self._pos >= self._size:
            return b"", 0
        index, offset = divmod(self._pos, self._chunk)
        return self._open_chunk(index), offset

    def _open_chunk(self, index: int) -> bytes:
        if self._cache is not None and self._cache[0] == index:
            return self._cache[1]
        if self._aead is None or self._file is None:
            raise ValueError("I/O operation on a closed spool")
        last = index == self._chunks - 1
        length = (self._size - index * self._chunk if last else self._chunk) + _TAG_BYTES
        self._file.seek(index * (self._chunk + _TAG_BYTES))
        sealed = self._file.read(length)
        if len(sealed) != length:
            raise CryptoError("upload spool is truncated")
        nonce = index.to_bytes(NONCE_BYTES, "big")
        try:
            plain = self._aead.decrypt(nonce, sealed, _SPOOL_AAD + bytes([last]))
        except InvalidTag:
            raise CryptoError("upload spool failed authentication") from None
        self._cache = (index, plain)
        return plain

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes (all that is left if negative); b"" at the end."""
        self._check_open()
        self._finish()
        wanted = self._size - self._pos if size is None or size < 0 else size
        parts: list[bytes] = []
        while wanted > 0:
            plain, offset = self._current()
            piece = plain[offset : offset + wanted]
            if not piece:
                break
            parts.append(piece)
            self._pos += len(piece)
            wanted -= len(piece)
        return b"".join(parts)

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        out = bytearray()
        while limit < 0 or len(out) < limit:
            plain, offset = self._current()
            if offset >= len(plain):
                break
            newline = plain.find(b"\n", offset)
            stop = len(plain) if newline < 0 else newline + 1
            if limit >= 0:
                stop = min(stop, offset + limit - len(out))
            out += plain[offset:stop]
            self._pos += stop - offset
            if newline >= 0 and stop == newline + 1:
                break
        return bytes(out)

    def fileno(self) -> int:
        # The descriptor would give the ciphertext; nobody outside needs it.
        raise io.UnsupportedOperation("a sealed spool has no file descriptor to share")

    def close(self) -> None:
        """Drop the key and the temporary file: what was written cannot be read again."""
        if not self.closed:
            self._aead = None
            self._cache = None
            self._pending = bytearray()
            if self._file is not None:
                self._file.close()
                self._file = None
        super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on a closed spool")
