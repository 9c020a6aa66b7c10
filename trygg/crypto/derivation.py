"""Keys and lookup values derived from secrets: keyed hashes, constant-time comparison,
and keys from a secret a person holds (anonymous receipt codes)."""

from __future__ import annotations

import hashlib
import hmac

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from trygg.crypto.datakey import DataKey
from trygg.crypto.formats import KEY_BYTES


def keyed_hash(key: bytes, value: str | bytes) -> str:
    """HMAC-SHA256 as hex: a lookup value that the database alone cannot recompute."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare secrets without leaking their common prefix through timing."""
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


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
