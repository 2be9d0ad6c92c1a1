"""Form questions sent by custom actions instead of ``utter_ask_*`` responses, and sent early.

When a form needs a slot it runs the first of ``action_ask_<form>_<slot>``,
``utter_ask_<form>_<slot>``, ``action_ask_<slot>`` and ``utter_ask_<slot>`` that the domain lists
(rasa/core/actions/forms.py, ``_name_of_utterance``). It runs that action with a tracker that already
holds the slots set earlier in the same turn, so a question can depend on them.

A form turn used to be two calls to the action server: ``validate_<form>``, then the ask action.
``AsksNextQuestion`` makes it one: after rasa-sdk has validated, it works out the slot Rasa 3.6 will
request with those events (``slot_rasa_requests``, Rasa's ``request_next_slot`` and ``is_done``) and
sends that slot's question itself, marked with ``FORM_QUESTION_KEY``. Rasa, patched by
``servers.rasa_form_questions``, then takes the marked question in place of calling the ask action and
removes the mark, so residents get the same messages in the same order. It does so only when the
call says Rasa will (``RASA_TAKES_QUESTIONS_KEY`` in the domain Rasa sends), and only when it can tell
from the events what Rasa will do; otherwise Rasa asks as before.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict
from rasa_sdk.utils import all_subclasses

# Put on a question message the validation action sent for the ask action; Rasa removes it.
FORM_QUESTION_KEY = "form_question"
# Put by Rasa (servers.rasa_fixes) into the domain it sends to validation actions: it takes marked questions.
RASA_TAKES_QUESTIONS_KEY = "civil_affairs_takes_form_questions"


class AskForSlot(Action, ABC):
    """Asks a form's question for one slot.

    To wire a question: subclass this with ``question`` (and ``marriage_question`` when a 结婚登记
    booking words it differently, e.g. 男方/女方 for 一方/另一方), both taken from ``actions/texts.py``,
    and a ``name()`` returning ``action_ask_<slot>`` (every form that needs the slot) or
    ``action_ask_<form>_<slot>`` (one form only); list that name under ``actions:`` in domain.yml and
    define no ``utter_ask_*`` response for the slot. Abstract, so the action server registers only
    the subclasses.
    """

    question: str
    marriage_question: str | None = None

    @abstractmethod
    def name(self) -> str:
        """``action_ask_<slot>`` or ``action_ask_<form>_<slot>``."""

    def text(self, tracker: Tracker) -> str:
        """The marriage wording when the booking is a 结婚登记 (``booking_kind`` is ``marriage``)."""
        if self.marriage_question is not None and tracker.get_slot("booking_kind") == "marriage":
            return self.marriage_question
        return self.question

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=self.text(tracker))
        return []


def slot_rasa_requests(form: str, slots: Mapping[str, Any], events: list[EventType], domain: DomainDict) -> str | None:
    """The slot Rasa 3.6's ``FormAction.request_next_slot`` asks for after a validation's ``events``.

    ``slots`` are the slots the validation action was called with. None when the form is done: the
    last ``requested_slot`` set to None (``is_done``), or no required slot of the domain's form left
    empty. Otherwise the first ``requested_slot`` the events set, else the first empty required slot.
    The events must be SlotSets only (``AsksNextQuestion`` checks).
    """
    requested = [event["value"] for event in events if event["name"] == REQUESTED_SLOT]
    if requested and requested[-1] is None:
        return None
    if requested and requested[0]:
        return str(requested[0])
    after = {**slots, **{event["name"]: event["value"] for event in events}}
    required = domain.get("forms", {}).get(form, {}).get("required_slots", [])
    return next((slot for slot in required if after.get(slot) is None), None)


_ASK_ACTIONS: dict[str, Action] = {}


def ask_action(name: str) -> Action | None:
    """The registered ask action called ``name``, one instance per process (as rasa-sdk's executor keeps).

    Found among the loaded ``Action`` subclasses as rasa-sdk's executor finds them; looked for again
    when missing, in case its module was imported after the last look.
    """
    if name not in _ASK_ACTIONS:
        for cls in all_subclasses(Action):
            if cls.__module__.startswith("actions") and not inspect.isabstract(cls):
                action = cls()
                if action.name().startswith("action_ask_"):
                    _ASK_ACTIONS.setdefault(action.name(), action)
    return _ASK_ACTIONS.get(name)


def ask_action_for(form: str, slot: str, domain: DomainDict) -> Action | None:
    """The custom action Rasa runs to ask ``slot`` (its ``_name_of_utterance`` order); None for a response."""
    names = [f"action_ask_{form}_{slot}", f"utter_ask_{form}_{slot}", f"action_ask_{slot}", f"utter_ask_{slot}"]
    listed = set(domain.get("actions", [])) | set(domain.get("responses", {}))
    first = next((name for name in names if name in listed), None)
    return ask_action(first) if first and first.startswith("action_ask_") else None


class AsksNextQuestion(FormValidationAction, ABC):
    """A form's validation that also sends the question Rasa asks next (see the module docstring)."""

    @abstractmethod
    def name(self) -> str:
        """``validate_<form>``; abstract, so the action server does not register this base."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        slots = dict(tracker.slots)
        past = list(tracker.events)
        activating, set_before = self._activation(tracker, domain)
        events = await super().run(dispatcher, tracker, domain)
        if not domain.get(RASA_TAKES_QUESTIONS_KEY) or not self._rasa_asks_after(events, activating, set_before):
            return events
        form = self.form_name()
        if activating:
            slots[REQUESTED_SLOT] = None  # Rasa's tracker for the question, as its activation builds it
        slot = slot_rasa_requests(form, slots, events, domain)
        action = ask_action_for(form, slot, domain) if slot else None
        if slot is None or action is None:
            return events
        after = {**slots, **{event["name"]: event["value"] for event in events}}
        asked = Tracker(
            tracker.sender_id,
            after,
            tracker.latest_message,
            past + events,
            tracker.is_paused(),
            tracker.followup_action,
            tracker.active_loop,
            tracker.latest_action_name,
        )
        question = CollectingDispatcher()
        if await action.run(question, asked, {}) or not question.messages:
            return events  # events of its own, or nothing said: Rasa runs the ask action as before
        dispatcher.messages.extend({**message, FORM_QUESTION_KEY: slot} for message in question.messages)
        return events

    def _activation(self, tracker: Tracker, domain: DomainDict) -> tuple[bool, bool]:
        form = self.form_name()
        required = domain.get("forms", {}).get(form, {}).get("required_slots", [])
        events = tracker.events
        last_user = max((i for i, event in enumerate(events) if event.get("event") == "user"), default=-1)
        set_before = False
        for event in events[last_user + 1 :]:
            if event.get("event") == "active_loop" and event.get("name") == form:
                return True, set_before
            set_before = set_before or (event.get("event") == "slot" and event.get("name") in required)
        return False, False

    def _rasa_asks_after(self, events: list[EventType], activating: bool, set_before: bool) -> bool:
        """Whether Rasa requests the next slot right after these validation events, in this call's turn.

        Rasa rejects the form (and drops every event) when nothing was validated on a normal turn, and
        then, coming back after the interruption, validates without candidates: both show as no SlotSet
        but ``requested_slot`` here, and then Rasa asks itself. At activation an empty answer makes Rasa
        validate a second time; the question may replace that call only when it could not change
        anything: no custom extraction, no ``required_slots`` of the class's own, no slot set since
        the resident spoke.
        """
        if any(event.get("event") != "slot" for event in events):
            return False
        if not activating:
            return any(event["name"] != REQUESTED_SLOT for event in events)
        if events:
            return True
        extracts = any(name.startswith("extract_") for name in dir(self))
        own_required = type(self).required_slots is not FormValidationAction.required_slots
        return not (extracts or own_required or set_before)
