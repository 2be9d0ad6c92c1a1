"""Emergencies get the hotlines at once, before anything else (someone in danger cannot wait)."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import services
from actions.handoff import hand_over

_SELF_HARM_RE = re.compile(r"自杀|轻生|不想活|活不下去|撑不下去|跳楼|跳下去|寻死|想死|割腕|喝农药|结束生命")
_STREET_RE = re.compile(r"流浪|乞讨|冻|露宿|桥洞|街上|路边|无家可归|没地方住|回不了家")

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
        bureau = services().settings.bureau
        reply = SELF_HARM_REPLY if _SELF_HARM_RE.search(text) else GENERAL_REPLY
        if _STREET_RE.search(text):
            reply += STREET_LINE
        reply += f"非紧急的求助，也可以拨打 {bureau.hotline} 政务服务便民热线或联系{bureau.name}。"
        dispatcher.utter_message(text=reply)
        # Hotlines first; then a person sees the conversation with the highest priority.
        await hand_over(tracker, "emergency")
        dispatcher.utter_message(text="我们已把您的消息以最高优先级转给工作人员，工作人员会尽快在这里联系您。")
        return []
