"""security: sessions on the server, access changes, set-password codes, sign-in log; no admin reads cases

login_session and anonymous_session hold a hash of the token in the browser's session
cookie: logging out deletes the row, so a copied cookie stops working. access_change
lists every widening of access to case content; password_code holds one-time codes
with which users choose their own password; sign_in is the sign-in log, kept outside
the audit chain (a login next to a confidential submission in the chain would name
the reporter).

Separation of duties: no account may hold the admin role together with a role that
reads case content (handler, safety_rep). Accounts that do lose the admin role here
(their case work goes on; the organisation gives administration to a separate
account, e.g. `trygg users create ... --role admin`), each change written to the audit
chain as "user.update" by "migration", and the upgrade names them in a warning.

Revision ID: 0006
Revises: 0009
Create Date: 2026-12-01 10:00:00.000000

"""
import json
import logging
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

# The chain's append (numbering, hashes, the head's seal under the keyring): one
# implementation, the application's. A copy here could drift from what `trygg audit
# verify` checks. This revision comes after 0008 (which gave the head its seal) and 0009.
from trygg import audit

log = logging.getLogger("alembic.runtime.migration")

CASE_READING_ROLES = ("handler", "safety_rep")


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0009'
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

    op.create_table('access_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_access_change_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_change'))
    )
    with op.batch_alter_table('access_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_change_user_id'), ['user_id'], unique=False)

    op.create_table('password_code',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_password_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_password_code'))
    )

    op.create_table('sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sign_in_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in'))
    )
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_user_id'), ['user_id'], unique=False)

    separate_admins_from_case_readers()


def separate_admins_from_case_readers():
    """Remove the admin role from accounts that also read case content; audit each."""
    conn = op.get_bind()
    both = conn.execute(sa.text(
        "SELECT u.id, u.email FROM user_account u"
        " WHERE EXISTS (SELECT 1 FROM user_role r WHERE r.user_id = u.id AND r.role = 'admin')"
        " AND EXISTS (SELECT 1 FROM user_role r WHERE r.user_id = u.id"
        " AND r.role IN ('handler', 'safety_rep'))"
        " ORDER BY u.id"
    )).all()
    if not both:
        return
    entries = []
    for user_id, _email in both:
        before = sorted(conn.execute(
            sa.text("SELECT role FROM user_role WHERE user_id = :id"), {"id": user_id}
        ).scalars())
        conn.execute(
            sa.text("DELETE FROM user_role WHERE user_id = :id AND role = 'admin'"),
            {"id": user_id},
        )
        detail = {
            "roles_before": before,
            "roles": [role for role in before if role != "admin"],
            "reason": "separation_of_duties",
        }
        entries.append((user_id, json.dumps(detail, sort_keys=True, separators=(",", ":"))))
    _append_to_audit_chain(conn, entries)
    log.warning(
        "separation of duties: removed the admin role from %s, who also read case "
        "content (their case roles are kept; give administration to a separate account)",
        ", ".join(email for _id, email in both),
    )


def _append_to_audit_chain(conn, entries):
    """Append "user.update" entries by "migration" to the chain, as a commit would."""
    at = datetime.now(UTC).replace(microsecond=0)
    audit.append(conn, [
        {
            "at": at,
            "actor": "migration",
            "action": "user.update",
            "object_type": "user",
            "object_id": str(user_id),
            "detail": detail,
        }
        for user_id, detail in entries
    ], erasable=False)


def downgrade():
    # Roles removed on upgrade are not given back: that would break the rule again.
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_user_id'))
        batch_op.drop_index(batch_op.f('ix_sign_in_at'))
    op.drop_table('sign_in')
    op.drop_table('password_code')
    with op.batch_alter_table('access_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_change_user_id'))
    op.drop_table('access_change')

    with op.batch_alter_table('anonymous_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anonymous_session_day'))
    op.drop_table('anonymous_session')

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_session_created_at'))
    op.drop_table('login_session')
