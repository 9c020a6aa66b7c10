"""Envelope encryption for everything sensitive. The only package importing `cryptography`.

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

The package is the one entry point (`from trygg import crypto`); its modules split it by
sub-domain: formats (version byte, sizes, errors), keyring (KEKs, wrapping data keys),
datakey (sealing values and files under a data key), derivation (keyed hashes, keys from
a person's secret) and spool (uploads in flight).
"""

from trygg.crypto.datakey import DataKey
from trygg.crypto.derivation import (
    constant_time_equals,
    key_from_secret,
    keyed_hash,
    stretched_key,
)
from trygg.crypto.formats import (
    FORMAT_V1,
    KEY_BYTES,
    NONCE_BYTES,
    STREAM_CHUNK,
    CryptoError,
    KeyringError,
)
from trygg.crypto.keyring import Keyring, create_keyring_file, wrapped_key_id
from trygg.crypto.spool import SPOOL_CHUNK, SealedSpool

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
