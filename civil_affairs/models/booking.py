"""Marriage-registration appointments (婚姻登记预约): calendar, slots, capacity counters, bookings.

Capacity is enforced by the database: each (day, slot) has one ``slot_day`` counter row, and a
booking takes a place with ``UPDATE slot_day SET booked = booked + 1 WHERE … AND booked < capacity``
inside the booking transaction (the row count says whether a place was left). "One active
appointment per person" is a partial unique index on ``appointment_party.id_hash``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer, String, Time,
    UniqueConstraint, text,
)
from sqlalchemy.orm import relationship

from civil_affairs.models.base import Base, utcnow

APPOINTMENT_KINDS = ("marriage", "divorce_application", "divorce_certificate", "certificate_reissue")
KIND_LABELS = {
    "marriage": "结婚登记",
    "divorce_application": "离婚登记申请",
    "divorce_certificate": "离婚登记（冷静期满后领证）",
    "certificate_reissue": "补领婚姻登记证",
}
STATUSES = ("booked", "arrived", "no_show", "cancelled", "rescheduled")
STATUS_LABELS = {"booked": "已预约", "arrived": "已到场", "no_show": "未到场（爽约）",
                 "cancelled": "已取消", "rescheduled": "已改约"}
REMINDER_STATES = ("pending", "sending", "sent", "failed", "skipped")


class CalendarYear(Base):
    """A year whose official holiday and 调休 arrangement is in ``calendar_day``; missing = unknown."""

    __tablename__ = "calendar_year"

    year = Column(Integer, primary_key=True, autoincrement=False)
    source = Column(String(40), nullable=False, default="chinese_calendar")
    loaded_at = Column(DateTime, nullable=False, default=utcnow)


class CalendarDay(Base):
    """An exception to Monday–Friday: a holiday (休) or a make-up working weekend (调休上班)."""

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    day = Column(Date, primary_key=True)
    kind = Column(String(16), nullable=False)
    name = Column(String(60), nullable=False, default="")


class BookingSlot(Base):
    """A time slot of the registration office (e.g. 09:00–10:00) with its default capacity."""

    __tablename__ = "booking_slot"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity"),)

    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    start_time = Column(Time, nullable=False)
    end_time = Column(Time, nullable=False)
    capacity = Column(Integer, nullable=False)
    active = Column(Boolean, nullable=False, default=True)

    @property
    def label(self) -> str:
        return f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"


class CapacityOverride(Base):
    """A different capacity for one slot on one date: more on 5月20日/七夕, 0 to close, >0 to open a weekend."""

    __tablename__ = "capacity_override"
    __table_args__ = (UniqueConstraint("day", "slot_id", name="uq_capacity_override_day_slot"),
                      CheckConstraint("capacity >= 0", name="capacity"))

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, index=True)
    slot_id = Column(Integer, ForeignKey("booking_slot.id", ondelete="CASCADE"), nullable=False)
    capacity = Column(Integer, nullable=False)
    note = Column(String(100), nullable=False, default="")


class SlotDay(Base):
    """The capacity counter of one slot on one day; ``booked`` never exceeds ``capacity`` for new bookings."""

    __tablename__ = "slot_day"
    __table_args__ = (UniqueConstraint("day", "slot_id", name="uq_slot_day_day_slot"),
                      CheckConstraint("booked >= 0", name="booked"))

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False)
    slot_id = Column(Integer, ForeignKey("booking_slot.id", ondelete="CASCADE"), nullable=False)
    capacity = Column(Integer, nullable=False)
    booked = Column(Integer, nullable=False, default=0)


class Appointment(Base):
    """One booking; personal ID numbers live in ``appointment_party`` as keyed hashes only."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("kind IN ('marriage', 'divorce_application', 'divorce_certificate', "
                        "'certificate_reissue')", name="kind"),
        CheckConstraint("status IN ('booked', 'arrived', 'no_show', 'cancelled', 'rescheduled')",
                        name="status"),
        CheckConstraint("reminder_state IN ('pending', 'sending', 'sent', 'failed', 'skipped')",
                        name="reminder_state"),
        Index("ix_appointment_day_slot", "day", "slot_id"),
        Index("ix_appointment_reminder", "reminder_state", "reminder_due_at"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    kind = Column(String(24), nullable=False)
    day = Column(Date, nullable=False)
    slot_id = Column(Integer, ForeignKey("booking_slot.id", ondelete="RESTRICT"), nullable=False)
    status = Column(String(16), nullable=False, default="booked")
    sender_id = Column(String(80), nullable=False, default="")
    phone = Column(String(20), nullable=False)
    application_date = Column(Date, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    status_changed_at = Column(DateTime, nullable=True)
    status_changed_by = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True)
    cancel_reason = Column(String(200), nullable=False, default="")
    rescheduled_to_id = Column(Integer, ForeignKey("appointment.id", ondelete="SET NULL"), nullable=True)
    verify_failures = Column(Integer, nullable=False, default=0)
    verify_locked_until = Column(DateTime, nullable=True)
    reminder_state = Column(String(16), nullable=False, default="pending")
    reminder_due_at = Column(DateTime, nullable=True)
    reminder_claimed_at = Column(DateTime, nullable=True)
    reminder_sent_at = Column(DateTime, nullable=True)
    # Identifies the form run that made this booking, so a retried submission returns it again.
    submission_key = Column(String(64), nullable=True, unique=True)

    slot = relationship(BookingSlot, lazy="joined")
    parties = relationship("AppointmentParty", lazy="selectin", order_by="AppointmentParty.position",
                           cascade="all, delete-orphan", back_populates="appointment")


class AppointmentParty(Base):
    """One of the two people of an appointment: name, keyed hash and last 6 characters of the ID."""

    __tablename__ = "appointment_party"
    __table_args__ = (
        UniqueConstraint("appointment_id", "position", name="uq_appointment_party_position"),
        # One active appointment per person, enforced by the database on SQLite and PostgreSQL.
        Index("uq_appointment_party_active_person", "id_hash", unique=True,
              sqlite_where=text("active = 1"), postgresql_where=text("active")),
        Index("ix_appointment_party_id_hash", "id_hash"),
    )

    id = Column(Integer, primary_key=True)
    appointment_id = Column(Integer, ForeignKey("appointment.id", ondelete="CASCADE"), nullable=False)
    position = Column(Integer, nullable=False)
    name = Column(String(40), nullable=False)
    id_hash = Column(String(64), nullable=False)
    id_last6 = Column(String(6), nullable=False)
    sex = Column(String(8), nullable=False, default="")
    active = Column(Boolean, nullable=False, default=True)

    appointment = relationship(Appointment, back_populates="parties")
