"""case reading: how many of the reporter's messages each handler has seen

The queue shows a handler the reporter's messages they have not read yet
(`count(reporter messages) - reporter_messages_seen`). A new table only: existing cases
start with no row, so every reporter message counts as unread until the case is opened.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-03 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_reading',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reporter_messages_seen', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_reading_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_reading_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_reading'))
    )
    with op.batch_alter_table('case_reading', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reading_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_reading', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_reading_user_id'))
    op.drop_table('case_reading')
