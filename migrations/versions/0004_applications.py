"""applications (办件), status history, stage texts (seeded from seed/application_stages.yml),
subscriptions and failed lookups

Revision ID: 0004_applications
Revises: 0003_conversations
Create Date: 2026-11-28 17:26:37.411014
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0004_applications"
down_revision = "0003_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("type_code", sa.String(length=2), nullable=False),
        sa.Column("applicant_name", sa.String(length=64), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("id_last6", sa.String(length=6), nullable=False),
        sa.Column("phone_masked", sa.String(length=20), nullable=True),
        sa.Column("office", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'home_visit', 'review', 'publicity', 'approval', 'approved', 'rejected', "
            "'needs_documents')",
            name=op.f("ck_application_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint("number", name=op.f("uq_application_number")),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_id_hash"), ["id_hash"], unique=False)
        batch_op.create_index("ix_application_status_at", ["status", "status_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_type_code"), ["type_code"], unique=False)

    op.create_table(
        "application_stage_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_code", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("next_step", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_stage_text")),
        sa.UniqueConstraint("type_code", "status", name="uq_application_stage_text_type_status"),
    )
    op.create_table(
        "status_lookup_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lookup_failure")),
    )
    with op.batch_alter_table("status_lookup_failure", schema=None) as batch_op:
        batch_op.create_index("ix_status_lookup_failure_number_at", ["number", "at"], unique=False)
        batch_op.create_index("ix_status_lookup_failure_sender_id_at", ["sender_id", "at"], unique=False)

    op.create_table(
        "application_status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'home_visit', 'review', 'publicity', 'approval', 'approved', 'rejected', "
            "'needs_documents')",
            name=op.f("ck_application_status_event_status"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_status_event_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_application_status_event_staff_user_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_status_event")),
    )
    with op.batch_alter_table("application_status_event", schema=None) as batch_op:
        batch_op.create_index("ix_application_status_event_application_id_id", ["application_id", "id"], unique=False)

    op.create_table(
        "status_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_status_subscription_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_subscription")),
        sa.UniqueConstraint("application_id", "sender_id", name="uq_status_subscription_application_sender"),
    )
    with op.batch_alter_table("status_subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_subscription_sender_id"), ["sender_id"], unique=False)

    # Stage texts are data staff may edit later; the seed file gives every type and status a text.
    from civil_affairs.applications.stages import read_stage_seed

    stage_text = sa.table(
        "application_stage_text",
        sa.column("type_code", sa.String),
        sa.column("status", sa.String),
        sa.column("meaning", sa.Text),
        sa.column("next_step", sa.Text),
        sa.column("updated_at", sa.DateTime),
    )
    op.bulk_insert(stage_text, [{**row, "updated_at": datetime.utcnow()} for row in read_stage_seed()])


def downgrade() -> None:
    with op.batch_alter_table("status_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_subscription_sender_id"))

    op.drop_table("status_subscription")
    with op.batch_alter_table("application_status_event", schema=None) as batch_op:
        batch_op.drop_index("ix_application_status_event_application_id_id")

    op.drop_table("application_status_event")
    with op.batch_alter_table("status_lookup_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_status_lookup_failure_sender_id_at")
        batch_op.drop_index("ix_status_lookup_failure_number_at")

    op.drop_table("status_lookup_failure")
    op.drop_table("application_stage_text")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_type_code"))
        batch_op.drop_index("ix_application_status_at")
        batch_op.drop_index(batch_op.f("ix_application_id_hash"))

    op.drop_table("application")
