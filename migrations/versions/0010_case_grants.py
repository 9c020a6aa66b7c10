"""case grants: access to existing cases is granted by those who have it

A handler group member sees the group's cases that came to it after they joined
(`handler_group_member.joined_at` ≤ `case.group_since`); older cases only through a
`case_grant` given by a handler who has access to the case, the group's lead, or the
break-glass command. Members from before this revision saw every case of their group,
and keep doing so: their `joined_at` is 1970-01-01. A case's `group_since` starts as its
`opened_at`. `password_code.mail_sealed` holds the code of a case reader's reset, sealed,
until it is sent to the user's own address (nobody else sees it).

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-03 16:30:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = "0011"
branch_labels = None
depends_on = None

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_SQL = sa.text("'1970-01-01 00:00:00+00:00'")


def upgrade():
    # Plain ADD COLUMN with a default, never a batch copy: on SQLite, copying "case"
    # would drop the old table, and its ON DELETE CASCADE would empty every case table.
    op.add_column('handler_group_member', sa.Column(
        'joined_at', sa.DateTime(timezone=True), nullable=False, server_default=EPOCH_SQL
    ))
    op.add_column('case', sa.Column(
        'group_since', sa.DateTime(timezone=True), nullable=False, server_default=EPOCH_SQL
    ))
    op.add_column('password_code', sa.Column('mail_sealed', sa.LargeBinary(), nullable=True))
    member = sa.table('handler_group_member', sa.column('joined_at', sa.DateTime(timezone=True)))
    op.execute(member.update().values(joined_at=EPOCH))
    case = sa.table(
        'case',
        sa.column('group_since', sa.DateTime(timezone=True)),
        sa.column('opened_at', sa.DateTime(timezone=True)),
    )
    op.execute(case.update().values(group_since=case.c.opened_at))

    op.create_table('case_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('granted_by', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_grant_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['handler_group.id'], name=op.f('fk_case_grant_group_id_handler_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_grant_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_grant')),
    sa.UniqueConstraint('case_id', 'user_id', name=op.f('uq_case_grant_case_id'))
    )
    with op.batch_alter_table('case_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_grant_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_grant_user_id'))
    op.drop_table('case_grant')
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: see upgrade().
    op.drop_column('password_code', 'mail_sealed')
    op.drop_column('case', 'group_since')
    op.drop_column('handler_group_member', 'joined_at')
