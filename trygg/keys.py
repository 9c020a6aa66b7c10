"""The application's keyring, and key rotation and retirement.

Every model column that stores a wrapped data key registers itself with
`register_wrapped_key_column`, so rotation and retirement reach all of them without the
kernel importing domain packages.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from trygg import crypto
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


def usage_count(kek_id: str) -> int:
    """How many stored data keys are still wrapped with the given KEK."""
    total = 0
    for column in wrapped_key_columns():
        for blob in db.session.scalars(select(column).where(_stored(column))):
            if crypto.wrapped_key_id(blob) == kek_id:
                total += 1
    return total


def total_wrapped() -> int:
    """How many wrapped data keys are stored in all."""
    return sum(
        db.session.scalar(select(func.count()).select_from(c.class_).where(_stored(c))) or 0
        for c in wrapped_key_columns()
    )


keys_cli = AppGroup("keys", help="Manage the key-encryption keys.")


@keys_cli.command("init")
@click.option("--path", "path", required=True, type=click.Path(dir_okay=False))
def init_command(path: str) -> None:
    """Create a new keyring file (mode 0600) for production."""
    try:
        ring = crypto.create_keyring_file(Path(path))
    except crypto.KeyringError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created keyring {path} with key {ring.active_id}")


@keys_cli.command("rotate")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
def rotate_command(batch: int) -> None:
    """Add a new key-encryption key and re-wrap every data key under it."""
    ring = keyring()
    new_id = ring.add_key()
    ring.save()
    click.echo(f"new active key {new_id}; re-wrapping data keys")
    with click.progressbar(length=total_wrapped(), label="re-wrapping") as bar:
        count = rewrap_all(batch=batch, progress=bar.update)
    click.echo(f"re-wrapped {count} data keys under {new_id}")


@keys_cli.command("rewrap")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
def rewrap_command(batch: int) -> None:
    """Resume an interrupted rotation: re-wrap data keys still under older keys."""
    with click.progressbar(length=total_wrapped(), label="re-wrapping") as bar:
        count = rewrap_all(batch=batch, progress=bar.update)
    click.echo(f"checked {count} data keys")


@keys_cli.command("retire")
@click.argument("kek_id")
def retire_command(kek_id: str) -> None:
    """Remove an old key-encryption key; refused while any data key still uses it."""
    ring = keyring()
    in_use = usage_count(kek_id)
    if in_use:
        raise click.ClickException(
            f"key {kek_id} still wraps {in_use} data keys; run `trygg keys rewrap` first"
        )
    try:
        ring.remove_key(kek_id)
    except crypto.KeyringError as exc:
        raise click.ClickException(str(exc)) from None
    ring.save()
    click.echo(f"retired key {kek_id}")


@keys_cli.command("list")
def list_command() -> None:
    """Show the keys in the keyring and how many data keys each wraps."""
    ring = keyring()
    for kid in ring.keys:
        marker = " (active)" if kid == ring.active_id else ""
        click.echo(f"{kid}{marker}: {usage_count(kid)} data keys")
