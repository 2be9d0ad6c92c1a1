"""Emergencies get the hotlines at once, before anything else (someone in danger cannot wait)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import services
from actions.handoff import hand_over
from civil_affairs.emergency import is_self_harm, is_street_case, looks_urgent

SELF_HARM_REPLY = (
    "您现在的感受很重要，请不要一个人扛着。如果有生命危险，请立刻拨打 110 或 120。"
    "也可以拨打全国心理援助热线 12356，有专业人员倾听和帮助。请告诉身边信任的人陪着您。"
)
GENERAL_REPLY = (
    "如果有人正处在危险中，请立刻拨打 110 报警；有人受伤或急病请拨打 120。"
    "发现走失、被遗弃的儿童，或老人、儿童受到虐待、家暴，请马上报警 110。"
)
STREET_LINE = "发现流浪、乞讨或受冻的人员，可拨打 110，由民警护送到救助管理站；突发急病请拨打 120。"


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
    reply = SELF_HARM_REPLY if is_self_harm(text) else GENERAL_REPLY
    if is_street_case(text):
        reply += STREET_LINE
    reply += f"非紧急的求助，也可以拨打 {bureau.hotline} 政务服务便民热线或联系{bureau.name}。"
    dispatcher.utter_message(text=reply)
    await hand_over(tracker, "emergency")
    dispatcher.utter_message(text="我们已把您的消息以最高优先级转给工作人员，工作人员会尽快在这里联系您。")
    return []
