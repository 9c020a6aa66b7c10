"""security: sessions kept on the server (staff and anonymous)

login_session and anonymous_session hold a hash of the token in the browser's session
cookie: logging out deletes the row, so a copied cookie stops working.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_login_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)

    op.create_table('anonymous_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('report_link', sa.LargeBinary(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_anonymous_session'))
    )
    with op.batch_alter_table('anonymous_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_anonymous_session_day'), ['day'], unique=False)


def downgrade():
    with op.batch_alter_table('anonymous_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anonymous_session_day'))
    op.drop_table('anonymous_session')

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_session_created_at'))
    op.drop_table('login_session')
