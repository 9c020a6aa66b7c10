"""user locale: the interface language a user chose follows the account

`user_account.locale` is "nb", "en" or NULL (the installation's default_locale). Existing
users have not chosen: NULL.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03 20:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("locale")
