"""security: rate-limit counters (logins, lookups, booking-code checks) and status lookup proofs

Revision ID: 0008_security
Revises: 0007_operations
Create Date: 2026-11-30 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_security"
down_revision = "0007_operations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counter",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_rate_limit_counter")),
    )
    op.create_table(
        "status_lookup_proof",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=80), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_status_lookup_proof_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lookup_proof")),
        sa.UniqueConstraint("sender_id", "application_id", name="uq_status_lookup_proof_sender_application"),
    )
    op.create_index("ix_status_lookup_proof_sender_id_at", "status_lookup_proof", ["sender_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_status_lookup_proof_sender_id_at", table_name="status_lookup_proof")
    op.drop_table("status_lookup_proof")
    op.drop_table("rate_limit_counter")
