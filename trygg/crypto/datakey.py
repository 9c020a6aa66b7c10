"""A record's data key: sealing its values (AES-256-GCM, bound to table, column and row)
and its files (cryptography's chunked AES-GCM, bound to table and row).

    sealed value      = 0x01 | nonce (12) | ct+tag
    sealed stream     = 0x01 | chunked ciphertext
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from cryptography.cobblestone import Cobblestone256Decryptor, Cobblestone256Encryptor
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from trygg.crypto.formats import FORMAT_V1, KEY_BYTES, NONCE_BYTES, STREAM_CHUNK, CryptoError


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
