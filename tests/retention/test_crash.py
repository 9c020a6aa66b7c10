"""kill -9 of `trygg retention run` halfway: each case is whole or fully deleted.

Cases with a file and messages are made and aged past their retention time; the run is
started as its own process and killed (SIGKILL) as soon as the first tombstone is
committed, while it deletes the next case. Every case is then checked: either it opens
entirely (key, sealed fields, file, messages, no tombstone) or nothing of it is left
(no key, no sealed field, file or message, and a tombstone). A second run finishes the
job, and the audit chain verifies after each.
"""

from __future__ import annotations

import io
import json
import secrets
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text, update

from bench import crash
from handling.models import Case, CaseMessage
from handling.states import CaseState
from reporting import service as reporting
from reporting.models import SEALED_FIELDS, Attachment, AttachmentChunk, Report
from retention.models import Tombstone
from tests.handling.conftest import Api
from tests.retention.support import PDF, build_world, report_payload
from trygg.extensions import db, utcnow

CASES = 24
WAIT = 120.0


def make_cases(app, world) -> list[int]:
    """Reports with a file and messages, dropped long ago: all due for deletion."""
    reporter, handler = Api(app, world.employee), Api(app, world.handler)
    report_ids = []
    for index in range(CASES):
        r = reporter.client.post(
            "/api/v1/reports",
            data={
                "data": json.dumps(report_payload(world, f"C{index}")),
                "files": (io.BytesIO(PDF + b"(x)"), "file.pdf"),
            },
            headers={"X-CSRFToken": reporter.token},
            content_type="multipart/form-data",
        )
        assert r.status_code == 201, r.get_json()
        report_ids.append(r.get_json()["id"])
    with app.app_context():
        cases = dict(db.session.execute(select(Case.report_id, Case.id)).all())
    for report_id in report_ids:
        base = f"/api/v1/cases/{cases[report_id]}"
        assert handler.post(base + "/messages", {"body": "hello"}).status_code == 201
        r = handler.post(base + "/transitions", {"to": CaseState.DROPPED, "reason": "not ours"})
        assert r.status_code == 200, r.get_json()
    with app.app_context():
        db.session.execute(update(Case).values(closed_at=utcnow() - timedelta(days=20 * 366)))
        db.session.commit()
    return report_ids


def tombstones(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM tombstone")).scalar_one())
    finally:
        engine.dispose()


def run_and_kill(env: dict[str, str], url: str, log: Path) -> int:
    """Start the run; SIGKILL it once a first case is deleted. The tombstones then."""
    trygg = str(Path(sys.executable).with_name("trygg"))
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [trygg, "retention", "run"], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + WAIT
    try:
        while tombstones(url) == 0:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the run deleted nothing in time"
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=WAIT)
    assert process.returncode == -signal.SIGKILL
    return tombstones(url)


def check_whole_or_gone(app, report_ids: list[int]) -> tuple[int, int]:
    """(whole, gone); fails on a case in between."""
    whole = gone = 0
    with app.app_context():
        for report_id in report_ids:
            report = db.session.get(Report, report_id)
            assert report is not None
            case = db.session.scalar(select(Case).where(Case.report_id == report_id))
            assert case is not None
            files = db.session.scalar(select(func.count()).where(Attachment.report_id == report_id))
            chunks = db.session.scalar(
                select(func.count())
                .select_from(AttachmentChunk)
                .join(Attachment, Attachment.id == AttachmentChunk.attachment_id)
                .where(Attachment.report_id == report_id)
            )
            messages = db.session.scalar(select(func.count()).where(CaseMessage.case_id == case.id))
            tomb = db.session.scalar(select(func.count()).where(Tombstone.report_id == report_id))
            if report.erased_month is None:
                content = reporting.open_report(report, actor="test", part="check")
                assert content.fields["narrative"].startswith("C")
                assert (files, messages, tomb) == (1, 1, 0)
                assert chunks
                assert case.drop_reason_sealed is not None
                whole += 1
            else:
                assert report.wrapped_key == b""
                assert all(report.sealed(name) is None for name in SEALED_FIELDS)
                assert (files, chunks, messages, tomb) == (0, 0, 0, 1)
                assert case.drop_reason_sealed is None
                gone += 1
        db.session.rollback()
    return whole, gone


def test_kill_9_halfway_leaves_each_case_whole_or_fully_deleted(
    make_app, scratch_database, base_settings, tmp_path
):
    app = make_app(database_url=scratch_database)
    world = build_world(app)
    report_ids = make_cases(app, world)
    env = crash.server_env(
        tmp_path, scratch_database, Path(base_settings["keyring_path"]), secrets.token_urlsafe(48)
    )
    log = tmp_path / "retention.log"

    deleted = run_and_kill(env, scratch_database, log)
    assert 0 < deleted < CASES, f"the kill did not fall halfway ({deleted} of {CASES})"
    whole, gone = check_whole_or_gone(app, report_ids)
    assert (whole, gone) == (CASES - deleted, deleted)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    finished = subprocess.run(  # noqa: S603 - our own command
        [str(Path(sys.executable).with_name("trygg")), "retention", "run"],
        env=env,
        capture_output=True,
        check=False,
        timeout=WAIT,
    )
    assert finished.returncode == 0, finished.stderr.decode()
    assert check_whole_or_gone(app, report_ids) == (0, CASES)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
