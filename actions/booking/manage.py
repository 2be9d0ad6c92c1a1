"""Cancelling and rescheduling: code + last 6 characters of either party's ID, checked in the database."""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.booking import answers
from actions.booking.answers import (
    CHOICE_ENTITY,
    CODE_RE,
    LAST6_RE,
    STOP_INTENTS,
    answer_of,
    code_checker,
    intent_of,
    interrupts,
    is_yes,
    kind_and_application,
    reject_answer,
    rules,
)
from actions.booking.form import BookingFormBase
from actions.booking.submit import ics_message, reset_events
from actions.common import services
from civil_affairs import booking
from civil_affairs.booking.date_parsing import describe_date

# Recorded on the appointment for staff (the console shows why it was cancelled).
CANCEL_REASON = "居民在线取消"


def normal_code(text: str) -> str | None:
    """The booking code in ``text`` as the database writes it (YY20261205-003), or None."""
    found = CODE_RE.search(text)
    if not found:
        return None
    code = re.sub(r"\s", "", found.group(0)).upper()
    return code if "-" in code else code[:10] + "-" + code[10:]


# --- cancelling and rescheduling ---------------------------------------------------------------------


class ManageFormBase(BookingFormBase, ABC):
    """Code + last 6 characters of either party's ID, checked against the database."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form>; abstract, so the action server does not register this base."""

    async def extract_booking_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = answer_of(tracker)
        found = CODE_RE.search(text)
        if tracker.get_slot("requested_slot") is None and not tracker.get_slot("booking_code"):
            return {"booking_code": found.group(0)} if found else {}  # the request itself named it
        return self._take(tracker, "booking_code", found is not None)

    async def extract_booking_id_last6(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._take(tracker, "booking_id_last6", LAST6_RE.search(answer_of(tracker)) is not None)

    def validate_booking_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = normal_code(str(value or ""))
        if code is None:
            return reject_answer(dispatcher, tracker, "booking_code", texts.CODE_UNREADABLE)
        return {"booking_code": code}

    def validate_booking_id_last6(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = LAST6_RE.search(str(value or "").upper())
        if not found:
            return reject_answer(dispatcher, tracker, "booking_id_last6", texts.LAST6_UNREADABLE)
        app = services()
        with app.sessions.begin() as session:  # commits the counted failure too
            appointment, error = booking.check_code(
                tracker.get_slot("booking_code") or "", found.group(1).upper(), session=session, **code_checker(tracker)
            )
            found_text = (
                texts.BOOKING_FOUND.format(day=describe_date(appointment.day), slot=appointment.slot.label)
                if appointment
                else ""
            )
        if error is not None:
            if error.code in ("verify",):
                result = reject_answer(dispatcher, tracker, "booking_id_last6", error.message)
                result["booking_code"] = None
                return result
            dispatcher.utter_message(text=error.message)
            return {"booking_id_last6": None, "booking_abort": error.code}
        dispatcher.utter_message(text=found_text)
        return {"booking_id_last6": found.group(1).upper(), "booking_failures": 0.0}

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("booking_abort"):
            return []
        return [s for s in domain_slots if s != "booking_abort"]


class ValidateCancelBookingForm(ManageFormBase):
    """Checks the answers of the cancel form (取消预约)."""

    def name(self) -> str:
        return "validate_cancel_booking_form"

    async def extract_cancel_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._requested(tracker, "cancel_confirmed"):
            return {}
        name, _ = intent_of(tracker)
        answer = True if name == "cancel_appointment" else is_yes(tracker)
        if answer is None and interrupts(tracker, STOP_INTENTS - {"deny"}):
            return {}
        return {"cancel_confirmed": answer if answer is not None else "unclear"}

    def validate_cancel_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True or value is False:
            return {"cancel_confirmed": value}
        dispatcher.utter_message(text=texts.CANCEL_UNCLEAR)
        return {"cancel_confirmed": None}


class ValidateRescheduleForm(ManageFormBase):
    """Checks the answers of the reschedule form (改约)."""

    def name(self) -> str:
        return "validate_reschedule_form"

    def validate_booking_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        kind, application_date = kind_and_application(tracker)
        return self._validate_date(value, dispatcher, tracker, kind, application_date)

    def validate_booking_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_slot(value, dispatcher, tracker)


class ActionAskCancelConfirmed(Action):
    """Asks whether to really cancel."""

    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text=texts.ASK_CANCEL.format(code=tracker.get_slot("booking_code")),
            buttons=[dict(b) for b in texts.CANCEL_BUTTONS],
        )
        return []


class ActionCancelBooking(Action):
    """Cancels the verified appointment."""

    def name(self) -> str:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("booking_abort"):
            return reset_events()
        if tracker.get_slot("cancel_confirmed") is not True:
            dispatcher.utter_message(text=texts.KEPT)
            return reset_events()
        app = services()
        try:
            with app.sessions.begin() as session:
                appointment, error = booking.check_code(
                    tracker.get_slot("booking_code") or "",
                    tracker.get_slot("booking_id_last6") or "",
                    session=session,
                    **code_checker(tracker),
                )
                if appointment is not None:
                    booking.cancel(appointment, session=session, reason=CANCEL_REASON)
                    code = appointment.code
        except booking.BookingError as exc:
            error = exc
        if error is not None:
            dispatcher.utter_message(text=error.message)
            return reset_events()
        dispatcher.utter_message(text=texts.CANCELLED.format(code=code))
        return reset_events()


class ActionRescheduleBooking(Action):
    """Moves the verified appointment to the chosen day and slot (a new code is issued)."""

    def name(self) -> str:
        return "action_reschedule_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("booking_abort"):
            return reset_events()
        app = services()
        with app.sessions.begin() as session:  # commits the counted failure too
            _, error = booking.check_code(
                tracker.get_slot("booking_code") or "",
                tracker.get_slot("booking_id_last6") or "",
                session=session,
                **code_checker(tracker),
            )
        if error is not None:
            dispatcher.utter_message(text=error.message)
            return reset_events()
        try:
            with app.sessions.begin() as session:
                old = booking.verify(
                    tracker.get_slot("booking_code") or "",
                    tracker.get_slot("booking_id_last6") or "",
                    session=session,
                    **code_checker(tracker),
                )
                new = booking.reschedule(
                    old,
                    date.fromisoformat(tracker.get_slot("booking_date")),
                    tracker.get_slot("booking_slot") or "",
                    session=session,
                    now=answers.now(),
                    rules=rules(),
                )
                text = texts.confirmation(new, title=texts.RESCHEDULED_TITLE.format(old_code=old.code))
                document = ics_message(new)
        except booking.BookingError as exc:
            dispatcher.utter_message(text=exc.message)
            if exc.code == "full":
                return [SlotSet("booking_slot", None), FollowupAction("reschedule_form")]
            return reset_events()
        except (TypeError, ValueError):
            dispatcher.utter_message(text=texts.RESCHEDULE_INCOMPLETE)
            return reset_events()
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(json_message=document)
        return reset_events()


class ActionStopBooking(Action):
    """Leaves whichever booking form is active when the resident no longer wants it."""

    def name(self) -> str:
        return "action_stop_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent, _ = intent_of(tracker)
        if intent not in ("request_human", "emergency", "complain"):
            dispatcher.utter_message(text=texts.STOPPED)
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + reset_events()


class ActionBookingCodeOnly(Action):
    """A booking code sent on its own outside a form: asks whether to reschedule or cancel that booking.

    Inside the reschedule and cancel forms the code fills ``booking_code`` (the form runs first and
    ``extract_booking_code`` takes it whatever the intent); outside them nothing says what the
    resident wants, and a code alone must not start a cancellation. The buttons carry the code as
    ``booking_choice``, which ``extract_booking_code`` reads when the chosen form starts.
    """

    def name(self) -> str:
        return "action_booking_code_only"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        code = normal_code(answer_of(tracker))
        if code is None:  # the model saw a code the strict pattern does not: the general reply
            return [FollowupAction("utter_inform_without_context")]
        choice = json.dumps({CHOICE_ENTITY: code}, ensure_ascii=False)
        buttons = [{**b, "payload": b["payload"] + choice} for b in texts.BOOKING_CODE_ACTIONS]
        dispatcher.utter_message(text=texts.BOOKING_CODE_WHAT_TO_DO.format(code=code), buttons=buttons)
        return []
