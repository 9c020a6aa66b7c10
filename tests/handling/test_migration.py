"""The migrations' head matches the models, and seeds the default deadline policies."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handling import service
from trygg.extensions import db

MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "0003_handling.py"


def test_models_match_the_migrations_head(app):
    with app.app_context():
        connection = db.session.connection()
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_the_migration_seeds_the_default_policies(app):
    spec = importlib.util.spec_from_file_location("migration_0003", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.DEFAULT_POLICIES, key=str) == sorted(service.DEFAULT_POLICIES, key=str)
    with app.app_context():
        stored = sorted(
            (
                (p.kind, p.track, p.incident_type, p.min_severity, p.amount, p.unit)
                for p in service.policies()
            ),
            key=str,
        )
        assert stored == sorted(service.DEFAULT_POLICIES, key=str)
