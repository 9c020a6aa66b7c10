"""risk assessment and action plan: versions, items, measures, evaluations, triggers

Assessments per unit with versions (an approved one is frozen), their risk items with
incident scopes, participants and comments; the action plan's measures and evaluations;
re-assessment triggers (unique per assessment and cause); cases linked to items; the
matrix levels an admin set; and when the daily trigger checks last ran.

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-03 16:21:48.730226

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('risk_level',
    sa.Column('size', sa.SmallInteger(), nullable=False),
    sa.Column('rank', sa.SmallInteger(), nullable=False),
    sa.Column('min_score', sa.SmallInteger(), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('demand', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('size', 'rank', name=op.f('pk_risk_level'))
    )
    op.create_table('risk_scan',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_risk_scan'))
    )
    op.create_table('risk_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('work_kind', sa.String(length=120), nullable=True),
    sa.Column('matrix_size', sa.SmallInteger(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_risk_assessment_owner_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_risk_assessment_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessment'))
    )
    with op.batch_alter_table('risk_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_assessment_unit_id'), ['unit_id'], unique=False)

    op.create_table('risk_assessment_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('next_review', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary_risks', sa.Text(), nullable=False),
    sa.Column('summary_routines', sa.Text(), nullable=False),
    sa.Column('summary_contact', sa.Text(), nullable=False),
    sa.Column('summary_show_levels', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_risk_assessment_version_approved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assessment_id'], ['risk_assessment.id'], name=op.f('fk_risk_assessment_version_assessment_id_risk_assessment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessment_version')),
    sa.UniqueConstraint('assessment_id', 'number', name=op.f('uq_risk_assessment_version_assessment_id'))
    )
    with op.batch_alter_table('risk_assessment_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_assessment_version_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('risk_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('item_ref', sa.Integer(), nullable=False),
    sa.Column('goal', sa.String(length=300), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('collective', sa.Boolean(), nullable=False),
    sa.Column('lowers', sa.String(length=16), nullable=False),
    sa.Column('affected', sa.String(length=300), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('is_training', sa.Boolean(), nullable=False),
    sa.Column('repeat_months', sa.SmallInteger(), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('soon_notified_for', sa.Date(), nullable=True),
    sa.Column('overdue_notified_for', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['risk_assessment.id'], name=op.f('fk_risk_measure_assessment_id_risk_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaces_id'], ['risk_measure.id'], name=op.f('fk_risk_measure_replaces_id_risk_measure'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible_id'], ['user_account.id'], name=op.f('fk_risk_measure_responsible_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_measure'))
    )
    with op.batch_alter_table('risk_measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_measure_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_measure_responsible_id'), ['responsible_id'], unique=False)

    op.create_table('risk_trigger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('item_ref', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=80), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['risk_assessment.id'], name=op.f('fk_risk_trigger_assessment_id_risk_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_risk_trigger_owner_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_risk_trigger_resolved_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_trigger')),
    sa.UniqueConstraint('assessment_id', 'cause', name=op.f('uq_risk_trigger_assessment_id'))
    )
    with op.batch_alter_table('risk_trigger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_trigger_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('risk_case_link',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('item_ref', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['risk_assessment.id'], name=op.f('fk_risk_case_link_assessment_id_risk_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_risk_case_link_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'assessment_id', 'item_ref', name=op.f('pk_risk_case_link'))
    )
    op.create_table('risk_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_risk_comment_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['risk_assessment_version.id'], name=op.f('fk_risk_comment_version_id_risk_assessment_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_comment'))
    )
    with op.batch_alter_table('risk_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_comment_version_id'), ['version_id'], unique=False)

    op.create_table('risk_evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('evaluated_on', sa.Date(), nullable=False),
    sa.Column('evaluated_by_id', sa.Integer(), nullable=True),
    sa.Column('next_step', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evaluated_by_id'], ['user_account.id'], name=op.f('fk_risk_evaluation_evaluated_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['measure_id'], ['risk_measure.id'], name=op.f('fk_risk_evaluation_measure_id_risk_measure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_evaluation'))
    )
    with op.batch_alter_table('risk_evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_evaluation_measure_id'), ['measure_id'], unique=False)

    op.create_table('risk_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.Integer(), nullable=False),
    sa.Column('hazard', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('existing_measures', sa.Text(), nullable=False),
    sa.Column('likelihood', sa.SmallInteger(), nullable=False),
    sa.Column('consequence', sa.SmallInteger(), nullable=False),
    sa.Column('likelihood_after', sa.SmallInteger(), nullable=True),
    sa.Column('consequence_after', sa.SmallInteger(), nullable=True),
    sa.Column('scope_unit_id', sa.Integer(), nullable=True),
    sa.Column('scope_types', sa.JSON(), nullable=False),
    sa.Column('scope_counterparts', sa.JSON(), nullable=False),
    sa.Column('scope_places', sa.JSON(), nullable=False),
    sa.Column('scope_activities', sa.JSON(), nullable=False),
    sa.Column('scope_time_bands', sa.JSON(), nullable=False),
    sa.Column('scope_lone_work', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['scope_unit_id'], ['unit.id'], name=op.f('fk_risk_item_scope_unit_id_unit')),
    sa.ForeignKeyConstraint(['version_id'], ['risk_assessment_version.id'], name=op.f('fk_risk_item_version_id_risk_assessment_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_item')),
    sa.UniqueConstraint('version_id', 'ref', name=op.f('uq_risk_item_version_id'))
    )
    with op.batch_alter_table('risk_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_item_version_id'), ['version_id'], unique=False)

    op.create_table('risk_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['risk_assessment_version.id'], name=op.f('fk_risk_participant_version_id_risk_assessment_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_participant'))
    )
    with op.batch_alter_table('risk_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_participant_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('risk_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_participant_version_id'))

    op.drop_table('risk_participant')
    with op.batch_alter_table('risk_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_item_version_id'))

    op.drop_table('risk_item')
    with op.batch_alter_table('risk_evaluation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_evaluation_measure_id'))

    op.drop_table('risk_evaluation')
    with op.batch_alter_table('risk_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_comment_version_id'))

    op.drop_table('risk_comment')
    op.drop_table('risk_case_link')
    with op.batch_alter_table('risk_trigger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_trigger_assessment_id'))

    op.drop_table('risk_trigger')
    with op.batch_alter_table('risk_measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_measure_responsible_id'))
        batch_op.drop_index(batch_op.f('ix_risk_measure_assessment_id'))

    op.drop_table('risk_measure')
    with op.batch_alter_table('risk_assessment_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_assessment_version_assessment_id'))

    op.drop_table('risk_assessment_version')
    with op.batch_alter_table('risk_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_assessment_unit_id'))

    op.drop_table('risk_assessment')
    op.drop_table('risk_scan')
    op.drop_table('risk_level')
