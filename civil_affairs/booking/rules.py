"""The booking rules and the values the booking functions exchange (requests, availability, errors)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, time

from civil_affairs.config import Settings
from civil_affairs.errors import ExplainedError
from civil_affairs.identity import IdNumber

logger = logging.getLogger(__name__)


CODE_PREFIX = "YY"
CODE_ATTEMPTS = 8
BOOK_RETRIES = 5

# Which FAQ entries tell the resident what to bring, per kind (looked up in the FAQ store, never
# written here, so staff keep one text up to date).
DOCUMENT_FAQ_KEYS = {
    "marriage": ("marriage-documents",),
    "divorce_application": ("divorce-documents",),
    "divorce_certificate": ("divorce-documents",),
    "certificate_reissue": ("marriage-certificate-reissue",),
}


@dataclass(frozen=True)
class BookingRules:
    """Tunable booking rules; built from the BOOKING_* settings by ``rules_from_settings``."""

    min_days_ahead: int = 1  # 1 = from tomorrow; 0 allows same-day booking until the cutoff
    max_days_ahead: int = 15
    same_day_cutoff: time = time(11, 0)
    no_show_limit: int = 2  # no-shows within the lookback that trigger a block
    no_show_lookback_days: int = 180
    no_show_block_days: int = 30
    reminder_time: time = time(10, 0)  # local time on the day before the appointment
    verify_max_failures: int = 5  # wrong "last 6" answers per booking code (existing or not) per window
    verify_lock_minutes: int = 30  # the window of the per-code and per-chat counts
    cooling_off_days: int = 30  # 民法典第1077条
    certificate_window_days: int = 30


DEFAULT_RULES = BookingRules()


def rules_from_settings(settings: Settings) -> BookingRules:
    """The booking rules configured by the BOOKING_* settings."""
    return BookingRules(
        min_days_ahead=settings.booking_min_days_ahead,
        max_days_ahead=settings.booking_max_days_ahead,
        same_day_cutoff=time.fromisoformat(settings.booking_same_day_cutoff),
        no_show_limit=settings.booking_no_show_limit,
        no_show_lookback_days=settings.booking_no_show_lookback_days,
        no_show_block_days=settings.booking_no_show_block_days,
        reminder_time=time.fromisoformat(settings.booking_reminder_time),
    )


class BookingError(ExplainedError):
    """A booking request cannot be carried out; ``message`` is kind Chinese for the resident."""


@dataclass(frozen=True)
class Party:
    """One person of a booking request, with the checked ID number."""

    name: str
    id_number: IdNumber


@dataclass(frozen=True)
class BookingRequest:
    """Everything a booking needs; ``application_date`` only for the divorce certificate visit."""

    kind: str
    day: date
    slot_code: str
    parties: tuple[Party, ...]
    phone: str
    sender_id: str = ""
    application_date: date | None = None
    # The same key twice books once: a confirmation retried after a failure gets the first booking.
    submission_key: str | None = None


@dataclass(frozen=True)
class SlotAvailability:
    """One slot on one day: its capacity, places taken and left."""

    slot_code: str
    label: str
    start: time
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


@dataclass(frozen=True)
class DayAvailability:
    """A bookable day with its free places over all slots."""

    day: date
    free: int
    slots: list[SlotAvailability] = field(default_factory=list)
