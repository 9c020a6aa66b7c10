"""trend patterns: the stored result of protecting one quarter of the trends

`trend_pattern` keeps, per quarter table that risk/statistics protects (a quarter's
totals, or one dimension of it), the suppression marks the protection chose: which
cells are primary, secondary or hidden, and which rows are hidden, never a count. The
key is the SHA-256 of the canonical JSON of everything the protection depends on (the
quarter's counts per base, the published unit tree, k, the algorithm's version), so
changed counts (a late report, a deletion) give a new key and a stored pattern is never
stale. `used_on` is the last day a process used it; the daily job `risk_trend_patterns`
fills the table for the views a first visitor opens and prunes patterns unused for 30
days (risk/patterns.py). Class-S aggregate metadata only. See README, "Trends".

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'trend_pattern',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('marks', sa.Text(), nullable=False),
        sa.Column('used_on', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_trend_pattern')),
    )
    with op.batch_alter_table('trend_pattern', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trend_pattern_used_on'), ['used_on'], unique=False)


def downgrade():
    with op.batch_alter_table('trend_pattern', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trend_pattern_used_on'))
    op.drop_table('trend_pattern')
