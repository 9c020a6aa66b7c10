"""bilingual risk levels: each matrix level's name and what it demands in nb and en

`risk_level.name` and `.demand` hold the Norwegian text (the model calls them `name_nb`
and `demand_nb`); `name_en` and `demand_en` are new, and start as a copy of the text an
admin entered, so every page shows what it showed before until the admin translates it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 20:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN with a default (no batch copy of the table).
    op.add_column('risk_level', sa.Column(
        'name_en', sa.String(length=60), nullable=False, server_default=''
    ))
    op.add_column('risk_level', sa.Column(
        'demand_en', sa.String(length=200), nullable=False, server_default=''
    ))
    level = sa.table(
        'risk_level',
        sa.column('name', sa.String()),
        sa.column('demand', sa.String()),
        sa.column('name_en', sa.String()),
        sa.column('demand_en', sa.String()),
    )
    op.execute(level.update().values(name_en=level.c.name, demand_en=level.c.demand))


def downgrade():
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+).
    op.drop_column('risk_level', 'demand_en')
    op.drop_column('risk_level', 'name_en')
