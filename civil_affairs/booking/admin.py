"""Staff settings of slots and capacity overrides, and the booking seed."""

from __future__ import annotations

import logging
from datetime import date, time
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs import clock
from civil_affairs.booking.capacity import refresh_capacity
from civil_affairs.booking.rules import BookingError
from civil_affairs.models import BookingSlot, CapacityOverride

logger = logging.getLogger(__name__)


# --- slots, overrides and seed ------------------------------------------------------------------------


def set_slot_capacity(
    slot_id: int, capacity: int, *, session: Session, active: bool | None = None, today: date | None = None
) -> BookingSlot | None:
    """Change a slot's default capacity (and whether it is offered); future counters follow."""
    slot = session.get(BookingSlot, slot_id)
    if slot is None:
        return None
    if capacity < 0:
        raise BookingError("capacity", "名额不能小于0")
    slot.capacity = capacity
    if active is not None:
        slot.active = active
    session.flush()
    refresh_capacity(today or clock.local_now().date(), session=session)
    return slot


def set_override(day: date, slot_id: int, capacity: int | None, note: str = "", *, session: Session) -> None:
    """Set (or with None remove) the capacity of one slot on one date; the counter follows."""
    row = session.scalar(
        select(CapacityOverride).where(CapacityOverride.day == day, CapacityOverride.slot_id == slot_id)
    )
    if capacity is None:
        if row is not None:
            session.delete(row)
    elif capacity < 0:
        raise BookingError("capacity", "名额不能小于0")
    elif row is None:
        session.add(CapacityOverride(day=day, slot_id=slot_id, capacity=capacity, note=note[:100]))
    else:
        row.capacity, row.note = capacity, note[:100]
    session.flush()
    refresh_capacity(day, session=session)


def list_overrides(day_from: date, *, session: Session) -> list[CapacityOverride]:
    """Capacity overrides from ``day_from`` on."""
    return list(
        session.scalars(
            select(CapacityOverride)
            .where(CapacityOverride.day >= day_from)
            .order_by(CapacityOverride.day, CapacityOverride.slot_id)
        )
    )


def load_booking_seed(*, session: Session, path: Path) -> int:
    """Add slots and date overrides from ``seed/booking.yml`` that are missing (staff edits are kept).

    Returns:
        How many rows were added.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    added = 0
    for raw in data.get("slots") or []:
        if session.scalar(select(BookingSlot).where(BookingSlot.code == raw["code"])) is None:
            session.add(
                BookingSlot(
                    code=str(raw["code"]),
                    start_time=time.fromisoformat(str(raw["start"])),
                    end_time=time.fromisoformat(str(raw["end"])),
                    capacity=int(raw["capacity"]),
                    active=bool(raw.get("active", True)),
                )
            )
            added += 1
    session.flush()
    slots = {s.code: s.id for s in session.scalars(select(BookingSlot))}
    for raw in data.get("overrides") or []:
        day = raw["date"] if isinstance(raw["date"], date) else date.fromisoformat(str(raw["date"]))
        for code in raw.get("slots") or list(slots):
            exists = session.scalar(
                select(CapacityOverride).where(CapacityOverride.day == day, CapacityOverride.slot_id == slots[code])
            )
            if exists is None:
                session.add(
                    CapacityOverride(
                        day=day, slot_id=slots[code], capacity=int(raw["capacity"]), note=str(raw.get("note", ""))[:100]
                    )
                )
                added += 1
    session.flush()
    return added
