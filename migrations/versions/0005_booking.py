"""marriage registration appointments

Revision ID: 0005_booking
Revises: 0004_applications
Create Date: 2026-11-28 17:27:43.081492
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_booking"
down_revision = "0004_applications"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "booking_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_booking_slot_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_slot")),
        sa.UniqueConstraint("code", name=op.f("uq_booking_slot_code")),
    )
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_calendar_day_kind")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_year")),
    )

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sender_id", sa.String(length=80), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("application_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(), nullable=True),
        sa.Column("status_changed_by", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("rescheduled_to_id", sa.Integer(), nullable=True),
        sa.Column("verify_failures", sa.Integer(), nullable=False),
        sa.Column("verify_locked_until", sa.DateTime(), nullable=True),
        sa.Column("reminder_state", sa.String(length=16), nullable=False),
        sa.Column("reminder_due_at", sa.DateTime(), nullable=True),
        sa.Column("reminder_claimed_at", sa.DateTime(), nullable=True),
        sa.Column("reminder_sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('marriage', 'divorce_application', 'divorce_certificate', 'certificate_reissue')",
            name=op.f("ck_appointment_kind"),
        ),
        sa.CheckConstraint(
            "reminder_state IN ('pending', 'sending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_appointment_reminder_state"),
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'arrived', 'no_show', 'cancelled', 'rescheduled')", name=op.f("ck_appointment_status")
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_to_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_rescheduled_to_id_appointment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["booking_slot.id"], name=op.f("fk_appointment_slot_id_booking_slot"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["status_changed_by"],
            ["staff_user.id"],
            name=op.f("fk_appointment_status_changed_by_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
        sa.UniqueConstraint("code", name=op.f("uq_appointment_code")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_day_slot", ["day", "slot_id"], unique=False)
        batch_op.create_index("ix_appointment_reminder", ["reminder_state", "reminder_due_at"], unique=False)

    op.create_table(
        "capacity_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_capacity_override_capacity")),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["booking_slot.id"], name=op.f("fk_capacity_override_slot_id_booking_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_override")),
        sa.UniqueConstraint("day", "slot_id", name="uq_capacity_override_day_slot"),
    )
    with op.batch_alter_table("capacity_override", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capacity_override_day"), ["day"], unique=False)

    op.create_table(
        "slot_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0", name=op.f("ck_slot_day_booked")),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["booking_slot.id"], name=op.f("fk_slot_day_slot_id_booking_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_day")),
        sa.UniqueConstraint("day", "slot_id", name="uq_slot_day_day_slot"),
    )

    op.create_table(
        "appointment_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("id_last6", sa.String(length=6), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_party_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_party")),
        sa.UniqueConstraint("appointment_id", "position", name="uq_appointment_party_position"),
    )
    with op.batch_alter_table("appointment_party", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_party_id_hash", ["id_hash"], unique=False)
        batch_op.create_index(
            "uq_appointment_party_active_person",
            ["id_hash"],
            unique=True,
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_party", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_appointment_party_active_person", sqlite_where=sa.text("active = 1"), postgresql_where=sa.text("active")
        )
        batch_op.drop_index("ix_appointment_party_id_hash")

    op.drop_table("appointment_party")

    op.drop_table("slot_day")
    with op.batch_alter_table("capacity_override", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_override_day"))

    op.drop_table("capacity_override")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_reminder")
        batch_op.drop_index("ix_appointment_day_slot")

    op.drop_table("appointment")

    op.drop_table("calendar_year")
    op.drop_table("calendar_day")
    op.drop_table("booking_slot")
