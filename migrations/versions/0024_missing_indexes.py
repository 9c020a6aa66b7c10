"""missing indexes: found by opening every page and running every job on a million reports

- `follow_up_task.responsible_user_id`: the start page (the open-task count) and "My
  tasks" read every follow-up task to find one person's, a sequential scan of 20,111
  tasks (1.3 ms) for every user who opens the start page.
- `case_message.author_user_id`: deleting an account sets it to NULL in every message
  that account wrote, a scan of every message for each account deleted.
- `report.created_at`: the risk job asks every tick (30 s) whether a serious incident
  came in since the last one, a sequential scan of the million reports (267 ms) when
  none did; retention's reports without a case are found by it too.
- `ix_case_routing_warning`, partial (`routing_warning IS NOT NULL`): the admin's
  handler-group and routing-rule pages list the active cases with a routing warning, a
  sequential scan of the million cases (24-36 ms) to find none or a few.

See README, "Every page and every job on a million reports".

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

COLUMNS = [
    ("ix_follow_up_task_responsible_user_id", "follow_up_task", "responsible_user_id"),
    ("ix_case_message_author_user_id", "case_message", "author_user_id"),
    ("ix_report_created_at", "report", "created_at"),
]
ROUTING_WARNED = sa.text("routing_warning IS NOT NULL")


def upgrade():
    for name, table, column in COLUMNS:
        op.create_index(name, table, [column])
    op.create_index(
        "ix_case_routing_warning",
        "case",
        ["id"],
        postgresql_where=ROUTING_WARNED,
        sqlite_where=ROUTING_WARNED,
    )


def downgrade():
    op.drop_index("ix_case_routing_warning", table_name="case")
    for name, table, _column in COLUMNS:
        op.drop_index(name, table_name=table)
