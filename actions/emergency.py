"""Emergencies get the hotlines at once, before anything else (someone in danger cannot wait)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import services
from actions.handoff import hand_over
from civil_affairs.emergency import HANDED_OVER_REPLY, hotline_reply, looks_urgent


class ActionEmergency(Action):
    """Sends the emergency hotlines that fit the message, then the bureau's contact line."""

    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if not looks_urgent(text):
            # The model said "emergency" but nothing in the words says danger: answer the question.
            from actions.faq import ActionAnswerFaq  # here: actions.faq imports this module

            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        return await send_emergency_help(dispatcher, tracker)


async def send_emergency_help(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Hotlines at once, then the conversation goes to staff with the highest priority."""
    text = (tracker.latest_message or {}).get("text") or ""
    bureau = services().settings.bureau
    dispatcher.utter_message(text=hotline_reply(text, hotline=bureau.hotline, bureau=bureau.name))
    await hand_over(tracker, "emergency")
    dispatcher.utter_message(text=HANDED_OVER_REPLY)
    return []
