"""notifications: outbox and in-app list, preferences, reminder lead times, heartbeat;
escalation contacts per handler group; the tick's marks on follow-up tasks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The documented default lead times (notifications.kinds.DEFAULT_LEAD_MINUTES; a test
# keeps the two equal).
DEFAULT_LEADS = {
    'acknowledge': 24 * 60,
    'leader_contact': 60,
    'individual_talk': 12 * 60,
    'learning_review': 12 * 60,
    'section_5_2_notice': 60,
    'investigation': 7 * 24 * 60,
    'reporter_feedback': 14 * 24 * 60,
    'recontact': 2 * 24 * 60,
}


def upgrade():
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mail_state', sa.String(length=10), nullable=False),
    sa.Column('mail_key', sa.String(length=160), nullable=True),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_mail_due', ['mail_state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preference'))
    )
    op.create_table('notification_profile',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('digest_minute', sa.SmallInteger(), nullable=False),
    sa.Column('away', sa.Boolean(), nullable=False),
    sa.Column('substitute_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['substitute_id'], ['user_account.id'], name=op.f('fk_notification_profile_substitute_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_profile_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_profile'))
    )
    reminder = op.create_table('reminder_policy',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('lead_minutes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_reminder_policy'))
    )
    op.bulk_insert(reminder, [{'kind': k, 'lead_minutes': v} for k, v in DEFAULT_LEADS.items()])
    op.create_table('scheduler_beat',
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_ms', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('owner', name=op.f('pk_scheduler_beat'))
    )
    op.create_table('handler_group_escalation',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['handler_group.id'], name=op.f('fk_handler_group_escalation_group_id_handler_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_handler_group_escalation_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_handler_group_escalation'))
    )
    with op.batch_alter_table('handler_group_escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handler_group_escalation_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('follow_up_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('soon_notified_for', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('overdue_notified_for', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('follow_up_task', schema=None) as batch_op:
        batch_op.drop_column('overdue_notified_for')
        batch_op.drop_column('soon_notified_for')
    with op.batch_alter_table('handler_group_escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handler_group_escalation_user_id'))
    op.drop_table('handler_group_escalation')
    op.drop_table('scheduler_beat')
    op.drop_table('reminder_policy')
    op.drop_table('notification_profile')
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')
        batch_op.drop_index('ix_notification_mail_due')
    op.drop_table('notification')
