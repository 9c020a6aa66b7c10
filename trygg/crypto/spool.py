"""Envelope encryption for everything sensitive. The only module importing `cryptography`.

Design (ARCHITECTURE.md, "Encryption at rest"):

* A *keyring* file holds key-encryption keys (KEKs), each with an id; one is active.
* Each protected record (a report and its case, a user's TOTP secret) has its own random
  256-bit *data key*. It is stored *wrapped*: AES-256-GCM under the active KEK, the blob
  carrying the KEK's id so rotation can re-wrap it and retirement can check nothing still
  needs the old KEK.
* Each sealed field is AES-256-GCM under the record's data key with a fresh 96-bit random
  nonce and associated data naming table, column and row; a value copied to another row
  or column does not open.
* Attachments use cryptography's chunked AES-GCM (c2sp chunked-encryption), keyed by a
  subkey of the data key bound to the attachment's row, so truncation, reordering and
  moving chunks between files are detected.
* An upload in flight (before it is checked and sealed) is spooled by `SealedSpool`:
  AES-256-GCM in chunks under a random key that lives only in that object, so no
  plaintext reaches the disk and the temporary file is unreadable once the key is gone.

Formats (all versioned by their first byte):

    wrapped data key  = 0x01 | len(kek_id) (1 byte) | kek_id | nonce (12) | ct+tag (48)
    sealed value      = 0x01 | nonce (12) | ct+tag
    sealed stream     = 0x01 | chunked ciphertext
    upload spool      = chunk 0 | chunk 1 | ... ; chunk i = AES-GCM(spool key, nonce i)
                        (never stored: a temporary file that dies with the request)

No Fernet: its tokens carry their creation time in clear, which would date anonymous
reports to the second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.cobblestone import Cobblestone256Decryptor, Cobblestone256Encryptor
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
STREAM_CHUNK = 16 * 1024


class CryptoError(Exception):
    """Sealed data could not be opened: tampered, moved, or its key is missing.

    The message never contains plaintext or key material.
    """


class KeyringError(CryptoError):
    """The keyring file is missing, unreadable or inconsistent."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _new_key_id() -> str:
    return "k" + datetime.now(UTC).strftime("%Y%m%d") + "-" + secrets.token_hex(3)


@dataclass
class Keyring:
    """The key-encryption keys, loaded from a JSON file outside the database."""

    keys: dict[str, bytes]
    active_id: str
    # Keys lookup hashes (report owners, receipts). Never rotated: rotating it would
    # orphan every stored lookup value. It protects linkability, not content.
    lookup_secret: bytes = b""
    path: Path | None = None
    retired: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> Keyring:
        """Read a keyring file; raise KeyringError naming what is wrong."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
            keys = {kid: base64.b64decode(value) for kid, value in raw["keys"].items()}
            active = raw["active"]
            lookup = base64.b64decode(raw["lookup"])
        except FileNotFoundError:
            raise KeyringError(f"keyring file {path} does not exist") from None
        except (OSError, ValueError, KeyError, TypeError):
            raise KeyringError(f"keyring file {path} is not a valid keyring") from None
        if (
            active not in keys
            or any(len(k) != KEY_BYTES for k in keys.values())
            or len(lookup) != KEY_BYTES
        ):
            raise KeyringError(f"keyring file {path} is inconsistent")
        return cls(
            keys=keys,
            active_id=active,
            lookup_secret=lookup,
            path=path,
            retired=list(raw.get("retired", [])),
        )

    def save(self, path: str | Path | None = None) -> None:
        """Write the keyring atomically with mode 0600."""
        target = Path(path or self.path or "")
        if not str(target):
            raise KeyringError("no path to save the keyring to")
        body = json.dumps(
            {
                "format": 1,
                "active": self.active_id,
                "keys": {kid: _b64(k) for kid, k in self.keys.items()},
                "lookup": _b64(self.lookup_secret),
                "retired": self.retired,
            },
            indent=2,
        )
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(body + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        self.path = target

    def add_key(self) -> str:
        """Add a new KEK and make it active; return its id."""
        kid = _new_key_id()
        while kid in self.keys:
            kid = _new_key_id()
        self.keys[kid] = AESGCM.generate_key(bit_length=256)
        self.active_id = kid
        return kid

    def remove_key(self, kid: str) -> None:
        """Forget a KEK. The caller has checked that nothing is wrapped with it."""
        if kid == self.active_id:
            raise KeyringError("the active key cannot be retired; rotate first")
        if kid not in self.keys:
            raise KeyringError(f"no key {kid} in the keyring")
        del self.keys[kid]
        self.retired.append(kid)

    def new_data_key(self) -> tuple[DataKey, bytes]:
        """A fresh random data key and its wrapped form for storage."""
        key = DataKey(AESGCM.generate_key(bit_length=256))
        return key, self.wrap(key)

    def wrap(self, key: DataKey, kek_id: str | None = None) -> bytes:
        """Wrap a data key under a KEK (the active one unless named)."""
        kid = kek_id or self.active_id
        encoded = kid.encode("ascii")
        nonce = os.urandom(NONCE_BYTES)
        ct = AESGCM(self.keys[kid]).encrypt(nonce, key.secret, b"trygg:dek:" + encoded)
        return FORMAT_V1 + bytes([len(encoded)]) + encoded + nonce + ct

    def unwrap(self, blob: bytes) -> DataKey:
        """Open a wrapped data key; CryptoError if it was altered or its KEK is gone."""
        kid = wrapped_key_id(blob)
        kek = self.keys.get(kid)
        if kek is None:
            raise CryptoError(f"data key is wrapped with unknown key {kid}")
        start = 2 + len(kid)
        if len(blob) != start + NONCE_BYTES + KEY_BYTES + 16:
            raise CryptoError("wrapped data key has an unknown format")
        nonce, ct = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
        try:
            secret = AESGCM(kek).decrypt(nonce, ct, b"trygg:dek:" + kid.encode("ascii"))
        except InvalidTag:
            raise CryptoError("wrapped data key failed authentication") from None
        return DataKey(secret)

    def rewrap(self, blob: bytes) -> bytes:
        """Re-wrap a data key under the active KEK (key rotation)."""
        if wrapped_key_id(blob) == self.active_id:
            return blob
        return self.wrap(self.unwrap(blob))

    def derive(self, purpose: str) -> bytes:
        """A 256-bit key for a named purpose, derived from the lookup secret.

        Used for keyed hashes (lookup values) that must not be computable from the
        database alone, and must survive KEK rotation.
        """
        return HKDF(
            algorithm=SHA256(), length=KEY_BYTES, salt=None, info=b"trygg:" + purpose.encode()
        ).derive(self.lookup_secret)


def wrapped_key_id(blob: bytes) -> str:
    """The id of the KEK that wrapped a data key."""
    if len(blob) < 2 or blob[:1] != FORMAT_V1:
        raise CryptoError("wrapped data key has an unknown format")
    length = blob[1]
    try:
        return blob[2 : 2 + length].decode("ascii")
    except UnicodeDecodeError:
        raise CryptoError("wrapped data key has an unknown format") from None


def _aad(table: str, column: str, row: object) -> bytes:
    return f"trygg:v1:{table}:{column}:{row}".encode()


class DataKey:
    """A record's data key. Seals and opens that record's fields and attachments."""

    __slots__ = ("_aead", "secret")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise CryptoError("a data key must be 256 bits")
        self.secret = secret
        self._aead = AESGCM(secret)

    def __repr__(self) -> str:  # never print key material
        return "<DataKey>"

    def seal(self, value: str | bytes, *, table: str, column: str, row: object) -> bytes:
        """Encrypt a value for one column of one row."""
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, data, _aad(table, column, row))

    def open(self, blob: bytes, *, table: str, column: str, row: object) -> bytes:
        """Decrypt a sealed value; CryptoError if altered, moved or under another key."""
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT_V1:
            raise CryptoError(f"sealed {table}.{column} has an unknown format")
        nonce, ct = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ct, _aad(table, column, row))
        except InvalidTag:
            raise CryptoError(
                f"sealed {table}.{column} of row {row} failed authentication"
            ) from None

    def open_text(self, blob: bytes, *, table: str, column: str, row: object) -> str:
        """Decrypt a sealed UTF-8 string."""
        return self.open(blob, table=table, column=column, row=row).decode("utf-8")

    def _stream_key(self, table: str, row: object) -> bytes:
        return HKDF(
            algorithm=SHA256(), length=KEY_BYTES, salt=None, info=_aad(table, "stream", row)
        ).derive(self.secret)

    def seal_stream(self, chunks: Iterable[bytes], *, table: str, row: object) -> Iterator[bytes]:
        """Encrypt a file chunk by chunk (bounded memory), bound to one row."""
        enc = Cobblestone256Encryptor(self._stream_key(table, row), _aad(table, "stream", row))
        yield FORMAT_V1
        for chunk in chunks:
            out = enc.update(chunk)
            if out:
                yield out
        yield enc.finalize()

    def open_stream(self, chunks: Iterable[bytes], *, table: str, row: object) -> Iterator[bytes]:
        """Decrypt a sealed file; CryptoError on truncation, reordering or tampering.

        Plaintext is only yielded for chunks that authenticated; the final check runs
        before the last bytes are released, so a truncated file never reads as whole.
        """
        dec = Cobblestone256Decryptor(self._stream_key(table, row), _aad(table, "stream", row))
        header_seen = False
        try:
            for chunk in chunks:
                if not header_seen:
                    if chunk[:1] != FORMAT_V1:
                        raise CryptoError(f"sealed {table} file has an unknown format")
                    chunk = chunk[1:]
                    header_seen = True
                out = dec.update(chunk)
                if out:
                    yield out
            if not header_seen:
                raise CryptoError(f"sealed {table} file is empty")
            tail = dec.finalize()
        except (InvalidTag, ValueError):
            raise CryptoError(f"sealed {table} file of row {row} failed authentication") from None
        if tail:
            yield tail

    def seal_bytes(self, data: bytes, *, table: str, row: object) -> bytes:
        """Seal a whole file held in memory (small files, tests)."""
        return b"".join(self.seal_stream(_chunks(data), table=table, row=row))

    def open_bytes(self, blob: bytes, *, table: str, row: object) -> bytes:
        """Open a whole sealed file held in memory."""
        return b"".join(self.open_stream(_chunks(blob), table=table, row=row))


def _chunks(data: bytes, size: int = STREAM_CHUNK) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
    if not data:
        yield b""


def create_keyring_file(path: str | Path) -> Keyring:
    """Create a new keyring with one active key, mode 0600. Refuses to overwrite."""
    path = Path(path)
    if path.exists():
        raise KeyringError(f"{path} already exists; refusing to overwrite a keyring")
    path.parent.mkdir(parents=True, exist_ok=True)
    keyring = Keyring(keys={}, active_id="", lookup_secret=os.urandom(KEY_BYTES))
    keyring.add_key()
    keyring.save(path)
    return keyring


def keyed_hash(key: bytes, value: str | bytes) -> str:
    """HMAC-SHA256 as hex: a lookup value that the database alone cannot recompute."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare secrets without leaking their common prefix through timing."""
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


# -- uploads in flight ------------------------------------------------------------------

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


# -- keys from a secret a person holds (anonymous receipt codes) -------------------------


def key_from_secret(secret: str | bytes, purpose: str, *, salt: bytes) -> bytes:
    """HKDF-SHA256: a 256-bit value for one purpose from a high-entropy secret.

    Each purpose (verifying a receipt, unlocking what it opens) gets its own derivation,
    so a value stored for one cannot be turned into the other. `salt` is a server-side
    secret (from the keyring): the database alone cannot recompute the result.
    """
    data = secret.encode("utf-8") if isinstance(secret, str) else secret
    return HKDF(
        algorithm=SHA256(), length=KEY_BYTES, salt=salt, info=b"trygg:secret:" + purpose.encode()
    ).derive(data)


def stretched_key(
    material: bytes, *, salt: bytes, time_cost: int, memory_kib: int, parallelism: int
) -> DataKey:
    """A DataKey from argon2id over `material`: slow on purpose, so that a sealed value
    under it cannot be used to test guesses of the secret quickly."""
    secret = hash_secret_raw(
        material,
        salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )
    return DataKey(secret)
