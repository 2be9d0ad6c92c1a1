"""Handing the conversation to a person: on request, on complaints, and after repeated misunderstanding."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.escalation import hand_over
from actions.faq import ActionAnswerFaq, answer_if_confident, human_button
from civil_affairs.conversations.emergency import asks_how_to_report, asks_policy_question, sounds_like_complaint

logger = logging.getLogger(__name__)

INTENT_REASONS = {"complain": "complaint", "emergency": "emergency"}
# The form rules (dialogue/booking.yml, status_lookup.yml) leave the form with one of these just
# before action_handoff; when the bot answers instead of staff, the resident is told.
FORM_LEAVING_ACTIONS = ("action_stop_booking", "action_deactivate_loop")


class ActionHandoff(Action):
    """转人工: the bot goes quiet in this conversation until staff resolve it.

    Three kinds of ``complain`` are answered instead: a question about how or where to report,
    complain or appeal that the FAQ answers confidently, a policy question told with a grievance
    (no anger, no wish for a person) that it answers confidently (both with a person on offer after
    the answer), and a policy question the model took for a complaint (no complaint words at all),
    unless the FAQ cannot even guess its question: then it was a complaint, and staff hear it.
    ``request_human`` always reaches staff: the resident asked for a person.
    """

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        text = (tracker.latest_message or {}).get("text") or ""
        if intent == "complain" and (
            asks_how_to_report(text) or (sounds_like_complaint(text) and asks_policy_question(text))
        ):
            # How or where to report, or a policy question told with a grievance: the answer when the
            # FAQ is sure (strict: the model gave no topic, and a wrong answer here would replace a
            # person), with a person one button away; staff otherwise.
            answered = await answer_if_confident(dispatcher, tracker, strict=True)
            if answered is not None:
                logger.info("complaint-worded question answered from the FAQ for %s", tracker.sender_id)
                self._tell_if_form_left(dispatcher, tracker)
                dispatcher.utter_message(text=texts.REPORT_PERSON_OFFER, buttons=[human_button()])
                return answered
        if intent == "complain" and not sounds_like_complaint(text):
            # The model heard a complaint in what reads as a policy question: answer it instead.
            events = await ActionAnswerFaq().run(dispatcher, tracker, domain)
            self._tell_if_form_left(dispatcher, tracker)
            return events
        dispatcher.utter_message(text=await hand_over(tracker, INTENT_REASONS.get(intent, "requested")))
        return [SlotSet("misunderstood_count", 0.0)]

    @staticmethod
    def _tell_if_form_left(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        if tracker.latest_action_name in FORM_LEAVING_ACTIONS:
            dispatcher.utter_message(text=texts.FORM_SET_ASIDE)
