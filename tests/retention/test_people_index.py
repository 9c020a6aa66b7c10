"""The access download finds the reports naming a person as the exposed employee by an
index of keyed hashes (reporting/people_index.py), not by opening every report: its
statements do not grow with the number of reports. Since version 2 the index also holds
the reporter's account and those who must not handle the case (the safety rep's
conflicts of interest are found by it). Older reports are indexed by
`trygg retention index-people`; erasing a report removes its rows."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select, update

from reporting.erasure import erase_report
from reporting.models import Report, ReportPerson
from reporting.people_index import VERSION as PEOPLE_INDEX_VERSION
from retention import cli as retention_cli
from tests.factories import Factory
from tests.handling.conftest import Api
from tests.handling.test_list_sizes import statements  # noqa: F401 - fixture
from tests.retention.support import build_world, report_payload
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def world(app):
    return build_world(app)


def report(colleague: Api, world, marker: str, **extra) -> None:
    r = colleague.post("/api/v1/reports", {**report_payload(world, marker), **extra})
    assert r.status_code == 201, r.get_json()


def test_the_download_finds_the_named_reports_by_index_in_bounded_statements(
    app,
    world,
    statements,  # noqa: F811 - the fixture
):
    me = Api(app, world.employee)
    colleague = Api(app, Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,)))
    report(colleague, world, "NAMED", exposed=[{"user_id": world.employee.id}])
    report(colleague, world, "OTHER0")

    def download() -> tuple[list[str], int]:
        statements.clear()
        doc = me.get("/api/v1/account/my-data").get_json()
        return [n["reference"] for n in doc["named_as_exposed"]], len(statements)

    named_few, count_few = download()
    for n in range(1, 16):
        report(colleague, world, f"OTHER{n}")
    named_many, count_many = download()
    assert len(named_few) == 1
    assert named_many == named_few
    assert count_many == count_few
    with app.app_context():
        # The index holds keyed hashes, never the user id in clear.
        tags = set(db.session.scalars(select(ReportPerson.person_tag)))
        assert str(world.employee.id) not in tags
        assert all(len(tag) == 64 for tag in tags)


def test_reports_from_before_the_index_are_indexed_by_the_command(app, world, runner, monkeypatch):
    me = Api(app, world.employee)
    colleague = Api(app, Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,)))
    report(colleague, world, "OLD", exposed=[{"user_id": world.employee.id}])
    with app.app_context():  # as if stored before revision 0018 (0026: not at version 2)
        db.session.execute(delete(ReportPerson))
        db.session.execute(update(Report).values(people_index=None))
        db.session.commit()
    assert me.get("/api/v1/account/my-data").get_json()["named_as_exposed"] == []
    monkeypatch.setattr(retention_cli, "PROGRESS_EVERY", 1)  # a line per batch
    result = runner.invoke(args=["retention", "index-people"])
    assert result.exit_code == 0, result.output
    # What is to be done first, how far it has come, and what was done.
    assert result.output.splitlines() == [
        "1 reports to index (about 4 minutes per million here)",
        "indexed 1 of 1 reports",
        "indexed 1 reports",
    ]
    named = me.get("/api/v1/account/my-data").get_json()["named_as_exposed"]
    assert len(named) == 1
    again = runner.invoke(args=["retention", "index-people"])  # nothing twice
    assert again.exit_code == 0, again.output
    assert "indexed 0 reports" in again.output
    with app.app_context():
        # The exposed employee, and the reporter's own account (version 2).
        rows = db.session.execute(select(ReportPerson.role)).scalars().all()
        assert sorted(rows) == ["exposed", "reporter"]
        assert set(db.session.scalars(select(Report.people_index))) == {PEOPLE_INDEX_VERSION}


def test_reports_indexed_before_version_2_get_the_reporter_and_must_not_handle(app, world, runner):
    colleague = Api(app, Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,)))
    report(colleague, world, "V1", must_not_handle=[world.handler.id])
    with app.app_context():  # indexed by revision 0018's rules: the exposed only
        db.session.execute(delete(ReportPerson).where(ReportPerson.role != "exposed"))
        db.session.execute(update(Report).values(people_index=None))
        db.session.commit()
    result = runner.invoke(args=["retention", "index-people"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = sorted(db.session.execute(select(ReportPerson.role)).scalars())
        assert rows == ["exposed", "must_not_handle", "reporter"]


def test_erasing_a_report_removes_its_index_rows(app, world):
    colleague = Api(app, Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,)))
    report(colleague, world, "GONE", exposed=[{"user_id": world.employee.id}])
    with app.app_context():
        row = db.session.scalars(select(ReportPerson)).first()
        assert row is not None
        erase_report(db.session.get(Report, row.report_id), month=date.today().replace(day=1))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ReportPerson)) == 0


def test_a_report_erased_before_it_was_indexed_leaves_nothing_to_index(app, world, runner):
    """Retention deleted it before the index existed: the command has nothing to open in
    it (its key is shredded) and records it as indexed, with no rows, so that the reports
    still to be indexed (`people_index` NULL, a partial index) become none, as the
    migration says, and no query keeps walking past every old deleted report."""
    colleague = Api(app, Factory(app).user(Role.EMPLOYEE, name="Kari Kollega", units=(world.ward,)))
    report(colleague, world, "KEPT", exposed=[{"user_id": world.employee.id}])
    report(colleague, world, "GONE", exposed=[{"user_id": world.employee.id}])
    with app.app_context():  # both stored before the index; then retention deletes one
        db.session.execute(delete(ReportPerson))
        db.session.execute(update(Report).values(people_index=None))
        gone = db.session.scalars(select(Report).order_by(Report.id.desc())).first()
        erase_report(gone, month=date.today().replace(day=1))
        db.session.commit()
    result = runner.invoke(args=["retention", "index-people"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        unindexed = select(func.count()).select_from(Report).where(Report.people_index.is_(None))
        assert db.session.scalar(unindexed) == 0
        assert db.session.scalar(select(func.count()).select_from(ReportPerson)) == 2
