"""Upgrades with data: a database at every earlier revision, with rows in every table,
upgraded to the newest; nothing lost, everything opens. And a migration that fails
leaves the database as it was (PostgreSQL: the whole upgrade is one transaction).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import Config, upgrade
from sqlalchemy import MetaData, func, inspect, or_, select, text
from sqlalchemy.engine import Connection

from handling.models import Case, Debriefing, FollowUpTask
from reporting.models import Report
from risk import data as risk_data
from tests.conftest import ENGINE
from tests.factories import UserInfo, api_login, csrf_token
from tests.operations import migration_data as data
from tests.reporting.support import valid_report
from tests.risk.rollup import ALL_TIME, differences
from trygg import keys
from trygg.extensions import db
from trygg.roles import Role
from trygg.settings import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "migrations"


def revisions() -> list[str]:
    """Every revision, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def rows(connection: Connection) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every row of every table, by primary key."""
    metadata = MetaData()
    metadata.reflect(connection)
    found = {}
    for table in metadata.sorted_tables:
        key = [c.name for c in table.primary_key.columns]
        found[table.name] = {
            tuple(row[k] for k in key): dict(row)
            for row in connection.execute(select(table)).mappings()
        }
    return found


def build_at(app: Flask, revision: str) -> data.World:
    """Upgrade an empty database one revision at a time up to `revision`, filling it."""
    chain = revisions()
    with app.app_context():
        world = data.World(ring=keys.keyring())
        for step in chain[: chain.index(revision) + 1]:
            upgrade(directory=str(MIGRATIONS), revision=step)
            loader = data.LOADERS.get(step)
            if loader is not None:
                with db.engine.begin() as connection:
                    loader(connection, world)
        db.engine.dispose()
    return world


def lost(before: dict, after: dict) -> list[str]:
    """Rows or values that were there before and are not (new columns may be anything)."""
    problems = []
    for name, table_rows in before.items():
        if name == "alembic_version":
            continue
        for key, row in table_rows.items():
            now = after.get(name, {}).get(key)
            if now is None:
                problems.append(f"{name} {key}: row gone")
                continue
            problems += [
                f"{name} {key}: {column} was {value!r}, is {now.get(column)!r}"
                for column, value in row.items()
                if now.get(column) != value
            ]
    return problems


def verify_audit(app: Flask, sealed_already: bool) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    if not sealed_already and "not sealed" in result.output:
        # Upgraded from before seals: the operator seals the head once.
        assert runner.invoke(args=["audit", "seal"]).exit_code == 0
        result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def check_reports(app: Flask, world: data.World) -> None:
    """The employee opens their reports and files, and a new report takes the next number."""
    client = app.test_client()
    api_login(client, UserInfo(data.EMPLOYEE, "kari@example.org", data.PASSWORD, (Role.EMPLOYEE,)))
    own = {r["id"] for r in client.get("/api/v1/reports").get_json()}
    assert own == {rid for rid in world.narratives if rid != data.ANONYMOUS_REPORT}
    for report_id in own:
        detail = client.get(f"/api/v1/reports/{report_id}").get_json()
        assert detail["narrative"] == world.narratives[report_id]
        for att_id, (name, content) in world.files[report_id].items():
            download = client.get(f"/api/v1/reports/{report_id}/attachments/{att_id}")
            assert download.status_code == 200
            assert download.get_data() == content, name
    response = client.post(
        "/api/v1/reports",
        json=valid_report(data.WARD),
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["reference"] == f"AVV-{world.year}-{world.references + 1:05d}"


def check_cases(app: Flask, world: data.World) -> None:
    """The handler (with the sealed TOTP secret) opens every case; the excluded one none."""
    handler = UserInfo(
        data.HANDLER, "hanne@example.org", data.PASSWORD, (Role.HANDLER,), world.totp_secret
    )
    client = app.test_client()
    api_login(client, handler)
    queue = client.get("/api/v1/cases").get_json()["cases"]
    opened = {c["id"] for c in queue if c["report_id"] in world.narratives}
    assert opened == set(world.case_texts)
    for case_id, texts in world.case_texts.items():
        detail = client.get(f"/api/v1/cases/{case_id}").get_json()
        assert detail["report"]["narrative"] == world.narratives[texts["report"]]
        assert detail["feedback"] == texts["feedback"]
        assert [m["body"] for m in detail["messages"]] == texts["messages"]
        assert [t["note"] for t in detail["tasks"]] == ([texts["task"]] if "task" in texts else [])
        outcomes = [d["outcome"] for d in detail["debriefings"]]
        assert outcomes == ([texts["debriefing"]] if "debriefing" in texts else [])
    other = app.test_client()
    api_login(other, UserInfo(data.EXCLUDED_HANDLER, "ola@example.org", data.PASSWORD, ()))
    for case_id, texts in world.case_texts.items():
        excluded = texts["report"] != data.ANONYMOUS_REPORT
        status = other.get(f"/api/v1/cases/{case_id}").status_code
        assert status == (404 if excluded else 200), case_id


def check_shared(app: Flask) -> None:
    """Migration 0026 recorded which cases are shared with the safety rep, by unit: the
    report's unit where a task or a debriefing consents (case 2's task, case 1's
    debriefing), none elsewhere."""
    with app.app_context():
        by_task = select(FollowUpTask.case_id).where(FollowUpTask.consent_to_share.is_(True))
        by_debriefing = select(Debriefing.case_id).where(
            Debriefing.consent_to_share_summary.is_(True)
        )
        consented = or_(Case.id.in_(by_task), Case.id.in_(by_debriefing))
        rows = db.session.execute(
            select(Case.id, Case.shared_unit_id, Report.unit_id, consented).join(
                Report, Report.id == Case.report_id
            )
        ).all()
        for case_id, shared, unit, is_consented in rows:
            assert shared == (unit if is_consented else None), case_id
        if rows:
            assert {case_id for case_id, shared, *_ in rows if shared is not None} == {1, 2}


def check_receipt(app: Flask, world: data.World) -> None:
    client = app.test_client()
    response = client.post(
        "/api/v1/anonymous/session",
        json={"receipt": world.receipt},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 200, response.get_json()
    followed = client.get("/api/v1/anonymous/report").get_json()
    assert followed["reference"] == f"VAR-{world.year}-ACDEFH"
    shown = [m["body"] for m in followed["messages"]]
    assert shown == [m for m in world.case_texts[3]["messages"]]


def check_rollup(app: Flask, world: data.World) -> None:
    """0020's backfill counted every report the earlier revisions stored, exactly."""
    assert differences(app) == {}
    with app.app_context():
        counted = sum(risk_data.totals(*ALL_TIME).values())
        assert counted == db.session.scalar(select(func.count()).select_from(Report))
        assert counted >= len(world.narratives)
        if world.case_texts:  # case 2's close time, 2 days 5 hours: tenth 22
            assert sum(risk_data.close_counts(*ALL_TIME).values()) == 1
            assert list(risk_data.close_times(None, *ALL_TIME).values()) == [(1, 2.25)]


@pytest.mark.parametrize("revision", revisions()[:-1])
def test_an_upgrade_from_an_earlier_revision_keeps_everything(make_app, empty_database, revision):
    builder = make_app(database_url=empty_database)
    world = build_at(builder, revision)
    with builder.app_context(), db.engine.connect() as connection:
        before = rows(connection)
    empty = sorted(name for name, table_rows in before.items() if not table_rows)
    assert empty == [], (
        f"at revision {revision} these tables have no rows: add them to "
        "tests/operations/migration_data.py"
    )

    with builder.app_context():
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as connection:
            assert lost(before, rows(connection)) == []
        db.engine.dispose()

    app = make_app(database_url=empty_database, two_factor_roles=[])
    check_shared(app)
    check_rollup(app, world)
    verify_audit(app, sealed_already=False)
    if world.narratives:
        check_reports(app, world)
    if world.case_texts:
        check_cases(app, world)
    if world.receipt:
        check_receipt(app, world)
    verify_audit(app, sealed_already=True)


FAILING = '''"""fails halfway

Revision ID: 9999
Revises: {head}
"""
from alembic import op
import sqlalchemy as sa

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    with op.batch_alter_table("report") as batch_op:
        batch_op.add_column(sa.Column("half_done", sa.Integer, nullable=True))
    op.execute("UPDATE report SET narrative_sealed = NULL")
    op.execute("DELETE FROM audit_entry")
    raise ValueError("this migration fails halfway")


def downgrade():
    pass
'''


def test_a_failing_migration_leaves_the_database_as_it_was(
    make_app, empty_database, tmp_path: Path
):
    chain = revisions()
    start = "0003" if "0003" in chain else chain[0]
    builder = make_app(database_url=empty_database)
    build_at(builder, start)
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "9999_fails.py").write_text(FAILING.format(head=chain[-1]))

    with builder.app_context():
        with db.engine.connect() as connection:
            before = rows(connection)
        config = builder.extensions["migrate"].migrate.get_config(str(migrations))
        with pytest.raises(ValueError, match="fails halfway"):
            command.upgrade(config, "head")
        with db.engine.connect() as connection:
            after = rows(connection)
            tables = set(inspect(connection).get_table_names())
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        db.engine.dispose()

    assert "half_done" not in tables
    assert not any(name.startswith("_alembic_tmp") for name in tables)
    assert "half_done" not in {c["name"] for c in _columns(builder, "report")}
    assert lost(before, after) == []
    if ENGINE == "postgres":
        # One transaction for the whole upgrade: back where it started.
        assert version == start
        assert set(after) == set(before)
    else:
        # SQLite: each migration is its own transaction; the good ones before it stay.
        assert version == chain[-1]


def _columns(app: Flask, table: str) -> list[dict[str, Any]]:
    with app.app_context(), db.engine.connect() as connection:
        columns = inspect(connection).get_columns(table)
    return list(columns)


def test_alembic_check_finds_the_models_match_the_newest_revision(make_app, scratch_database):
    """`trygg db check` (alembic check): no model change lacks its migration."""
    result = make_app(database_url=scratch_database).test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
