"""anonymous messages: identity flag and the anonymous reporter's own message order

An anonymous reporter's messages are dated to the day and get random ids; reporter_seq
orders them among their own messages. identity marks a message in which the reporter
says who they are.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reporter_seq', sa.SmallInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.drop_column('reporter_seq')
        batch_op.drop_column('identity')
