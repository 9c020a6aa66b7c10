"""trends: the units a safety representative represents; an index for statistics

A safety representative represents the members of some units (verneområde), marked on
the membership like a line manager's; their incident statistics cover those units.
Trends count reports by month, unit and anonymity and join incident types by report id:
ix_report_trends lets PostgreSQL do both from the index alone (risk/models.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_safety_rep', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(
            'ix_report_trends', ['occurred_month', 'unit_id', 'channel_kind', 'id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_trends')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('is_safety_rep')
