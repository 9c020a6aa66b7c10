"""Revision 0019: the matrix levels an admin named before names and demands came in two
languages keep their text, now in both nb and en."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from tests.operations.test_upgrade import MIGRATIONS, build_at, revisions
from trygg.extensions import db


def test_the_upgrade_copies_each_levels_text_into_english(make_app, empty_database):
    chain = revisions()
    before = chain[chain.index("0019") - 1]
    builder = make_app(database_url=empty_database)
    build_at(builder, before)
    with builder.app_context():
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT size, rank, name, name_en, demand, demand_en FROM risk_level"
                    " WHERE size = 3 ORDER BY rank"
                )
            ).all()
        db.engine.dispose()
    assert [tuple(row) for row in found] == [
        (3, 0, "Lav", "Lav", "-", "-"),
        (3, 1, "Høy", "Høy", "!", "!"),
    ]
