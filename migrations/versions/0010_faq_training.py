"""faq training examples: residents' phrasings (variants) and near misses per entry

Revision ID: 0010_faq_training
Revises: 0009_webchat_sender
Create Date: 2026-11-30 10:15:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_faq_training"
down_revision = "0009_webchat_sender"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faq_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("variants", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("near_misses", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("faq_entry", schema=None) as batch_op:
        batch_op.drop_column("near_misses")
        batch_op.drop_column("variants")
