"""audit head seal: a keyed MAC of the chain's head, computed with the keyring

The head (the newest entry's number and hash) is sealed with a key derived from the
keyring, which is not in the database: cutting entries off the end, or rewriting the
tail and the head together, leaves a seal that no longer matches (trygg/audit.py).
A database upgraded from before this revision has entries but no seal yet: `trygg audit
verify` says so, and `trygg audit seal` seals it once.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('seal')
