"""Emergencies get the hotlines at once, before anything else (someone in danger cannot wait)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.escalation import send_emergency_help
from actions.faq import ActionAnswerFaq
from civil_affairs.conversations.emergency import looks_urgent


class ActionEmergency(Action):
    """Sends the emergency hotlines that fit the message, then the bureau's contact line."""

    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if not looks_urgent(text):
            # The model said "emergency" but nothing in the words says danger: answer the question.
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        return await send_emergency_help(dispatcher, tracker)
