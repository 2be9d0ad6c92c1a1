"""Handing the conversation to a person: on request, on complaints, and after repeated misunderstanding."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import services
from civil_affairs.emergency import sounds_like_complaint
from civil_affairs.handoff import acknowledgement, escalate, staff_alert

logger = logging.getLogger(__name__)

INTENT_REASONS = {"complain": "complaint", "emergency": "emergency"}


async def hand_over(tracker: Tracker, reason: str) -> str:
    """Open (or raise) the handoff, alert the staff chat when it is new; returns what to tell the resident."""
    app = services()
    text = (tracker.latest_message or {}).get("text") or ""
    with app.sessions.begin() as session:
        handoff, new = escalate(tracker.sender_id, reason, session=session, summary=text)
        handoff_id, alert = handoff.id, staff_alert(handoff)
        reply = acknowledgement(app.settings, session=session)
    logger.info("handoff %s for %s (reason %s, new=%s)", handoff_id, tracker.sender_id, reason, new)
    if new:
        await app.delivery.to_staff_chat(alert, f"{app.settings.public_base_url}/staff/handoffs/{handoff_id}")
    return reply


class ActionHandoff(Action):
    """转人工: the bot goes quiet in this conversation until staff resolve it."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        text = (tracker.latest_message or {}).get("text") or ""
        if intent == "complain" and not sounds_like_complaint(text):
            # The model heard a complaint in what reads as a policy question: answer it instead.
            from actions.faq import ActionAnswerFaq  # here: actions.faq imports this module

            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=await hand_over(tracker, INTENT_REASONS.get(intent, "requested")))
        return [SlotSet("misunderstood_count", 0.0)]
