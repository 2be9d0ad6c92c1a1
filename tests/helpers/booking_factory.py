"""Valid ID numbers (GB 11643 checksums computed) and booking requests for tests."""

from __future__ import annotations

from datetime import date

from civil_affairs import booking
from civil_affairs.identity import check_digit, parse_id_number


def make_id(birth: date, *, male: bool, area: str = "361122", serial: int = 12) -> str:
    """A checksum-valid 18-character ID number for ``birth`` and sex (odd 17th digit = male)."""
    order = f"{serial:02d}" + ("1" if male else "2")
    first17 = f"{area}{birth:%Y%m%d}{order}"
    return first17 + check_digit(first17)


def make_request(
    day: date,
    slot: str = "am1",
    *,
    serial: int = 12,
    kind: str = "marriage",
    sender_id: str = "tg-42",
    application_date: date | None = None,
) -> booking.BookingRequest:
    """A booking request for a fresh couple (``serial`` makes the two ID numbers unique)."""
    groom = parse_id_number(make_id(date(1994, 3, 5), male=True, serial=serial % 100, area=f"36{serial // 100:04d}"))
    bride = parse_id_number(make_id(date(1996, 7, 9), male=False, serial=serial % 100, area=f"36{serial // 100:04d}"))
    return booking.BookingRequest(
        kind=kind,
        day=day,
        slot_code=slot,
        parties=(booking.Party("张伟", groom), booking.Party("李婷", bride)),
        phone="13979312456",
        sender_id=sender_id,
        application_date=application_date,
    )
