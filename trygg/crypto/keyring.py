"""The keyring: key-encryption keys (KEKs) in a file outside the database, and the
wrapping of data keys under them.

    wrapped data key  = 0x01 | len(kek_id) (1 byte) | kek_id | nonce (12) | ct+tag (48)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from trygg.crypto.datakey import DataKey
from trygg.crypto.formats import FORMAT_V1, KEY_BYTES, NONCE_BYTES, CryptoError, KeyringError


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
