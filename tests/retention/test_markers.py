"""The marker test: after retention, no trace of a deleted case anywhere we can look.

A case gets a marker in every free-text field, its file's name and content, every
message, its task note, its debriefing and its closing; the clock moves past its
retention time and `trygg retention run` runs on a really committed database. Then the
marker, and the ciphertext that held it, are searched for in the raw SQLite file and
its write-ahead log (or a pg_dump), in everything logged, and in the outbox.
"""

from __future__ import annotations

import logging
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select
from sqlalchemy.engine import make_url

from notifications.models import Notification
from notifications.scheduler import tick
from reporting.models import AttachmentChunk, Report
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case
from trygg.extensions import db, utcnow

MARKER = "QZXV7MARK"


def raw_database(url: str) -> bytes:
    """The database as bytes: the SQLite file and its -wal, or a pg_dump."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    dumped = subprocess.run(  # noqa: S603 - our own URL, no shell
        ["pg_dump", "--no-owner", plain],  # noqa: S607 - pg_dump from PATH
        check=True,
        capture_output=True,
        env={**os.environ},
    )
    return dumped.stdout


def forms(blob: bytes) -> list[bytes]:
    """A stored value as the raw file (bytes) and as pg_dump (hex) would hold it."""
    return [blob[:48], blob[:48].hex().encode()]


def test_a_deleted_case_leaves_no_marker_anywhere(make_app, scratch_database, caplog, pg_tools):
    caplog.set_level(logging.DEBUG)
    app = make_app(database_url=scratch_database)
    world = build_world(app)
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, report_id, reference = marked_case(
        app, world, MARKER, handler=handler, reporter=reporter
    )
    with app.app_context():
        tick()  # the case's notifications go out (logged: no SMTP server)
        report = db.session.get(Report, report_id)
        assert report is not None
        sealed = [report.narrative_sealed, report.wrapped_key]
        sealed += list(db.session.scalars(select(AttachmentChunk.data)))
        db.session.remove()
        db.engine.dispose()
    before = raw_database(scratch_database)
    # The search can find what is stored: the case's ciphertext is there.
    assert all(any(form in before for form in forms(blob)) for blob in sealed if blob)

    runner = app.test_cli_runner()
    with time_machine.travel(utcnow() + timedelta(days=11 * 366), tick=False):
        result = runner.invoke(args=["retention", "run"])
        assert result.exit_code == 0, result.output
        assert f"deleted {reference}" in result.output
        with app.app_context():
            tick()
            outbox = db.session.scalars(select(Notification)).all()
            db.session.remove()
            db.engine.dispose()

    after = raw_database(scratch_database)
    assert MARKER.encode() not in after
    assert MARKER.encode().hex().encode() not in after
    for blob in sealed:
        assert blob
        for form in forms(blob):
            assert form not in after
    assert MARKER not in caplog.text
    assert MARKER not in result.output
    for row in outbox:
        assert MARKER not in f"{row.dedupe_key} {row.link} {row.subject} {row.mail_key}"
        assert row.subject != f"case:{case_id}"
        assert row.link != f"/cases/{case_id}"
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 404
