"""operations: Rasa's conversation events (SQL tracker store), Telegram updates handled, booking
submission keys

Revision ID: 0007_operations
Revises: 0005_booking
Create Date: 2026-12-01 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_operations"
down_revision = "0005_booking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rasa_tracker_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("type_name", sa.String(length=255), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=True),
        sa.Column("intent_name", sa.String(length=255), nullable=True),
        sa.Column("action_name", sa.String(length=255), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rasa_tracker_event")),
    )
    op.create_index("ix_rasa_tracker_event_sender_id_id", "rasa_tracker_event", ["sender_id", "id"])
    op.create_index(
        "ix_rasa_tracker_event_sender_id_type_name_timestamp",
        "rasa_tracker_event",
        ["sender_id", "type_name", "timestamp"],
    )
    op.create_index("ix_rasa_tracker_event_timestamp", "rasa_tracker_event", ["timestamp"])
    op.create_table(
        "telegram_update",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('received', 'processing', 'answered', 'resend_asked', 'replayed')",
            name=op.f("ck_telegram_update_state"),
        ),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name=op.f("pk_telegram_update")),
    )
    op.create_index("ix_telegram_update_state_received_at", "telegram_update", ["state", "received_at"])
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_appointment_submission_key"), ["submission_key"])


def downgrade() -> None:
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_appointment_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
    op.drop_index("ix_telegram_update_state_received_at", table_name="telegram_update")
    op.drop_table("telegram_update")
    op.drop_index("ix_rasa_tracker_event_timestamp", table_name="rasa_tracker_event")
    op.drop_index("ix_rasa_tracker_event_sender_id_type_name_timestamp", table_name="rasa_tracker_event")
    op.drop_index("ix_rasa_tracker_event_sender_id_id", table_name="rasa_tracker_event")
    op.drop_table("rasa_tracker_event")
