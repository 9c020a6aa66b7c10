"""people index version: every conflict of interest found by index; shared cases by unit

`report.people_index`: which version of the people index (`report_person`) holds a
report's rows. Version 2 adds two roles to exposed, witnesses and counterpart: the
reporter's own account and those the reporter said must not handle the case, so that a
safety representative's queue finds the shared cases they are in conflict with in SQL
instead of opening every shared report on every request. New reports are indexed at
version 2 at intake; reports stored before this revision have NULL here and are indexed
by `trygg retention index-people` (it needs the keyring, which a migration does not
have; safe to run again). Until then the queue opens those reports as before; a
partial index finds them. A later version of the index sets older reports back to NULL.

`case.shared_unit_id`: the report's unit while the exposed employee consents to sharing
with the safety representative, filled here from the consents given so far, with a
partial index in the queue's order, so that a rep's queue reads only the shared cases.

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
SHARED = sa.text("shared_unit_id IS NOT NULL")


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
    # `case.shared_unit_id`: the report's unit while the case is shared with the safety
    # representatives by consent; a rep's queue seeks the few shared cases of their
    # units here instead of walking every report of those units.
    op.add_column("case", sa.Column("shared_unit_id", sa.Integer(), nullable=True))
    op.execute(
        'UPDATE "case" SET shared_unit_id = '
        '(SELECT report.unit_id FROM report WHERE report.id = "case".report_id) '
        "WHERE EXISTS (SELECT 1 FROM follow_up_task t "
        'WHERE t.case_id = "case".id AND t.consent_to_share) '
        "OR EXISTS (SELECT 1 FROM debriefing d "
        'WHERE d.case_id = "case".id AND d.consent_to_share_summary)'
    )
    # The consents themselves, few, so the rep's check of a case reads only those.
    # SQLite matches a partial index's term as written: `is_(True)` is `IS 1` there.
    op.create_index(
        "ix_follow_up_task_shared",
        "follow_up_task",
        ["case_id"],
        postgresql_where=sa.text("consent_to_share IS TRUE"),
        sqlite_where=sa.text("consent_to_share IS 1"),
    )
    op.create_index(
        "ix_debriefing_shared",
        "debriefing",
        ["case_id"],
        postgresql_where=sa.text("consent_to_share_summary IS TRUE"),
        sqlite_where=sa.text("consent_to_share_summary IS 1"),
    )
    op.create_index(
        "ix_case_shared",
        "case",
        ["shared_unit_id", "next_due_at", "opened_at", "id"],
        postgresql_where=SHARED,
        sqlite_where=SHARED,
    )


def downgrade():
    op.drop_index("ix_case_shared", table_name="case")
    op.drop_index("ix_debriefing_shared", table_name="debriefing")
    op.drop_index("ix_follow_up_task_shared", table_name="follow_up_task")
    op.drop_column("case", "shared_unit_id")
    op.drop_index("ix_report_people_unindexed", table_name="report")
    # A plain DROP COLUMN (SQLite 3.35+), not batch mode: recreating the table would
    # drop the trend rollup's triggers on it (migration 0020).
    op.drop_column("report", "people_index")
