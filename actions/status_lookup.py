"""Status lookup (办件进度查询): the form, the lookup itself, and progress reminders (进度提醒).

``status_lookup_form`` asks for the application number and the last 6 characters of the applicant's
ID; ``action_lookup_status`` answers through ``civil_affairs.applications.lookup``, which gives one
reply for a wrong pair, an unknown number and a malformed number, and pauses lookups after repeated
failures of the chat, of its client address or of the whole service. A successful lookup is recorded
in the database, and only a chat with such a record can subscribe to that application: a tracker slot
proves nothing, since whoever can post a tracker to the action server can fill it. What the actions
say to the resident, the form's questions included, is in ``actions/texts.py``.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.asking import AskForSlot, AsksNextQuestion
from actions.common import services
from civil_affairs.applications.lookup import describe, lookup_status, proven_application
from civil_affairs.applications.notify import subscribe, unsubscribe
from civil_affairs.applications.numbers import try_parse_number
from civil_affairs.identity import last6_from_text
from civil_affairs.throttle import client_address

logger = logging.getLogger(__name__)

MAX_SLOT_CHARS = 60


def contact_line() -> str:
    """Where a resident can ask in person or by phone, from the bureau settings."""
    bureau = services().settings.bureau
    return texts.contact_line(name=bureau.name, phone=bureau.phone, hours=bureau.hours, hotline=bureau.hotline)


def _latest_number(tracker: Tracker) -> str | None:
    """The number in the latest message's entities or text, if any."""
    for value in tracker.get_latest_entity_values("application_number"):
        number = try_parse_number(str(value))
        if number:
            return number
    return try_parse_number((tracker.latest_message or {}).get("text") or "")


class AskApplicationNumber(AskForSlot):
    """The form's first question: the number on the receipt (受理回执)."""

    question = texts.ASK_APPLICATION_NUMBER

    def name(self) -> str:
        return "action_ask_status_lookup_form_application_number"


class AskIdLast6(AskForSlot):
    """The form's second question: the last 6 characters of the applicant's ID."""

    question = texts.ASK_ID_LAST6

    def name(self) -> str:
        return "action_ask_status_lookup_form_id_last6"


class ValidateStatusLookupForm(AsksNextQuestion):
    """Keeps what the resident typed; the lookup decides, so a malformed number is not singled out."""

    def name(self) -> str:
        return "validate_status_lookup_form"

    def validate_application_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any non-empty text is accepted here (parsed leniently at lookup)."""
        text = " ".join(str(slot_value or "").split())[:MAX_SLOT_CHARS]
        return {"application_number": text or None}

    def validate_id_last6(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Six characters (digits, last may be X), or a whole ID number; otherwise ask again."""
        last6 = last6_from_text(str(slot_value or ""))
        if last6 is None:
            dispatcher.utter_message(text=texts.ID_LAST6_INVALID)
            return {"id_last6": None}
        return {"id_last6": last6}


class ActionLookupStatus(Action):
    """Answers a filled lookup form: the status, the same refusal for any mismatch, or the pause."""

    def name(self) -> str:
        return "action_lookup_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        app = services()
        reset: list[EventType] = [SlotSet("application_number", None), SlotSet("id_last6", None)]
        with app.sessions.begin() as session:
            result = lookup_status(
                tracker.sender_id,
                str(tracker.get_slot("application_number") or ""),
                str(tracker.get_slot("id_last6") or ""),
                session=session,
                secret_key=app.settings.secret_key,
                client_address=client_address(tracker.latest_message),
            )
            view = describe(result.application, session=session) if result.application else None
        logger.info("status lookup outcome=%s", result.outcome)
        if result.outcome == "locked":
            dispatcher.utter_message(text=texts.lookup_locked(contact_line()))
            return reset
        if view is None:
            dispatcher.utter_message(text=texts.LOOKUP_FAILED)
            return reset
        dispatcher.utter_message(
            text=texts.lookup_result(
                number=view.display_number,
                type_name=view.type_name,
                masked_name=view.masked_name,
                office=view.office,
                stage=view.stage,
                stage_date=view.stage_date,
                meaning=view.meaning,
                note=view.note,
                next_step=view.next_step,
            )
        )
        dispatcher.utter_message(text=texts.SUBSCRIBE_OFFER, buttons=texts.subscribe_buttons(view.number))
        return reset


class ActionSubscribeStatus(Action):
    """Subscribes the chat to an application it has looked up successfully (a database record)."""

    def name(self) -> str:
        return "action_subscribe_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = _latest_number(tracker)
        reset: list[EventType] = [SlotSet("application_number", None)]
        app = services()
        with app.sessions.begin() as session:
            # Proving the pair first keeps strangers from following someone else's application.
            application = proven_application(tracker.sender_id, number, session=session)
            if application is not None:
                subscribe(application, tracker.sender_id, session=session)
                number = application.number
        if application is None or number is None:
            dispatcher.utter_message(text=texts.SUBSCRIBE_NEEDS_LOOKUP)
        else:
            dispatcher.utter_message(text=texts.subscribed(number))
        return reset


class ActionUnsubscribeStatus(Action):
    """Ends the chat's reminders for one application (button) or all of them (typed)."""

    def name(self) -> str:
        return "action_unsubscribe_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = _latest_number(tracker)
        app = services()
        with app.sessions.begin() as session:
            count = unsubscribe(tracker.sender_id, session=session, number=number)
        if count:
            dispatcher.utter_message(text=texts.unsubscribed(count))
        else:
            dispatcher.utter_message(text=texts.NO_SUBSCRIPTION)
        return [SlotSet("application_number", None)]
