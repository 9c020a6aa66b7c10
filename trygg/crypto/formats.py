"""The formats' version byte and sizes, and the errors of trygg.crypto.

Every format (wrapped data key, sealed value, sealed stream) starts with FORMAT_V1.
"""

from __future__ import annotations

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
