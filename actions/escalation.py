"""Escalating a conversation to staff, shared by the FAQ, emergency and handoff actions.

It sits below all three (it imports none of them), so they can use each other without a cycle.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import services
from civil_affairs.conversations import texts
from civil_affairs.conversations.emergency import hotline_reply
from civil_affairs.conversations.handoff import acknowledgement, escalate, staff_alert

logger = logging.getLogger(__name__)


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


def send_hotlines(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The emergency hotlines that fit the latest message."""
    text = (tracker.latest_message or {}).get("text") or ""
    bureau = services().settings.bureau
    dispatcher.utter_message(text=hotline_reply(text, hotline=bureau.hotline, bureau=bureau.name))


async def send_emergency_help(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Hotlines at once, then the conversation goes to staff with the highest priority."""
    send_hotlines(dispatcher, tracker)
    await hand_over(tracker, "emergency")
    dispatcher.utter_message(text=texts.HANDED_OVER_REPLY)
    return [SlotSet("emergency_raised", True)]
