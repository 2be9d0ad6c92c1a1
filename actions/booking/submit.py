"""Submitting the booking form: every value checked again, booked once, then the code, documents and .ics."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select

from actions import texts
from actions.booking import answers
from actions.booking.answers import (
    BOOKING_FORM_SLOTS,
    MANAGE_SLOTS,
    SENDER_RE,
    as_date,
    clean_name,
    local_today,
    party_problem,
    rules,
)
from actions.common import services
from civil_affairs import booking
from civil_affairs.booking.ics import CalendarEvent, build_ics
from civil_affairs.faq.store import format_answer
from civil_affairs.identity import (
    IdNumberError,
    parse_id_number,
    parse_phone,
)
from civil_affairs.models import Appointment, FaqEntry
from civil_affairs.models.booking import KIND_LABELS
from civil_affairs.sealing import PREFIX as SEALED_PREFIX
from civil_affairs.sealing import unseal

logger = logging.getLogger(__name__)


def reset_events(slots: tuple[str, ...] = BOOKING_FORM_SLOTS + MANAGE_SLOTS) -> list[EventType]:
    """Clear the form slots (the ID numbers leave the tracker's current state)."""
    return [SlotSet(slot, None) for slot in dict.fromkeys(slots)] + [SlotSet("booking_failures", 0.0)]


def documents_text(kind: str) -> str:
    """What to bring, from the FAQ store entries of this kind."""
    app = services()
    with app.sessions.begin() as session:
        entries = [
            session.scalar(select(FaqEntry).where(FaqEntry.key == key, FaqEntry.active == True))  # noqa: E712
            for key in booking.DOCUMENT_FAQ_KEYS.get(kind, ())
        ]
        found = [format_answer(e, app.settings.bureau) for e in entries if e is not None]
    return texts.documents(found, kind)


def ics_message(appointment: Appointment) -> dict[str, Any]:
    """The custom payload the bot turns into a document upload."""
    bureau = services().settings.bureau
    event = CalendarEvent(
        uid=f"{appointment.code}@civil-affairs-bot",
        day=appointment.day,
        start=appointment.slot.start_time,
        end=appointment.slot.end_time,
        summary=texts.ICS_SUMMARY.format(kind=KIND_LABELS[appointment.kind], code=appointment.code),
        description=texts.ICS_DESCRIPTION,
        location=bureau.address or texts.ICS_LOCATION_FALLBACK.format(bureau=bureau.name),
    )
    return {
        "document": {
            "filename": f"{appointment.code}.ics",
            "content": build_ics(event),
            "caption": texts.ICS_CAPTION,
        }
    }


def submission_key(tracker: Tracker) -> str | None:
    """Identifies this run of the booking form, so a confirmation Rasa handles twice books once.

    A resident's "确认" can reach the action twice when a server fails after booking (the channel
    or Rasa retries): both carry the same form activation, so they get the same key and the second
    returns the first booking. None when the activation is not in the events sent (no such guard).
    """
    started = next(
        (
            event.get("timestamp")
            for event in reversed(tracker.events)
            if event.get("event") == "active_loop" and event.get("name") == "booking_form"
        ),
        None,
    )
    if started is None:
        return None
    return hashlib.sha256(f"{tracker.sender_id}|booking_form|{started}".encode()).hexdigest()


def sealed_value(tracker: Tracker, slot: str) -> str | None:
    """A personal number only as the form sealed it; a raw or forged value in the slot gives None."""
    value = tracker.get_slot(slot)
    if not isinstance(value, str) or not value.startswith(SEALED_PREFIX):
        return None
    return unseal(value, services().settings.secret_key)


def submitted_request(tracker: Tracker) -> booking.BookingRequest | None:
    """The booking the tracker asks for, every value checked again here; None if anything fails.

    The action server cannot tell a tracker Rasa built from one someone posted, so nothing the form's
    validation said is trusted: the chat id must look like one of ours, the kind must be known, the
    names must be names, the ID numbers and phone must be sealed by this service and pass every
    check again (checksum, sex and age for a marriage). The day, slot, capacity, no-show and
    one-appointment rules are checked by ``booking.book``.
    """
    sender = tracker.sender_id or ""
    kind = tracker.get_slot("booking_kind") or "marriage"
    day = as_date(tracker.get_slot("booking_date"))
    slot_code = tracker.get_slot("booking_slot")
    phone = parse_phone(sealed_value(tracker, "booking_phone") or "")
    problems = [
        not SENDER_RE.match(sender),
        kind not in KIND_LABELS,
        day is None,
        not isinstance(slot_code, str) or not slot_code,
        phone is None,
    ]
    parties = []
    for position in (1, 2):
        name = clean_name(str(tracker.get_slot(f"party{position}_name") or ""))
        try:
            person = parse_id_number(sealed_value(tracker, f"party{position}_id") or "", today=local_today())
        except IdNumberError:
            problems.append(True)
            continue
        problems += [name is None, day is not None and party_problem(kind, position, person, day) is not None]
        parties.append(booking.Party(name or "", person))
    application_date = as_date(tracker.get_slot("divorce_application_date"))
    problems.append(kind == "divorce_certificate" and application_date is None)
    if any(problems) or day is None or phone is None:
        logger.warning(
            "booking submission refused: a value failed its check again (sender %s)",
            sender if SENDER_RE.match(sender) else "malformed",
        )
        return None
    return booking.BookingRequest(
        kind=kind,
        day=day,
        slot_code=slot_code,
        parties=tuple(parties),
        phone=phone,
        sender_id=sender,
        application_date=application_date,
        submission_key=submission_key(tracker),
    )


class ActionSubmitBooking(Action):
    """Books the confirmed appointment and sends the code, what to bring and the .ics file."""

    def name(self) -> str:
        return "action_submit_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("booking_abort"):
            return reset_events()
        if tracker.get_slot("booking_confirmed") is not True:
            dispatcher.utter_message(text=texts.NOT_SUBMITTED)
            return reset_events()
        app = services()
        request = submitted_request(tracker)
        if request is None:
            dispatcher.utter_message(text=texts.INCOMPLETE)
            return reset_events()
        kind = request.kind
        try:
            appointment = booking.book_with_retry(
                app.sessions, request, secret_key=app.settings.secret_key, now=answers.now(), rules=rules()
            )
        except booking.BookingError as exc:
            dispatcher.utter_message(text=exc.message)
            if exc.code == "full":  # choose another slot (or day) and confirm again
                return [
                    SlotSet("booking_slot", None),
                    SlotSet("booking_confirmed", None),
                    FollowupAction("booking_form"),
                ]
            return reset_events()
        logger.info("booked %s for %s", appointment.code, tracker.sender_id)
        try:
            dispatcher.utter_message(text=texts.confirmation(appointment))
            dispatcher.utter_message(text=documents_text(kind))
            dispatcher.utter_message(json_message=ics_message(appointment))
        except Exception:  # the booking stands; an unhandled error would echo the tracker in a 500
            logger.exception("booking %s made but its confirmation failed", appointment.code)
            dispatcher.utter_message(text=texts.BOOKED_SHORT.format(code=appointment.code))
        return reset_events()
