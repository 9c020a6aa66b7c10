"""Checking the audit chain (trygg.audit): `trygg audit verify | head | seal`.

`verify` walks every entry in order and then checks the head: the head must name the
last entry, and its seal (an HMAC under a key from the keyring) must match. Anchors
(`--anchor SEQ:HASH`, heads the operator logged elsewhere with `trygg audit head`) must
still be in the chain with the same hash: that finds a chain cut back to an earlier
head whose row and seal were copied at the time, which nothing in the database can.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trygg import audit, keys
from trygg.audit import GENESIS, AuditEntry, AuditHead
from trygg.extensions import db

NOT_SEALED = (
    "the head is not sealed: if this database was upgraded from a version without seals, "
    "run `trygg audit seal` once; if it was sealed before, the log was tampered with"
)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str
    # "entry" (an entry or the head's place), "unsealed" (no seal), "seal" (a wrong one)
    kind: str = "entry"


@dataclass(frozen=True)
class Anchor:
    """An entry's number and hash, as `trygg audit head` prints them (SEQ:HASH)."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or int(seq) < 1 or len(digest) != 64:
            raise ValueError(f"not an anchor (SEQ:HASH, as `trygg audit head` prints): {text!r}")
        return cls(int(seq), digest.lower())

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


# Only the columns the hash covers, so that a database of an older schema (a restore
# of an older backup) can be checked by newer code.
_ENTRY = (
    AuditEntry.seq,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.object_type,
    AuditEntry.object_id,
    AuditEntry.detail,
    AuditEntry.prev_hash,
    AuditEntry.hash,
)


@dataclass(frozen=True)
class Head:
    seq: int
    last_hash: str
    seal: str | None


def _entry_break(row: Any, expected_seq: int, prev: str) -> ChainBreak | None:
    if row.seq != expected_seq:
        return ChainBreak(expected_seq, "entry is missing (deleted)")
    if row.prev_hash != prev:
        return ChainBreak(row.seq, "does not chain to the previous entry")
    if audit.entry_hash(row) != row.hash or not audit.body_matches(row):
        return ChainBreak(row.seq, "was altered (hash mismatch)")
    return None


def _walk(
    session: Session, batch: int, anchors: dict[int, str]
) -> tuple[int, str, ChainBreak | None]:
    """Check every entry in order: (the last entry's number, its hash, the first break)."""
    last, prev = 0, GENESIS
    present = {c["name"] for c in sa_inspect(session.connection()).get_columns("audit_entry")}
    columns = list(_ENTRY)
    if "body" in present:  # since 0013: erasable entries
        columns += [AuditEntry.salt, AuditEntry.body]
    while True:
        rows = session.execute(
            select(*columns).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return last, prev, None
        for row in rows:
            broken = _entry_break(row, last + 1, prev)
            if broken is None and anchors.get(row.seq, row.hash) != row.hash:
                broken = ChainBreak(row.seq, "differs from the anchor logged elsewhere")
            if broken:
                return last, prev, broken
            last, prev = row.seq, row.hash


def _head_break(head: Head | None, last: int, prev: str) -> ChainBreak | None:
    if head is None:
        return ChainBreak(last, "the head is missing, but entries exist") if last else None
    if head.seq > last:
        return ChainBreak(last + 1, "entry is missing (deleted)")
    if head.seq < last or head.last_hash != prev:
        return ChainBreak(last, "the head does not match the last entry")
    if last and head.seal is None:
        return ChainBreak(last, NOT_SEALED, "unsealed")
    if not audit.seal_matches(head.seq, head.last_hash, head.seal):
        return ChainBreak(
            last,
            "the head's seal does not match: entries were cut off the end, or the tail was "
            "rewritten together with the head",
            "seal",
        )
    return None


def current_head(session: Session | None = None) -> Head | None:
    """The head as stored now (read with SQL: appends update it behind the ORM's back)."""
    session = db.session() if session is None else session
    table = AuditHead.__table__
    row = session.execute(
        select(table.c.seq, table.c.last_hash, table.c.seal).where(table.c.id == 1)
    ).one_or_none()
    return None if row is None else Head(*row)


def verify(
    batch: int = 5000, anchors: Iterable[Anchor] = (), session: Session | None = None
) -> tuple[int, ChainBreak | None]:
    """Walk the chain and check its head; return (entries checked, the first break).

    `session` defaults to the app's; a backup passes one on its snapshot.
    """
    session = db.session() if session is None else session
    audit.write_pending(session)
    expected = {a.seq: a.hash for a in anchors}
    last, prev, broken = _walk(session, batch, expected)
    if broken:
        return last, broken
    beyond = [seq for seq in sorted(expected) if seq > last]
    if beyond:
        return last, ChainBreak(beyond[0], "entry logged elsewhere is gone: the chain was cut")
    return last, _head_break(current_head(session), last, prev)


class SealRefused(Exception):
    """The head was not sealed: the chain is broken, or its seal does not match."""


def seal_head(*, force: bool = False) -> int | None:
    """Seal the head of an intact chain that has no seal (once, after upgrading).

    Refuses a broken chain, and a head whose seal does not match unless `force` (that
    is a sign of tampering: look into it first). Returns the sealed entry's number, or
    None when the head was sealed already.
    """
    _last, broken = verify()
    if broken is None:
        return None
    head = current_head()
    if head is None or not (broken.kind == "unsealed" or (broken.kind == "seal" and force)):
        raise SealRefused(f"audit chain broken at entry {broken.seq}: {broken.reason}")
    table = AuditHead.__table__
    # Only the head that was checked: an append in between would leave it unsealed.
    sealed = (
        db.session.connection()
        .execute(
            update(table)
            .where(table.c.id == 1, table.c.seq == head.seq, table.c.last_hash == head.last_hash)
            .values(seal=audit.head_seal(head.seq, head.last_hash))
        )
        .rowcount
    )
    db.session.commit()
    if not sealed:
        raise SealRefused("the chain grew while it was checked; run the command again")
    return head.seq


audit_cli = AppGroup("audit", help="Check the audit log.")


def _keyring_hint(broken: ChainBreak) -> str:
    """A seal that does not match is also what the wrong keyring looks like (the seal's
    key comes from it): say so when the keyring does not open the stored data either."""
    if broken.kind != "seal":
        return ""
    problem = keys.keyring_problem(keys.keyring())
    return f"; or the keyring is wrong: {problem}" if problem else ""


def _anchors(values: tuple[str, ...]) -> list[Anchor]:
    try:
        return [Anchor.parse(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "anchor_values",
    multiple=True,
    metavar="SEQ:HASH",
    help="A head logged earlier with `trygg audit head` that must still be in the chain.",
)
def verify_command(anchor_values: tuple[str, ...]) -> None:
    """Check the hash chain and its sealed head; exit 1 naming the first break."""
    anchors = _anchors(anchor_values)
    checked, broken = verify(anchors=anchors)
    if broken:
        click.echo(
            f"audit chain broken at entry {broken.seq}: {broken.reason}{_keyring_hint(broken)}",
            err=True,
        )
        raise SystemExit(1)
    suffix = f", {len(anchors)} anchors found" if anchors else ""
    click.echo(f"audit chain intact: {checked} entries{suffix}")


@audit_cli.command("head")
def head_command() -> None:
    """Print the head as SEQ:HASH, to log somewhere the database cannot reach."""
    head = current_head()
    click.echo(str(Anchor(head.seq, head.last_hash)) if head else f"0:{GENESIS}")


@audit_cli.command("seal")
@click.option("--force", is_flag=True, help="Replace a seal that does not match.")
def seal_command(force: bool) -> None:
    """Seal the head of an intact chain (once, after upgrading from a version without)."""
    problem = keys.keyring_problem(keys.keyring())
    if problem:
        # A seal made with the wrong keyring would break the chain for the right one.
        raise click.ClickException(f"{problem}; not sealed")
    try:
        seq = seal_head(force=force)
    except SealRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("audit head already sealed" if seq is None else f"audit head sealed at entry {seq}")


def init_app(app: Flask) -> None:
    """Register the `audit` CLI group."""
    app.cli.add_command(audit_cli)
