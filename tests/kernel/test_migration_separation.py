"""Migration 0006: accounts that hold admin and a case-reading role lose admin, audited."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from tests.conftest import ENGINE, create_postgres_database, drop_postgres_database
from trygg import audit, audit_check
from trygg.accounts.models import UserRole
from trygg.app import create_app
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def old_database(base_settings: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """An empty database, to be migrated to the revision before this release's."""
    label = "sod" + secrets.token_hex(3)
    if ENGINE == "postgres":
        url = create_postgres_database(f"trygg_{label}")
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    yield url
    if ENGINE == "postgres":
        drop_postgres_database(f"trygg_{label}")


def test_admins_who_read_cases_lose_the_admin_role_and_it_is_audited(
    base_settings, old_database, capfd
):
    app = create_app({**base_settings, "database_url": old_database})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="0009")  # the revision just before 0006
        with db.engine.begin() as conn:
            for user_id, email, roles in (
                (1, "both@example.org", [Role.ADMIN, Role.HANDLER, Role.EMPLOYEE]),
                (2, "rep@example.org", [Role.ADMIN, Role.SAFETY_REP]),
                (3, "admin@example.org", [Role.ADMIN, Role.MANAGER]),
                (4, "handler@example.org", [Role.HANDLER]),
            ):
                conn.execute(
                    text(
                        "INSERT INTO user_account (id, email, name, active, session_version,"
                        " created_at, totp_enabled) VALUES (:id, :email, 'X', true, 1,"
                        " CURRENT_TIMESTAMP, false)"
                    ),
                    {"id": user_id, "email": email},
                )
                for role in roles:
                    conn.execute(
                        text("INSERT INTO user_role (user_id, role) VALUES (:id, :role)"),
                        {"id": user_id, "role": role},
                    )
        audit.record("unit.create", actor="test", object_type="unit", object_id=1)
        db.session.commit()  # the chain has an entry (and a sealed head) before the migration's
        upgrade(directory=directory)
        roles = {(row.user_id, row.role) for row in db.session.scalars(select(UserRole)).all()}
        assert roles == {
            (1, Role.EMPLOYEE),
            (1, Role.HANDLER),
            (2, Role.SAFETY_REP),
            (3, Role.ADMIN),
            (3, Role.MANAGER),
            (4, Role.HANDLER),
        }
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.actor == "migration").order_by(AuditEntry.seq)
        ).all()
        assert [(e.action, e.object_id) for e in entries] == [
            ("user.update", "1"),
            ("user.update", "2"),
        ]
        assert entries[0].detail_dict() == {
            "roles_before": [Role.ADMIN, Role.EMPLOYEE, Role.HANDLER],
            "roles": [Role.EMPLOYEE, Role.HANDLER],
            "reason": "separation_of_duties",
        }
        assert audit_check.verify() == (3, None)  # chained, and the head's seal holds
        db.engine.dispose()
    # The operator is told whom it concerns (alembic logs to standard error).
    assert "removed the admin role from both@example.org, rep@example.org" in capfd.readouterr().err
