"""Append-only, hash-chained audit log with a sealed head.

Each entry records who did what to which object, and when; never content. Its hash
covers its own fields and the previous entry's hash, so altering or deleting any row
breaks the chain from there on; `trygg audit verify` (trygg/audit_check.py) finds the
first broken entry.

The head (the newest entry's number and hash) carries a *seal*: an HMAC under a key
derived from the keyring, which is not in the database. Someone who can write to the
database but has no keyring can neither cut entries off the end nor rewrite the tail
with fresh hashes without the seal showing it; an append never seals a head whose seal
did not match (it carries the break forward). What the seal cannot show is the head put
back as it was at an earlier moment (row and seal copied then), with the later entries
deleted: for that the operator logs `trygg audit head` elsewhere, and `trygg audit verify
--anchor SEQ:HASH` checks the chain still holds that entry. README.md ("The audit log")
lists what is and is not detected.

The package is the one entry point (`from trygg import audit`); its modules split it by
sub-domain: models (the tables), hashing (entry hashes and the head's seal), chain (the
queue and the append at commit), records (naming actors, recording, keeping what was
audited before an error answer, reading an object's entries) and erasure (retention).
Verification is trygg/audit_check.py.
"""

from trygg.audit.chain import append, table_without_body, write_pending
from trygg.audit.erasure import erase
from trygg.audit.hashing import (
    body_digest,
    body_matches,
    digest,
    entry_hash,
    erasable_digest,
    head_seal,
    seal_matches,
)
from trygg.audit.models import BROKEN_SEAL, ERASED_ACTOR, GENESIS, AuditEntry, AuditHead
from trygg.audit.records import (
    actor_label,
    for_object,
    for_objects,
    keep_audited,
    leave_out_of_chain,
    record,
)

__all__ = [
    "BROKEN_SEAL",
    "ERASED_ACTOR",
    "GENESIS",
    "AuditEntry",
    "AuditHead",
    "actor_label",
    "append",
    "body_digest",
    "body_matches",
    "digest",
    "entry_hash",
    "erasable_digest",
    "erase",
    "for_object",
    "for_objects",
    "keep_audited",
    "head_seal",
    "leave_out_of_chain",
    "record",
    "seal_matches",
    "table_without_body",
    "write_pending",
]
