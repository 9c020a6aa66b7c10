"""One transaction per report: references under concurrency, the signal, and rollback."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from reporting.models import Report
from tests.factories import Factory, api_login
from tests.reporting.support import post_report, token, valid_report
from trygg.extensions import db
from trygg.roles import Role
from trygg.signals import report_submitted


def _count(url: str, sql: str) -> int:
    """Count rows through a connection of its own: only committed rows are seen."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_references_are_sequential_under_concurrent_submissions(scratch_app):
    make = Factory(scratch_app)
    unit = make.unit()
    clients = []
    for _ in range(2):
        client = scratch_app.test_client()
        api_login(client, make.user(Role.EMPLOYEE, units=(unit,)))
        token(client)  # fetch the CSRF token before the race
        clients.append(client)
    start = threading.Barrier(len(clients))
    references: list[str] = []
    failures: list[object] = []

    def submit_ten(client) -> None:
        start.wait()
        for _ in range(10):
            response = post_report(client, valid_report(unit.id))
            if response.status_code != 201:
                failures.append(response.get_json())
            else:
                references.append(response.get_json()["reference"])

    threads = [threading.Thread(target=submit_ten, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    year = datetime.now(UTC).year
    assert all(re.fullmatch(rf"AVV-{year}-\d{{5}}", r) for r in references)
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references)
    assert numbers == list(range(1, 21))


def test_the_signal_is_sent_inside_the_transaction(scratch_app, scratch_database):
    make = Factory(scratch_app)
    unit = make.unit()
    client = scratch_app.test_client()
    api_login(client, make.user(Role.EMPLOYEE, units=(unit,)))
    seen: list[tuple[int, bool, int, str]] = []

    def receiver(report: Report, actor: str, **_extra: object) -> None:
        in_session = db.session.get(Report, report.id) is report
        committed = _count(scratch_database, "SELECT count(*) FROM report")
        seen.append((report.id, in_session, committed, actor))

    with report_submitted.connected_to(receiver):
        created = post_report(client, valid_report(unit.id))
    assert created.status_code == 201
    report_id = created.get_json()["id"]
    # Sent once, with the stored report, before anything was committed.
    assert len(seen) == 1
    assert seen[0][:3] == (report_id, True, 0)
    assert seen[0][3].startswith("user:")
    assert _count(scratch_database, "SELECT count(*) FROM report") == 1


def test_a_failing_receiver_rolls_the_whole_report_back(scratch_app, scratch_database):
    make = Factory(scratch_app)
    unit = make.unit()
    client = scratch_app.test_client()
    api_login(client, make.user(Role.EMPLOYEE, units=(unit,)))
    scratch_app.config["PROPAGATE_EXCEPTIONS"] = False
    audit_before = _count(scratch_database, "SELECT count(*) FROM audit_entry")

    def failing_receiver(report: Report, **_extra: object) -> None:
        raise RuntimeError("the case could not be opened")

    with report_submitted.connected_to(failing_receiver):
        response = post_report(client, valid_report(unit.id), files=[(b"evidence", "evidence.txt")])
    assert response.status_code == 500
    assert set(response.get_json()["errors"]) == {"_request"}
    for table in ("report", "report_incident_type", "attachment", "attachment_chunk"):
        assert _count(scratch_database, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    assert _count(scratch_database, "SELECT count(*) FROM audit_entry") == audit_before

    # The reference number was not used up either.
    created = post_report(client, valid_report(unit.id))
    assert created.status_code == 201
    assert created.get_json()["reference"].endswith("-00001")


def test_references_keep_counting_past_five_digits(app, client, reporter):
    year = datetime.now(UTC).year
    first = post_report(client, valid_report(reporter.unit.id))
    assert first.get_json()["reference"] == f"AVV-{year}-00001"
    with app.app_context():
        db.session.execute(
            text("UPDATE reference_counter SET value = 99998 WHERE prefix = 'AVV' AND year = :y"),
            {"y": year},
        )
        db.session.commit()
    references = [
        post_report(client, valid_report(reporter.unit.id)).get_json()["reference"]
        for _ in range(3)
    ]
    assert references == [f"AVV-{year}-99999", f"AVV-{year}-100000", f"AVV-{year}-100001"]


def test_a_report_racing_the_years_first_counter_keeps_its_case_in_the_log(
    scratch_app, scratch_database
):
    """Another transaction creates the year's counter while a report is submitted: the
    report's savepoint loses the race, and the case's log entries must survive that."""
    make = Factory(scratch_app)
    unit = make.unit()
    client = scratch_app.test_client()
    api_login(client, make.user(Role.EMPLOYEE, units=(unit,)))
    token(client)
    year = datetime.now(UTC).year
    engine = create_engine(scratch_database)
    try:
        with engine.connect() as other:
            racing = other.begin()
            other.execute(
                text("INSERT INTO reference_counter (prefix, year, value) VALUES ('AVV', :y, 0)"),
                {"y": year},
            )
            answers: list[object] = []
            thread = threading.Thread(
                target=lambda: answers.append(post_report(client, valid_report(unit.id)))
            )
            thread.start()
            thread.join(timeout=1)  # the submission now waits for the racing counter
            racing.commit()
            thread.join(timeout=60)
        created = answers[0]
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["reference"] == f"AVV-{year}-00001"
        with engine.connect() as conn:
            actions = list(
                conn.execute(text("SELECT action FROM audit_entry ORDER BY seq")).scalars()
            )
    finally:
        engine.dispose()
    assert "report.submit" in actions
    assert "case.open" in actions
