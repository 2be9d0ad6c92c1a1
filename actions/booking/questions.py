"""The forms' questions (action_ask_<slot>): buttons for dates, slots and the confirmation."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.asking import AskForSlot
from actions.booking import answers
from actions.booking.answers import (
    MAX_DATE_BUTTONS,
    as_date,
    choice_payload,
    kind_and_application,
    local_today,
    rules,
    unsealed_slot,
)
from actions.common import services
from civil_affairs import booking
from civil_affairs.booking.date_parsing import describe_date, short_date
from civil_affairs.models.booking import KIND_LABELS
from civil_affairs.privacy import mask_id, mask_phone

# --- the forms' questions (action_ask_<slot>) ---------------------------------------------------------


class AskDivorceApplicationDate(AskForSlot):
    """When the divorce application (离婚登记申请) was accepted; the 冷静期 counts from it."""

    question = texts.ASK_DIVORCE_APPLICATION_DATE

    def name(self) -> str:
        return "action_ask_divorce_application_date"


class AskParty1Name(AskForSlot):
    question = texts.ASK_PARTY1_NAME
    marriage_question = texts.ASK_PARTY1_NAME_MARRIAGE

    def name(self) -> str:
        return "action_ask_party1_name"


class AskParty1Id(AskForSlot):
    question = texts.ASK_PARTY1_ID
    marriage_question = texts.ASK_PARTY1_ID_MARRIAGE

    def name(self) -> str:
        return "action_ask_party1_id"


class AskParty2Name(AskForSlot):
    question = texts.ASK_PARTY2_NAME
    marriage_question = texts.ASK_PARTY2_NAME_MARRIAGE

    def name(self) -> str:
        return "action_ask_party2_name"


class AskParty2Id(AskForSlot):
    question = texts.ASK_PARTY2_ID
    marriage_question = texts.ASK_PARTY2_ID_MARRIAGE

    def name(self) -> str:
        return "action_ask_party2_id"


class AskBookingPhone(AskForSlot):
    question = texts.ASK_BOOKING_PHONE

    def name(self) -> str:
        return "action_ask_booking_phone"


class AskBookingCode(AskForSlot):
    """The cancel and reschedule forms' first question."""

    question = texts.ASK_BOOKING_CODE

    def name(self) -> str:
        return "action_ask_booking_code"


class AskBookingIdLast6(AskForSlot):
    question = texts.ASK_BOOKING_ID_LAST6

    def name(self) -> str:
        return "action_ask_booking_id_last6"


class ActionAskBookingDate(Action):
    """Asks for a date and offers free days as buttons (the booking and the reschedule form)."""

    def name(self) -> str:
        return "action_ask_booking_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kind, application_date = kind_and_application(tracker)
        app = services()
        with app.sessions.begin() as session:
            days = booking.available_days(
                session=session,
                now=answers.now(),
                kind=kind,
                rules=rules(),
                application_date=application_date,
                limit=MAX_DATE_BUTTONS,
            )
        label = KIND_LABELS.get(kind, texts.DEFAULT_KIND_LABEL)
        if not days:
            dispatcher.utter_message(text=texts.NO_FREE_DAYS.format(kind=label))
            return []
        buttons = [
            {
                "title": texts.DATE_BUTTON_TITLE.format(day=short_date(d.day), free=d.free),
                "payload": choice_payload(d.day.isoformat()),
            }
            for d in days
        ]
        dispatcher.utter_message(text=texts.ASK_BOOKING_DATE.format(kind=label), buttons=buttons)
        return []


class ActionAskBookingSlot(Action):
    """Offers the chosen day's time slots with the places left."""

    def name(self) -> str:
        return "action_ask_booking_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        day = as_date(tracker.get_slot("booking_date"))
        if day is None:
            return []
        app = services()
        with app.sessions.begin() as session:
            slots = [s for s in booking.slot_availability(day, session=session, now=answers.now()) if s.free > 0]
        buttons = [
            {"title": texts.SLOT_BUTTON_TITLE.format(slot=s.label, free=s.free), "payload": choice_payload(s.slot_code)}
            for s in slots
        ]
        dispatcher.utter_message(
            text=texts.ASK_BOOKING_SLOT.format(day=describe_date(day, local_today())), buttons=buttons
        )
        return []


class ActionAskBookingConfirmed(Action):
    """Shows the summary and asks to confirm."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kind = tracker.get_slot("booking_kind") or "marriage"
        day = as_date(tracker.get_slot("booking_date"))
        app = services()
        with app.sessions.begin() as session:
            slot = booking.slot_by_code(tracker.get_slot("booking_slot") or "", session=session)
            label = slot.label
        parties = [
            (
                texts.role_label(kind, position),
                tracker.get_slot(f"party{position}_name"),
                mask_id(unsealed_slot(tracker, f"party{position}_id") or ""),
            )
            for position in (1, 2)
        ]
        summary = texts.booking_summary(
            kind=kind,
            day=describe_date(day) if day else None,
            slot=label,
            parties=parties,
            masked_phone=mask_phone(unsealed_slot(tracker, "booking_phone") or ""),
        )
        dispatcher.utter_message(text=summary, buttons=[dict(b) for b in texts.CONFIRM_BUTTONS])
        return []
