"""retention: policies, legal holds, tombstones and the daily run; what deletion needs
in other tables (a report's erased month, a receipt's report tag and last use, audit
entries whose actor and detail can be removed while the chain still verifies)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The documented defaults (retention.policies.DEFAULTS; a test keeps the two equal):
# (scope, track, outcome, months).
DEFAULTS = [
    ('case', 'hms_deviation', 'closed', 120),
    ('case', 'hms_deviation', 'dropped', 24),
    ('case', 'hms_deviation', 'forwarded', 60),
    ('case', 'whistleblowing', 'closed', 36),
    ('case', 'whistleblowing', 'dropped', 12),
    ('case', 'whistleblowing', 'forwarded', 36),
    ('case', 'hr_matter', 'closed', 60),
    ('case', 'hr_matter', 'dropped', 24),
    ('case', 'hr_matter', 'forwarded', 60),
    ('report', None, None, 12),
    ('receipt', None, None, 12),
]


def upgrade():
    op.create_table('retention_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('track', sa.String(length=20), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_policy')),
    sa.UniqueConstraint('scope', 'track', 'outcome', name=op.f('uq_retention_policy_scope')),
    )
    conn = op.get_bind()
    for s, t, o, m in DEFAULTS:
        conn.execute(
            sa.text(
                'INSERT INTO retention_policy (scope, track, outcome, months, updated_at)'
                ' VALUES (:s, :t, :o, :m, CURRENT_TIMESTAMP)'
            ),
            {'s': s, 't': t, 'o': o, 'm': m},
        )
    op.create_table('legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lifted_by', sa.String(length=64), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_legal_hold_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold'))
    )
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_hold_case_id'), ['case_id'], unique=False)
    op.create_table('tombstone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('opened_month', sa.Date(), nullable=False),
    sa.Column('closed_month', sa.Date(), nullable=True),
    sa.Column('deleted_month', sa.Date(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tombstone')),
    sa.UniqueConstraint('report_id', name=op.f('uq_tombstone_report_id')),
    )
    op.create_table('retention_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_retention_day'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_month', sa.Date(), nullable=True))
    with op.batch_alter_table('anonymous_receipt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_tag', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('used_month', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_anonymous_receipt_report_tag'), ['report_tag'], unique=False)
    # Receipts from before: counted as used this month, so an unused one expires under
    # the receipt policy like any other (their report cannot be told: no tag).
    today = datetime.now(UTC).date()
    conn.execute(
        sa.text('UPDATE anonymous_receipt SET used_month = :m'), {'m': today.replace(day=1)}
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('body', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('body')
        batch_op.drop_column('salt')
    with op.batch_alter_table('anonymous_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anonymous_receipt_report_tag'))
        batch_op.drop_column('used_month')
        batch_op.drop_column('report_tag')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('erased_month')
    op.drop_table('retention_day')
    op.drop_table('tombstone')
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_hold_case_id'))
    op.drop_table('legal_hold')
    op.drop_table('retention_policy')
