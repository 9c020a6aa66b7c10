"""people index version: every conflict of interest found by index

`report.people_index`: which version of the people index (`report_person`) holds a
report's rows. Version 2 adds two roles to exposed, witnesses and counterpart: the
reporter's own account and those the reporter said must not handle the case, so that a
safety representative's queue finds the shared cases they are in conflict with in SQL
instead of opening every shared report on every request. New reports are indexed at
version 2 at intake; reports stored before this revision have NULL here and are indexed
by `trygg retention index-people` (it needs the keyring, which a migration does not
have; safe to run again). Until then the queue opens those reports as before; a
partial index finds them. A later version of the index sets older reports back to NULL.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 02:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


UNINDEXED = sa.text("people_index IS NULL")


def upgrade():
    op.add_column("report", sa.Column("people_index", sa.SmallInteger(), nullable=True))
    # The reports still to be indexed, found without reading the table: every report
    # until the command has run, then none.
    op.create_index(
        "ix_report_people_unindexed",
        "report",
        ["id"],
        postgresql_where=UNINDEXED,
        sqlite_where=UNINDEXED,
    )


def downgrade():
    op.drop_index("ix_report_people_unindexed", table_name="report")
    # A plain DROP COLUMN (SQLite 3.35+), not batch mode: recreating the table would
    # drop the trend rollup's triggers on it (migration 0020).
    op.drop_column("report", "people_index")
