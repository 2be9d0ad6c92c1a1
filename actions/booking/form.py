"""The booking form (预约表单): extraction shared by all three forms, and the booking form's checks."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.asking import AsksNextQuestion
from actions.booking import answers
from actions.booking.answers import (
    QUESTION_INTENTS,
    STOP_INTENTS,
    answer_of,
    as_date,
    clean_name,
    infer_kind,
    interrupts,
    is_yes,
    local_today,
    match_slot,
    party_problem,
    reject_answer,
    rules,
    unsealed_slot,
)
from actions.common import services
from civil_affairs import booking
from civil_affairs.booking.date_parsing import PAST, describe_date, parse_date
from civil_affairs.booking.work_calendar import CalendarYearMissing, load_calendar
from civil_affairs.identity import (
    IdNumberError,
    find_id_number,
    id_hash,
    parse_id_number,
    parse_phone,
)
from civil_affairs.models.booking import KIND_LABELS
from civil_affairs.sealing import seal

# --- the booking form --------------------------------------------------------------------------------


class BookingFormBase(AsksNextQuestion, ABC):
    """Extraction shared by the booking, cancel and reschedule forms (each also sends its next question).

    Needs in domain.yml: the slots of ``BOOKING_FORM_SLOTS``/``MANAGE_SLOTS`` with ``custom``
    mappings, the float slot ``booking_failures`` and the entity ``booking_choice``.
    """

    interrupt_intents: set[str] = STOP_INTENTS

    @abstractmethod
    def name(self) -> str:
        """validate_<form>; abstract, so the action server does not register this base."""

    def _requested(self, tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _take(self, tracker: Tracker, slot: str, readable: bool) -> dict[str, Any]:
        """The raw answer for ``slot`` when it is the one asked for, unless it is an interruption."""
        if not self._requested(tracker, slot):
            return {}
        if not readable and interrupts(tracker, self.interrupt_intents):
            return {}
        return {slot: answer_of(tracker) or None}

    async def extract_booking_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = answer_of(tracker)
        return self._take(tracker, "booking_date", parse_date(text, local_today()) is not None)

    async def extract_booking_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = answer_of(tracker)
        return self._take(tracker, "booking_slot", bool(re.search(r"\d|上午|下午|点", text)))

    def _day_problem(self, day: date, kind: str, application_date: date | None) -> str | None:
        app = services()
        with app.sessions.begin() as session:
            return booking.check_day(
                day, session=session, now=answers.now(), kind=kind, rules=rules(), application_date=application_date
            )

    def _validate_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, application_date: date | None
    ) -> dict[str, Any]:
        day = as_date(value) or parse_date(str(value or ""), local_today())
        if day is None:
            return reject_answer(dispatcher, tracker, "booking_date", texts.DATE_UNREADABLE)
        problem = self._day_problem(day, kind, application_date)
        if problem:
            return reject_answer(dispatcher, tracker, "booking_date", problem)
        return {"booking_date": day.isoformat(), "booking_slot": None, "booking_failures": 0.0}

    def _validate_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        day = as_date(tracker.get_slot("booking_date"))
        if day is None:
            return {"booking_slot": None}
        app = services()
        with app.sessions.begin() as session:
            slots = booking.slot_availability(day, session=session, now=answers.now())
        chosen = match_slot(str(value or ""), slots)
        if chosen is None:
            return reject_answer(dispatcher, tracker, "booking_slot", texts.SLOT_UNREADABLE)
        if chosen.free <= 0:
            return reject_answer(dispatcher, tracker, "booking_slot", texts.SLOT_FULL.format(slot=chosen.label))
        return {"booking_slot": chosen.slot_code, "booking_failures": 0.0}


class ValidateBookingForm(BookingFormBase):
    """Checks every answer of the booking form (预约表单)."""

    interrupt_intents = STOP_INTENTS | QUESTION_INTENTS | {"cancel_appointment"}

    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("booking_abort"):
            return []
        slots = [s for s in domain_slots if s != "booking_abort"]
        if tracker.get_slot("booking_kind") != "divorce_certificate":
            slots = [s for s in slots if s != "divorce_application_date"]
        return slots

    async def extract_booking_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("booking_kind"):
            return {}
        text = answer_of(tracker)
        return {"booking_kind": text if text in KIND_LABELS else infer_kind(text)}

    async def extract_divorce_application_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        readable = parse_date(answer_of(tracker), local_today(), direction=PAST) is not None
        return self._take(tracker, "divorce_application_date", readable)

    async def extract_party1_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._take(tracker, "party1_name", clean_name(answer_of(tracker)) is not None)

    async def extract_party2_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._take(tracker, "party2_name", clean_name(answer_of(tracker)) is not None)

    async def extract_party1_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._take(tracker, "party1_id", bool(re.search(r"\d{6}", answer_of(tracker))))

    async def extract_party2_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._take(tracker, "party2_id", bool(re.search(r"\d{6}", answer_of(tracker))))

    async def extract_booking_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._take(tracker, "booking_phone", parse_phone(answer_of(tracker)) is not None)

    async def extract_booking_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._requested(tracker, "booking_confirmed"):
            return {}
        answer = is_yes(tracker)
        if answer is None and interrupts(tracker, self.interrupt_intents - {"deny"}):
            return {}
        return {"booking_confirmed": answer if answer is not None else "unclear"}

    # --- validation ---

    def validate_booking_kind(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"booking_kind": value if value in KIND_LABELS else "marriage"}

    def validate_divorce_application_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        day = as_date(value) or parse_date(str(value or ""), local_today(), direction=PAST)
        slot = "divorce_application_date"
        if day is None:
            return reject_answer(dispatcher, tracker, slot, texts.APPLICATION_DATE_UNREADABLE)
        if day > local_today():
            return reject_answer(dispatcher, tracker, slot, texts.APPLICATION_DATE_IN_FUTURE)
        app = services()
        with app.sessions.begin() as session:
            calendar = load_calendar(session=session)
            try:
                first, last = booking.divorce_certificate_window(day, calendar)
            except CalendarYearMissing:
                return reject_answer(dispatcher, tracker, slot, texts.CALENDAR_MISSING)
        window_first, window_last = booking.booking_window(answers.now(), rules())
        if last < window_first:
            dispatcher.utter_message(text=texts.DIVORCE_WINDOW_EXPIRED.format(last=describe_date(last)))
            return {slot: day.isoformat(), "booking_abort": "expired"}
        if first > window_last:
            come_back = first - timedelta(days=rules().max_days_ahead)
            dispatcher.utter_message(
                text=texts.DIVORCE_WINDOW_TOO_EARLY.format(
                    first=describe_date(first),
                    last=describe_date(last),
                    days=rules().max_days_ahead,
                    come_back=describe_date(come_back),
                )
            )
            return {slot: day.isoformat(), "booking_abort": "too_early"}
        dispatcher.utter_message(text=texts.DIVORCE_WINDOW.format(first=describe_date(first), last=describe_date(last)))
        return {slot: day.isoformat(), "booking_failures": 0.0}

    def validate_booking_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_date(
            value,
            dispatcher,
            tracker,
            tracker.get_slot("booking_kind") or "marriage",
            as_date(tracker.get_slot("divorce_application_date")),
        )

    def validate_booking_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_slot(value, dispatcher, tracker)

    def _validate_name(
        self, slot: str, position: int, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        name = clean_name(str(value or ""))
        if name is None:
            role = texts.role_label(tracker.get_slot("booking_kind"), position)
            return reject_answer(dispatcher, tracker, slot, texts.NAME_UNREADABLE.format(role=role))
        return {slot: name, "booking_failures": 0.0}

    def validate_party1_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_name("party1_name", 1, value, dispatcher, tracker)

    def validate_party2_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_name("party2_name", 2, value, dispatcher, tracker)

    def _validate_id(
        self, slot: str, position: int, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        kind = tracker.get_slot("booking_kind") or "marriage"
        role = texts.role_label(kind, position)
        text = str(value or "")
        try:
            person = parse_id_number(find_id_number(text) or text, today=local_today())
        except IdNumberError as exc:
            return reject_answer(dispatcher, tracker, slot, texts.ID_PROBLEM.format(role=role, problem=exc.message))
        if position == 2 and unsealed_slot(tracker, "party1_id") == person.value:
            return reject_answer(dispatcher, tracker, slot, texts.SAME_ID_TWICE)
        day = as_date(tracker.get_slot("booking_date")) or local_today()
        problem = party_problem(kind, position, person, day)
        if problem:
            return reject_answer(dispatcher, tracker, slot, problem)
        app = services()
        with app.sessions.begin() as session:
            hashed = id_hash(person.value, app.settings.secret_key)
            blocked = booking.no_show_block_until([hashed], session=session, today=local_today(), rules=rules())
            if blocked:
                dispatcher.utter_message(text=booking.no_show_message(blocked, rules()))
                return {slot: None, "booking_abort": "no_show"}
            existing = booking.find_active_by_person(person.value, session=session, secret_key=app.settings.secret_key)
            if existing is not None:
                # Typing someone's ID number must not reveal their booking code, date or kind.
                dispatcher.utter_message(text=texts.ACTIVE_ELSEWHERE.format(role=role))
                return {slot: None, "booking_abort": "active"}
        return {slot: seal(person.value, app.settings.secret_key), "booking_failures": 0.0}

    def validate_party1_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_id("party1_id", 1, value, dispatcher, tracker)

    def validate_party2_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_id("party2_id", 2, value, dispatcher, tracker)

    def validate_booking_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = parse_phone(str(value or ""))
        if phone is None:
            return reject_answer(dispatcher, tracker, "booking_phone", texts.PHONE_UNREADABLE)
        return {"booking_phone": seal(phone, services().settings.secret_key), "booking_failures": 0.0}

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True or value is False:
            return {"booking_confirmed": value}
        dispatcher.utter_message(text=texts.CONFIRM_UNCLEAR)
        return {"booking_confirmed": None}
