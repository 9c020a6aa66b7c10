"""The web app started with a keyring that does not open the stored data (another
instance's keyring beside a restored backup): the operator learns it from /healthz and
one log line, the users from a plain page, and nothing is sealed with the wrong keys."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import case_of, csrf_token, form_login
from tests.operations.support import fill
from tests.reporting.support import valid_report
from trygg import crypto

NO_TWO_FACTOR = {"two_factor_roles": []}
MESSAGE = "Trygg cannot read its data right now"


@pytest.fixture
def setup(make_app, scratch_database, keyring_path: Path, tmp_path: Path):
    """The instance with its own keyring (a copy, replaced by the test), filled."""
    own = tmp_path / "keyring.json"
    shutil.copy(keyring_path, own)
    app = make_app(database_url=scratch_database, keyring_path=str(own), **NO_TWO_FACTOR)
    filled = fill(app)
    other = tmp_path / "other-keyring.json"
    crypto.create_keyring_file(other)
    return app, filled, own, other


def in_english(client: Any) -> Any:
    """Pages never follow Accept-Language (trygg/language.py): choose English as the
    language switch does."""
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def secrets_of(path: Path) -> list[str]:
    """Every key and the lookup secret in a keyring file, as written there."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= 32:
            found.append(value)

    walk(json.loads(path.read_text()))
    return found


def test_started_with_another_keyring(make_app, scratch_database, setup, caplog) -> None:
    app, _filled, _own, other = setup
    wrong = make_app(database_url=scratch_database, keyring_path=str(other), **NO_TWO_FACTOR)
    client = in_english(wrong.test_client())
    with caplog.at_level(logging.INFO):
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json()["keyring"] == "does_not_open_data"
        assert client.get("/healthz").status_code == 503

        page = client.get("/login")
        assert page.status_code == 503
        assert MESSAGE in page.get_data(as_text=True)
        assert "Retry-After" in page.headers
    told = [r for r in caplog.records if "does not open the stored data" in r.getMessage()]
    assert len(told) == 1, [r.getMessage() for r in caplog.records]
    assert told[0].levelno == logging.ERROR
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets_of(other) + secrets_of(Path(app.config["TRYGG"]["keyring_path"])):
        assert secret not in logged
    assert "Traceback" not in logged
    # The instance with its own keyring is unaffected.
    assert app.test_client().get("/healthz").status_code == 200


def test_keyring_replaced_under_a_running_process(setup) -> None:
    """A wrong file copied in while users work: the next page says so instead of a 500,
    no report is sealed with keys the right keyring lacks, and copying the right file
    back ends it without a restart."""
    app, filled, own, other = setup
    saved = own.read_bytes()
    staff = app.test_client()
    form_login(staff, filled.handler)
    in_english(staff)
    reporter = app.test_client()
    form_login(reporter, filled.employee)
    in_english(reporter)
    token = csrf_token(reporter)
    case_id = case_of(app, filled.report_ids[0])
    assert staff.get(f"/cases/{case_id}").status_code == 200
    assert app.test_client().get("/healthz").status_code == 200

    shutil.copy(other, own)
    page = staff.get(f"/cases/{case_id}")
    assert page.status_code == 503, page.get_data(as_text=True)[:300]
    assert MESSAGE in page.get_data(as_text=True)
    assert app.test_client().get("/healthz").get_json()["keyring"] == "does_not_open_data"
    sent = reporter.post("/api/v1/reports", json={}, headers={"X-CSRFToken": token})
    assert sent.status_code == 503
    assert MESSAGE in str(sent.get_json())

    own.write_bytes(saved)
    assert app.test_client().get("/healthz").status_code == 200
    assert staff.get(f"/cases/{case_id}").status_code == 200


def test_a_report_sent_first_after_the_keyring_is_replaced_is_not_sealed_with_it(setup):
    """No page has failed to open anything yet: the report, the first request after a
    wrong file was copied in, is refused, not sealed with keys the right keyring lacks."""
    from reporting.models import Report
    from trygg.extensions import db

    app, filled, own, other = setup
    reporter = app.test_client()
    form_login(reporter, filled.employee)
    token = csrf_token(reporter)
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Report))
        unit_id = db.session.scalar(select(Report.unit_id).limit(1))
    shutil.copy(other, own)
    body = valid_report(unit_id)
    sent = reporter.post("/api/v1/reports", json=body, headers={"X-CSRFToken": token})
    assert sent.status_code == 503, sent.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == stored


def test_the_scheduler_does_nothing_with_another_keyring(make_app, scratch_database, setup):
    """The tick writes reminders and audit entries and opens sealed mail codes: with a
    keyring that does not open the data it does none of it (and says so on the command
    line), and the e-mails the reports gave stay waiting for the right keyring."""
    from notifications.models import Notification, SchedulerBeat
    from trygg.extensions import db

    _app, _filled, _own, other = setup
    wrong = make_app(database_url=scratch_database, keyring_path=str(other), **NO_TWO_FACTOR)
    with wrong.app_context():
        waiting = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None))
        )
    assert waiting
    ticked = wrong.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert ticked.exit_code != 0
    assert "the keyring does not open the data" in ticked.output
    assert len(ticked.output.strip().splitlines()) == 1
    with wrong.app_context():
        assert db.session.scalar(select(func.count()).select_from(SchedulerBeat)) == 0
        still = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None))
        )
    assert still == waiting
