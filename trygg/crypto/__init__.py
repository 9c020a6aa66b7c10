"""Envelope encryption for everything sensitive (trygg/crypto/spool.py for now)."""

from trygg.crypto.spool import (
    FORMAT_V1,
    KEY_BYTES,
    NONCE_BYTES,
    SPOOL_CHUNK,
    STREAM_CHUNK,
    CryptoError,
    DataKey,
    Keyring,
    KeyringError,
    SealedSpool,
    constant_time_equals,
    create_keyring_file,
    key_from_secret,
    keyed_hash,
    stretched_key,
    wrapped_key_id,
)

__all__ = [
    "FORMAT_V1",
    "KEY_BYTES",
    "NONCE_BYTES",
    "SPOOL_CHUNK",
    "STREAM_CHUNK",
    "CryptoError",
    "DataKey",
    "Keyring",
    "KeyringError",
    "SealedSpool",
    "constant_time_equals",
    "create_keyring_file",
    "key_from_secret",
    "keyed_hash",
    "stretched_key",
    "wrapped_key_id",
]
