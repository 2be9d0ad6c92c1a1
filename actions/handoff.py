"""Handing the conversation to a person: on request, on complaints, and after repeated misunderstanding."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.escalation import hand_over
from actions.faq import ActionAnswerFaq
from civil_affairs.conversations.emergency import sounds_like_complaint

logger = logging.getLogger(__name__)

INTENT_REASONS = {"complain": "complaint", "emergency": "emergency"}


class ActionHandoff(Action):
    """转人工: the bot goes quiet in this conversation until staff resolve it."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        text = (tracker.latest_message or {}).get("text") or ""
        if intent == "complain" and not sounds_like_complaint(text):
            # The model heard a complaint in what reads as a policy question: answer it instead.
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=await hand_over(tracker, INTENT_REASONS.get(intent, "requested")))
        return [SlotSet("misunderstood_count", 0.0)]
