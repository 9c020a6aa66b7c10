"""The models match the newest migration, on the engine under test."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Config

from trygg.extensions import db


def test_models_match_the_migration_head(app):
    with app.app_context():
        connection = db.session.connection()
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_the_database_is_at_the_single_head(app):
    with app.app_context():
        directory = app.extensions["migrate"].directory
        config = Config()
        config.set_main_option("script_location", directory)
        heads = ScriptDirectory.from_config(config).get_heads()
        assert len(heads) == 1
        current = MigrationContext.configure(db.session.connection()).get_current_heads()
        assert current == tuple(heads)
