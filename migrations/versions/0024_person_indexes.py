"""person indexes: a person's follow-up tasks and messages found by index

`follow_up_task.responsible_user_id` had no index: the start page (the open-task
count) and "My tasks" read every follow-up task in the table to find one person's, a
sequential scan of 20,111 tasks and 1.3 ms on the million-report bench for every user
who opens the start page. `case_message.author_user_id` had none either: deleting an
account sets it to NULL in every message that account wrote, a scan of every message
for each account deleted. Both foreign keys now have their index. See README, "Lists
and the case page on a million reports".

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 05:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_follow_up_task_responsible_user_id", "follow_up_task", "responsible_user_id"),
    ("ix_case_message_author_user_id", "case_message", "author_user_id"),
]


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade():
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
