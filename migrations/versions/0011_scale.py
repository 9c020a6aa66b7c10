"""scale: the case's next open deadline stored on the case; indexes for the queue, the
audit log's object, "My reports" and the admin user list

`case.next_due_at` is the earliest due time among the case's open deadline rows (none
met or cancelled), kept by handling's service wherever those rows change, so the queue
filters, sorts and counts by deadline in SQL and pages with a seek on
(next_due_at, opened_at, id). ix_case_queue serves one state, ix_case_queue_all every
state, ix_case_queue_active (only unfinished cases) the default queue; ix_deadline_open
the overdue-deadline count.
ix_audit_object lets a case's access history read its own entries, not the whole log.

Revision ID: 0011
Revises: 0013
Create Date: 2026-12-03 16:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0013"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("state NOT IN ('closed', 'dropped')")
OPEN = sa.text("met_at IS NULL AND cancelled_at IS NULL")


def upgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        'UPDATE "case" SET next_due_at = (SELECT min(d.due_at) FROM deadline d '
        'WHERE d.case_id = "case".id AND d.met_at IS NULL AND d.cancelled_at IS NULL)'
    )
    op.create_index(
        "ix_case_queue", "case", ["group_id", "state", "next_due_at", "opened_at", "id"]
    )
    op.create_index("ix_case_queue_all", "case", ["group_id", "next_due_at", "opened_at", "id"])
    op.create_index(
        "ix_case_queue_active",
        "case",
        ["group_id", "next_due_at", "opened_at", "id"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )
    op.create_index(
        "ix_deadline_open",
        "deadline",
        ["case_id", "due_at"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_index("ix_audit_object", "audit_entry", ["object_type", "object_id", "seq"])
    op.create_index("ix_report_owner", "report", ["owner_tag", "id"])
    op.create_index("ix_user_account_name", "user_account", ["name", "id"])


def downgrade():
    op.drop_index("ix_user_account_name", table_name="user_account")
    op.drop_index("ix_report_owner", table_name="report")
    op.drop_index("ix_audit_object", table_name="audit_entry")
    op.drop_index("ix_deadline_open", table_name="deadline")
    op.drop_index("ix_case_queue_active", table_name="case")
    op.drop_index("ix_case_queue_all", table_name="case")
    op.drop_index("ix_case_queue", table_name="case")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("next_due_at")
