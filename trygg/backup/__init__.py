"""`trygg backup --out DIR` and `trygg restore DIR`.

A backup is a folder with the database copy (engines.py) and `manifest.json`: the schema
revision, the rows in every table, the audit chain's head and state, and which keys of
the keyring wrap the stored data keys. The keyring is never in it: a backup is
unreadable without the keyring, which is kept (and backed up) apart.

A restore goes only into an empty database. Before it writes anything it checks the
copy's checksum, the engine, the schema revision and that the configured keyring holds
every key the data needs; after, it measures the restored database as the backup
measured the original (facts.py) and opens every data key with the keyring. When
anything differs it empties the database again and says what was wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import Config

from trygg import keys
from trygg.backup import engines
from trygg.backup.engines import BackupError
from trygg.backup.facts import Facts, differences, gather
from trygg.extensions import db, utcnow

MANIFEST = "manifest.json"
FORMAT = 1
KEYRING_REMINDER = (
    "The keyring is not in this backup, and the backup cannot be read without it: back up "
    "{path} separately (and keep the two apart)."
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _new_folder(out: Path) -> bool:
    """Make the backup's folder private; True when it did not exist before."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} exists and is not an empty folder; give a new one")
    made = not out.exists()
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.chmod(0o700)
    return made


def backup(out: Path) -> dict[str, Any]:
    """Write the database copy and its manifest into a new folder; return the manifest.

    A backup that fails leaves no half-written copy behind (which would also block the
    next attempt into the same folder): the folder is as it was before.
    """
    made = _new_folder(out)
    try:
        return _write_backup(out)
    except BaseException:
        for name in (*engines.DUMP_FILE.values(), MANIFEST):
            (out / name).unlink(missing_ok=True)
        if made:
            out.rmdir()
        raise


def _write_backup(out: Path) -> dict[str, Any]:
    engine = db.engine
    name = engine.dialect.name
    if name not in engines.DUMP_FILE:
        raise BackupError(f"cannot back up a {name} database")
    target = out / engines.DUMP_FILE[name]
    # Created private before anything is written into it: it holds users' names in clear.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    dump = engines.dump_postgres if name == "postgresql" else engines.dump_sqlite
    facts, versions = dump(engine, target)
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "engine": name,
        "file": target.name,
        "size": target.stat().st_size,
        "sha256": _sha256(target),
        "versions": versions,
        **facts.as_dict(),
    }
    body = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    fd = os.open(out / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body)
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, after checking that the copy beside it is the one it describes."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} has no {MANIFEST}: it is not a Trygg backup") from None
    except ValueError:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST} has format {manifest.get('format')!r}, not 1")
    copy = folder / str(manifest.get("file"))
    if not copy.is_file():
        raise BackupError(f"{copy} is missing")
    if _sha256(copy) != manifest.get("sha256"):
        raise BackupError(f"{copy} is not the file the manifest describes (checksum differs)")
    return manifest


def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


def _check_before(manifest: dict[str, Any]) -> None:
    """Everything that can be known before writing: engine, emptiness, schema, keys."""
    engine = db.engine
    if manifest["engine"] != engine.dialect.name:
        raise BackupError(
            f"the backup is of a {manifest['engine']} database; the configured database is "
            f"{engine.dialect.name}"
        )
    if not engines.is_empty(engine):
        raise BackupError("the configured database is not empty; restore into an empty one")
    script = _script()
    for revision in filter(None, manifest["revision"].split(",")):
        try:
            script.get_revision(revision)
        except CommandError:
            raise BackupError(
                f"schema revision {revision} is unknown to this version of Trygg: restore "
                "with the version that made the backup, or a newer one"
            ) from None
    ring = keys.keyring()
    missing = sorted(set(manifest["key_ids"]) - set(ring.keys))
    if missing:
        retired = [kid for kid in missing if kid in ring.retired]
        hint = (
            f" ({', '.join(retired)} was retired from it since: use the copy of the keyring "
            "kept from before the rotation)"
            if retired
            else ""
        )
        raise BackupError(
            f"the keyring {ring.path} lacks {', '.join(missing)}, which the backed-up data "
            f"needs: configure the keyring that was in use when the backup was made{hint}"
        )


def restore(folder: Path) -> Facts:
    """Restore a backup into the empty configured database and check it; return facts."""
    manifest = read_manifest(folder)
    _check_before(manifest)
    expected = Facts.from_dict(manifest)
    engine = db.engine
    copy = folder / manifest["file"]
    try:
        if engine.dialect.name == "postgresql":
            engines.restore_postgres(engine, copy, manifest["versions"].get("pg_dump", ""))
        else:
            engines.restore_sqlite(engine, copy)
        with engine.connect() as connection:
            found = gather(connection)
        problems = differences(expected, found)
        if problems:
            raise BackupError("the restored database differs: " + "; ".join(problems))
    except BaseException:
        engines.wipe(engine)
        raise
    return found


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new (or empty) folder for the backup.",
)
@with_appcontext
def backup_command(out: Path) -> None:
    """Back up the database, with a manifest; the keyring is backed up separately."""
    try:
        manifest = backup(out)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(manifest["counts"].values())
    click.echo(
        f"backed up {manifest['engine']} database at schema revision {manifest['revision']}: "
        f"{rows} rows, audit chain {manifest['audit']} -> {out}"
    )
    if not manifest["audit_intact"]:
        click.echo("warning: the audit chain was already broken when backed up", err=True)
    if manifest["unopenable"]:
        # The copy is good, but the keyring to keep beside it is not this one.
        click.echo(
            f"warning: {manifest['unopenable']} data keys do not open with the configured "
            f"keyring {keys.keyring().path}: it is not the keyring this database was written "
            "with, and the backup is unreadable without that one",
            err=True,
        )
    click.echo(KEYRING_REMINDER.format(path=keys.keyring().path))


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(folder: Path) -> None:
    """Restore a backup into an empty database, checking it against its manifest."""
    try:
        found = restore(folder)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(found.counts.values())
    click.echo(
        f"restored and checked: {rows} rows as in the manifest, every data key opens, "
        f"audit chain {found.audit}"
    )
    heads = _script().get_heads()
    if found.revision not in heads:
        click.echo(f"the schema is at {found.revision}: run `trygg db upgrade` before serving")


def init_app(app: Flask) -> None:
    """Register `trygg backup` and `trygg restore`."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
