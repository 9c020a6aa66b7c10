"""The application's keyring, and key rotation and retirement.

Every model column that stores a wrapped data key registers itself with
`register_wrapped_key_column`, so rotation and retirement reach all of them without the
kernel importing domain packages.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute

from trygg import audit, crypto
from trygg.extensions import db
from trygg.settings import ConfigError

_WRAPPED_COLUMNS: list[InstrumentedAttribute[Any]] = []


def register_wrapped_key_column(column: InstrumentedAttribute[Any]) -> None:
    """Declare a column holding wrapped data keys (for rotation and retirement)."""
    if column not in _WRAPPED_COLUMNS:
        _WRAPPED_COLUMNS.append(column)


def wrapped_key_columns() -> list[InstrumentedAttribute[Any]]:
    return list(_WRAPPED_COLUMNS)


_STAMP = "trygg.keyring.stamp"
_UNREADABLE = "trygg.keyring.unreadable"
# One reload at a time: the ring and its file's stamp are stored together, never a newer
# stamp beside an older ring (which would keep that ring until the file changed again).
_RELOAD = threading.Lock()
log = logging.getLogger(__name__)


def _stamp(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns, info.st_size


def keyring() -> crypto.Keyring:
    """The keyring, read again from its file whenever the file has changed.

    `trygg keys rotate` (or a new file copied in from another host) replaces the file
    under running processes. Reading it again lets them open data keys re-wrapped under
    the new key and wrap new ones under it: a process still wrapping under the old key
    after `trygg keys retire` removed it would store reports nobody could open again.
    """
    extensions = current_app.extensions
    ring: crypto.Keyring = extensions["trygg.keyring"]
    path = ring.path
    if path is None:
        return ring
    try:
        if _stamp(path) == extensions.get(_STAMP):
            return ring
    except OSError:
        pass  # looked at again below, under the lock, and reported there
    with _RELOAD:
        ring = extensions["trygg.keyring"]
        try:
            # Stamped before reading: a change made while it is read is read next time.
            stamp = _stamp(path)
            if stamp == extensions.get(_STAMP):
                return ring  # another thread has just read it
            fresh = crypto.Keyring.load(path)
        except (OSError, crypto.KeyringError) as exc:
            # Being replaced, or half copied: keep the keys loaded; look again next time.
            if not extensions.get(_UNREADABLE):
                log.warning("keyring file unreadable, keeping the keys loaded: %s", exc)
                extensions[_UNREADABLE] = True
            return ring
        extensions["trygg.keyring"] = fresh
        extensions[_STAMP] = stamp
        extensions[_UNREADABLE] = False
        return fresh


def init_app(app: Flask) -> None:
    """Load the keyring named by the settings and register the `keys` CLI group."""
    path = Path(app.config["TRYGG"]["keyring_path"])
    # Stamped before reading: a change made while it is read is read again on first use.
    stamp: tuple[int, int, int] | None = None
    with contextlib.suppress(OSError):  # Keyring.load says what is wrong with the file
        stamp = _stamp(path)
    try:
        ring = crypto.Keyring.load(path)
    except crypto.KeyringError as exc:
        # A configuration problem like any other: one line naming the setting, no traceback.
        raise ConfigError(f"TRYGG_KEYRING_PATH: {exc}") from None
    app.extensions["trygg.keyring"] = ring
    app.extensions[_STAMP] = stamp
    app.cli.add_command(keys_cli)


def _stored(column: Any) -> Any:
    """A wrapped data key is stored in this row: not missing, and not shredded (retention
    empties a deleted report's key, so its sealed fields can never be opened again)."""
    return and_(column.is_not(None), func.length(column) > 0)


def rewrap_all(batch: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Re-wrap every stored data key under the active KEK, in committed batches.

    Resumable: rows already under the active key are skipped, so a run cut short can
    simply be started again.
    """
    ring = keyring()
    done = 0
    for column in wrapped_key_columns():
        model = column.class_
        pk = model.__mapper__.primary_key[0]
        last: Any = None
        while True:
            query = select(pk, column).where(_stored(column)).order_by(pk).limit(batch)
            if last is not None:
                query = query.where(pk > last)
            rows = db.session.execute(query).all()
            if not rows:
                break
            for row_id, blob in rows:
                if crypto.wrapped_key_id(blob) != ring.active_id:
                    db.session.execute(
                        update(model).where(pk == row_id).values({column.key: ring.rewrap(blob)})
                    )
                done += 1
            last = rows[-1][0]
            db.session.commit()
            if progress:
                progress(len(rows))
    return done


def _tally(blobs: Iterable[bytes]) -> tuple[Counter[str], dict[str, bytes]]:
    """How many of these wrapped data keys each KEK id wraps, and one of them per id."""
    used: Counter[str] = Counter()
    sample: dict[str, bytes] = {}
    for blob in blobs:
        kid = crypto.wrapped_key_id(blob)
        used[kid] += 1
        sample.setdefault(kid, blob)
    return used, sample


def usage() -> tuple[Counter[str], dict[str, bytes]]:
    """How many stored data keys each KEK id wraps (whether or not the keyring holds it),
    and one of them per id."""
    return _tally(
        blob
        for column in wrapped_key_columns()
        for blob in db.session.scalars(select(column).where(_stored(column)))
    )


def usage_count(kek_id: str) -> int:
    """How many stored data keys are still wrapped with the given KEK."""
    return usage()[0][kek_id]


def sampled_usage() -> tuple[Counter[str], dict[str, bytes]]:
    """`usage()` of the first and the last stored data key of each column only: enough
    to tell another instance's keyring (which holds none of the data's keys) without
    reading every row, as a web process must on its first request."""

    def ends() -> Iterator[bytes]:
        for column in wrapped_key_columns():
            pk = column.class_.__mapper__.primary_key[0]
            for order in (pk.asc(), pk.desc()):
                query = select(column).where(_stored(column)).order_by(order).limit(1)
                blob = db.session.scalar(query)
                if blob is not None:
                    yield blob

    return _tally(ends())


def keyring_problem(
    ring: crypto.Keyring,
    found: tuple[Counter[str], dict[str, bytes]] | None = None,
    *,
    sampled: bool = False,
) -> str | None:
    """Why this keyring cannot open the stored data keys, or None.

    Every KEK id the data uses must be in the ring, and a data key of each must open
    with it (a ring with the right ids but other keys is not the one the data needs).
    `sampled`: `found` is `sampled_usage()`, whose counts are not the data's.
    """
    used, sample = found or usage()
    missing = sorted(kid for kid in used if kid not in ring.keys)
    if missing:
        count = "" if sampled else f"{sum(used[kid] for kid in missing)} "
        return (
            f"{count}data keys are wrapped with {', '.join(missing)}, which the keyring "
            f"{ring.path} does not hold: configure the keyring this database was written with"
        )
    for kid, blob in sample.items():
        try:
            ring.unwrap(blob)
        except crypto.CryptoError:
            return (
                f"the keyring {ring.path} holds {kid}, but not the key the data was wrapped "
                "with: configure the keyring this database was written with"
            )
    return None


_DATA_CHECK = "trygg.keyring.data_check"


def data_problem() -> str | None:
    """Why the keyring in use does not open the stored data (`keyring_problem` on a
    sample), or None: checked once per keyring a process loads, then a cached answer.

    The first check that finds a problem logs it once (key ids and the keyring's path,
    no key). The keyring file is looked at (a stat) on every call, so that a wrong file
    copied in under a running process is found before the request seals anything with
    it, and copying the right keyring in ends it without a restart. A database that
    cannot answer is no answer: checked again next time.
    """
    extensions = current_app.extensions
    checked = extensions.get(_DATA_CHECK)
    ring = keyring()  # the file as it is now (a rotation beside us, a wrong or right file)
    if checked is not None and checked[0] is ring:
        return checked[1]
    try:
        problem = keyring_problem(ring, sampled_usage(), sampled=True)
    except SQLAlchemyError:
        db.session.rollback()
        return None
    except crypto.CryptoError as exc:  # a stored key in no format this version knows
        problem = str(exc)
    if problem:
        log.error("the keyring does not open the stored data: %s", problem)
    extensions[_DATA_CHECK] = (ring, problem)
    return problem


def total_wrapped() -> int:
    """How many wrapped data keys are stored in all."""
    return sum(
        db.session.scalar(select(func.count()).select_from(c.class_).where(_stored(c))) or 0
        for c in wrapped_key_columns()
    )


keys_cli = AppGroup("keys", help="Manage the key-encryption keys.")


@click.command("init")
@click.option("--path", "path", required=True, type=click.Path(dir_okay=False))
def init_command(path: str) -> None:
    """Create a new keyring file (mode 0600) for production."""
    # A plain command, not the app's: it runs before the keyring the configuration names
    # exists (and the app, which loads that keyring, cannot start without it).
    try:
        ring = crypto.create_keyring_file(Path(path))
    except crypto.KeyringError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created keyring {path} with key {ring.active_id}")


keys_cli.add_command(init_command)


def _refuse_a_keyring_that_does_not_open(ring: crypto.Keyring) -> None:
    problem = keyring_problem(ring)
    if problem:
        raise click.ClickException(f"{problem}; nothing was changed")


@keys_cli.command("rotate")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
def rotate_command(batch: int) -> None:
    """Add a new key-encryption key and re-wrap every data key under it."""
    ring = keyring()
    # Checked before the new key is written: a wrong keyring must not be rotated into
    # a file that then looks like the right one.
    _refuse_a_keyring_that_does_not_open(ring)
    new_id = ring.add_key()
    ring.save()
    click.echo(f"new active key {new_id}; re-wrapping data keys")
    with click.progressbar(length=total_wrapped(), label="re-wrapping") as bar:
        count = rewrap_all(batch=batch, progress=bar.update)
    # An operator's action like any other: in the audit log (key ids and a count only).
    audit.record("keys.rotate", actor="cli", object_type="key", object_id=new_id)
    db.session.commit()
    click.echo(f"re-wrapped {count} data keys under {new_id}")


@keys_cli.command("rewrap")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
def rewrap_command(batch: int) -> None:
    """Resume an interrupted rotation: re-wrap data keys still under older keys."""
    _refuse_a_keyring_that_does_not_open(keyring())
    with click.progressbar(length=total_wrapped(), label="re-wrapping") as bar:
        count = rewrap_all(batch=batch, progress=bar.update)
    click.echo(f"checked {count} data keys")


@keys_cli.command("retire")
@click.argument("kek_id")
def retire_command(kek_id: str) -> None:
    """Remove an old key-encryption key; refused while any data key still uses it."""
    ring = keyring()
    # The active key and an unknown one are refused first: "rewrap first" would not help.
    in_use = usage_count(kek_id) if kek_id in ring.keys and kek_id != ring.active_id else 0
    if in_use:
        raise click.ClickException(
            f"key {kek_id} still wraps {in_use} data keys; run `trygg keys rewrap` first"
        )
    try:
        ring.remove_key(kek_id)
    except crypto.KeyringError as exc:
        raise click.ClickException(str(exc)) from None
    ring.save()
    audit.record("keys.retire", actor="cli", object_type="key", object_id=kek_id)
    db.session.commit()
    click.echo(f"retired key {kek_id}")


@keys_cli.command("list")
def list_command() -> None:
    """Show the keys in the keyring and how many data keys each wraps."""
    ring = keyring()
    found = usage()
    used = found[0]
    for kid in ring.keys:
        marker = " (active)" if kid == ring.active_id else ""
        click.echo(f"{kid}{marker}: {used[kid]} data keys")
    for kid in sorted(set(used) - set(ring.keys)):
        click.echo(f"{kid} (NOT IN THIS KEYRING): {used[kid]} data keys cannot be opened")
    problem = keyring_problem(ring, found)
    if problem:
        raise click.ClickException(problem)
