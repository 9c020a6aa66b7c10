"""report person index: the accounts a report names, as keyed hashes, indexed

`report_person` holds (report id, role, keyed hash of the user id) for each account a
report names as exposed, witness or counterpart, so the right-of-access download finds
the reports naming a person by index instead of opening every report. New reports are
indexed at intake. Reports stored before this revision are indexed by the command
`trygg retention index-people`, run once after the upgrade: it needs the keyring to
open each report's people field (a migration works on the database alone), and it is
safe to run again.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_person',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('person_tag', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_person_report_id_report'), ondelete='CASCADE'),
    # No id of its own: a sequential one would tell the order of anonymous reports.
    sa.PrimaryKeyConstraint('report_id', 'role', 'person_tag', name=op.f('pk_report_person')),
    )
    op.create_index('ix_report_person_tag', 'report_person', ['person_tag', 'role', 'report_id'], unique=False)


def downgrade():
    op.drop_index('ix_report_person_tag', table_name='report_person')
    op.drop_table('report_person')
