"""Emergencies get the hotlines at once, before anything else (someone in danger cannot wait)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.escalation import send_emergency_help
from actions.faq import answer_if_confident
from civil_affairs.conversations.emergency import looks_urgent, sounds_suicidal


class ActionEmergency(Action):
    """Sends the emergency hotlines that fit the message, then the bureau's contact line."""

    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if not (looks_urgent(text) or sounds_suicidal(text)):
            # The model said "emergency" but no word of danger confirms it: answer the question when
            # the FAQ is sure of it ("我爷爷走了半年了…" is grief, not danger). When it is not, the
            # model's reading stands: a missed emergency costs more than a false alarm, and the
            # false alarm reaches a person, who sees the message.
            answered = await answer_if_confident(dispatcher, tracker)
            if answered is not None:
                return answered
        return await send_emergency_help(dispatcher, tracker)


class ActionPlainNo(Action):
    """A plain no (不用了, 没有了) gets the short reply; words of danger the model took for a no
    ("屋里米都没有了…", "没有呼吸了") get the hotlines and a person instead."""

    def name(self) -> str:
        return "action_plain_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if looks_urgent(text):
            return await send_emergency_help(dispatcher, tracker)
        dispatcher.utter_message(response="utter_deny")
        return []
