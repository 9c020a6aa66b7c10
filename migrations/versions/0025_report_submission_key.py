"""report submission key: the same report form sent twice is one report

`report.submission_key`: the random token of the form a named or confidential report
was sent from, unique. A second send of the same form (a double click, a reload, "did
it go?") fails on the index and is answered with the first report's receipt. The
anonymous link keeps its own repeat check in the browser's session and stores none.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 21:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


KEYED = sa.text("submission_key IS NOT NULL")


def upgrade():
    op.add_column("report", sa.Column("submission_key", sa.String(length=64), nullable=True))
    # Partial: only form-sent reports have a key (API, anonymous and imported ones none),
    # so the index holds no NULLs and costs the others' inserts nothing.
    op.create_index(
        "ix_report_submission_key",
        "report",
        ["submission_key"],
        unique=True,
        postgresql_where=KEYED,
        sqlite_where=KEYED,
    )


def downgrade():
    op.drop_index("ix_report_submission_key", table_name="report")
    # A plain DROP COLUMN (SQLite 3.35+), not batch mode: recreating the table would
    # drop the trend rollup's triggers on it (migration 0020).
    op.drop_column("report", "submission_key")
