"""identity consent: the reporter, not the exporting handler, agrees to be named

`identity_consent`: one row per case and kind of recipient (the police, the Labour
Inspection Authority, NAV, another authority) that the reporter of a varsel or of a
confidential report has agreed may learn who they are when the case is exported to it.
The reporter gives and withdraws it on their case page; an export names a protected
reporter only to a recipient they agreed to. Before this revision the exporting handler
ticked a box saying the reporter had agreed: those ticks were not stored (only an audit
entry), so no row is filled here.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 04:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "identity_consent",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=24), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
            name=op.f("fk_identity_consent_case_id_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "recipient", name=op.f("pk_identity_consent")),
    )


def downgrade():
    op.drop_table("identity_consent")
