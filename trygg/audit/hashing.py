"""What an entry's hash and the head's seal must be: the rules appending writes by and
`trygg audit verify` (trygg/audit_check.py) checks by."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from trygg import crypto, keys
from trygg.audit.models import BROKEN_SEAL, ERASED_ACTOR, GENESIS


def digest(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    body = json.dumps(
        [seq, at.isoformat(), actor, action, object_type, object_id, detail, prev_hash],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def body_digest(salt: str, actor: str, detail: str) -> str:
    """An erasable entry's actor and detail, salted: what its hash covers instead."""
    body = json.dumps([salt, actor, detail], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(body.encode()).hexdigest()


def erasable_digest(
    seq: int,
    at: datetime,
    action: str,
    object_type: str,
    object_id: str | None,
    body: str,
    prev_hash: str,
) -> str:
    """The hash of an erasable entry (see AuditEntry.body)."""
    text_ = json.dumps(
        ["v2", seq, at.isoformat(), action, object_type, object_id, body, prev_hash],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(text_.encode()).hexdigest()


def entry_hash(row: Any) -> str:
    """The hash an entry (a row of audit_entry) should have: erasable or not."""
    body = getattr(row, "body", None)
    if body is None:
        return digest(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.object_type,
            row.object_id,
            row.detail,
            row.prev_hash,
        )
    return erasable_digest(
        row.seq, row.at, row.action, row.object_type, row.object_id, body, row.prev_hash
    )


def body_matches(row: Any) -> bool:
    """Whether an erasable entry's actor and detail are those its hash covers (an
    erased entry has no salt: nothing left to compare)."""
    salt = getattr(row, "salt", None)
    body = getattr(row, "body", None)
    if body is None:
        return True
    if salt is None:  # erased: nothing may stand in the place of what was erased
        return bool(row.actor == ERASED_ACTOR and row.detail == "{}")
    return body_digest(salt, row.actor, row.detail) == body


_SEAL_KEYS: dict[bytes, bytes] = {}


def _seal_key() -> bytes:
    """The key of the head's seal, derived from the keyring's lookup secret (never
    rotated, so key rotation leaves seals valid). Cached: deriving costs more than
    sealing."""
    secret = keys.keyring().lookup_secret
    key = _SEAL_KEYS.get(secret)
    if key is None:
        key = _SEAL_KEYS[secret] = keys.keyring().derive("audit-head")
    return key


def head_seal(seq: int, last_hash: str, key: bytes | None = None) -> str:
    """The seal of a head: HMAC-SHA256 under a key the database does not hold."""
    return crypto.keyed_hash(key or _seal_key(), f"audit-head:{seq}:{last_hash}")


def seal_matches(seq: int, last_hash: str, seal: str | None, key: bytes | None = None) -> bool:
    """Whether a head is sealed as it should be (an empty chain needs no seal)."""
    if seq == 0 and last_hash == GENESIS:
        return True
    return seal is not None and crypto.constant_time_equals(seal, head_seal(seq, last_hash, key))


def _next_seal(old: tuple[int, str, str | None], seq: int, last_hash: str) -> str | None:
    """The new head's seal: a fresh one only if the old head's seal held.

    Otherwise the break is carried forward (no seal stays no seal, for a database that
    was never sealed), so appending can never make a tampered chain look whole.
    """
    key = _seal_key()
    if seal_matches(*old, key=key):
        return head_seal(seq, last_hash, key)
    return None if old[2] is None else BROKEN_SEAL
