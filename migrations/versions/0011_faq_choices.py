"""faq choices: the entries an entry that asks back offers as buttons

Revision ID: 0011_faq_choices
Revises: 0010_faq_training
Create Date: 2026-12-01 11:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_faq_choices"
down_revision = "0010_faq_training"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faq_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("choices", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("faq_entry", schema=None) as batch_op:
        batch_op.drop_column("choices")
