"""What a backup holds, measured the same way on the live database and on a restore.

The manifest of a backup records these facts; a restore measures them again on what it
restored and refuses to finish when they differ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from trygg import audit_check, crypto, keys


@dataclass
class Facts:
    """Schema revision, rows per table, the audit chain, and the data keys' wrapping."""

    revision: str
    counts: dict[str, int]
    audit_head: dict[str, Any]
    # "intact: N entries" or "broken at entry N: reason", as `trygg audit verify` says
    audit: str
    audit_intact: bool
    # key-encryption key id -> how many stored data keys it wraps
    key_ids: dict[str, int] = field(default_factory=dict)
    # data keys the keyring in use could not open (0 unless something is wrong)
    unopenable: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Facts:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def _revision(connection: Connection, tables: set[str]) -> str:
    if "alembic_version" not in tables:
        return ""
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return ",".join(sorted(rows))


def _counts(connection: Connection, tables: set[str]) -> dict[str, int]:
    return {
        name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
        for name in sorted(tables)
    }


def _audit(connection: Connection) -> tuple[dict[str, Any], str, bool]:
    session = Session(bind=connection)
    try:
        checked, broken = audit_check.verify(session=session)
        head = audit_check.current_head(session)
        head_fact = {"seq": head.seq, "hash": head.last_hash} if head else {}
    finally:
        session.close()
    if broken:
        return head_fact, f"broken at entry {broken.seq}: {broken.reason}", False
    return head_fact, f"intact: {checked} entries", True


def _wrapped_keys(connection: Connection, tables: set[str]) -> tuple[dict[str, int], int]:
    """Which key-encryption keys wrap the stored data keys, and how many fail to open."""
    ring = keys.keyring()
    used: Counter[str] = Counter()
    unopenable = 0
    for column in keys.wrapped_key_columns():
        owner = column.class_.__table__
        if owner.name not in tables:
            continue  # a table of a newer schema than the one measured
        rows = connection.execution_options(yield_per=1000).execute(
            select(owner.c[column.key]).where(owner.c[column.key].is_not(None))
        )
        for (blob,) in rows:
            try:
                used[crypto.wrapped_key_id(blob)] += 1
                ring.unwrap(blob)
            except crypto.CryptoError:
                unopenable += 1
    return dict(sorted(used.items())), unopenable


def gather(connection: Connection) -> Facts:
    """Measure a database through one connection (one snapshot, when in a transaction)."""
    tables = set(inspect(connection).get_table_names())
    head, summary, intact = _audit(connection)
    key_ids, unopenable = _wrapped_keys(connection, tables)
    return Facts(
        revision=_revision(connection, tables),
        counts=_counts(connection, tables),
        audit_head=head,
        audit=summary,
        audit_intact=intact,
        key_ids=key_ids,
        unopenable=unopenable,
    )


def differences(expected: Facts, found: Facts) -> list[str]:
    """What a restored database lacks or has wrong, against the manifest; [] if nothing."""
    problems = []
    if found.revision != expected.revision:
        problems.append(f"schema revision {found.revision}, the backup has {expected.revision}")
    for name in sorted(set(expected.counts) | set(found.counts)):
        want, got = expected.counts.get(name), found.counts.get(name)
        if want != got:
            problems.append(f"table {name}: {got} rows, the backup has {want}")
    if found.audit_head != expected.audit_head:
        problems.append(f"audit head {found.audit_head}, the backup has {expected.audit_head}")
    if expected.audit_intact and not found.audit_intact:
        problems.append(f"audit chain {found.audit}")
    if found.key_ids != expected.key_ids:
        problems.append(f"data keys wrapped by {found.key_ids}, the backup has {expected.key_ids}")
    if found.unopenable > expected.unopenable:
        problems.append(
            f"{found.unopenable} data keys do not open with this keyring: it is not the "
            "keyring the backup was made with"
        )
    return problems
