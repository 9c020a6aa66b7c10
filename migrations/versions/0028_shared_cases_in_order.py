"""shared cases in order: a safety representative of many units reads their queue's
first page without joining every shared case first

`ix_case_shared` (0026) finds the shared cases of a few units. A representative of the
whole organisation (a hovedverneombud: 500 units) matches nearly every shared case, and
the queue joined all of them (their reports, deadlines, groups) before sorting out the
first 51: 165 ms on the seeded million-report database with 6,664 shared cases. This
index holds the shared cases in the queue's order (nearest deadline, none last, then
opened), so the planner walks it and stops at the page: 27 ms.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 04:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


SHARED = sa.text("shared_unit_id IS NOT NULL")


def upgrade():
    op.create_index(
        "ix_case_shared_order",
        "case",
        ["next_due_at", "opened_at", "id"],
        postgresql_where=SHARED,
        sqlite_where=SHARED,
    )


def downgrade():
    op.drop_index("ix_case_shared_order", table_name="case")
