"""Form questions sent by custom actions instead of ``utter_ask_*`` responses.

When a form needs a slot it runs the first of ``action_ask_<form>_<slot>``,
``utter_ask_<form>_<slot>``, ``action_ask_<slot>`` and ``utter_ask_<slot>`` that the domain lists
(rasa/core/actions/forms.py, ``_name_of_utterance``). It runs that action with a tracker that already
holds the slots set earlier in the same turn, so a question can depend on them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


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
