"""Honest placeholders for features that later work owns (appointments, status lookup).

Each says plainly that the online service is not available yet and where to go instead; none of
them pretends to book, look up or transfer anything.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import services


def _contact_line() -> str:
    bureau = services().settings.bureau
    line = f"请联系{bureau.name}"
    if bureau.phone:
        line += f"（电话 {bureau.phone}）"
    return line + f"，或拨打 {bureau.hotline} 政务服务便民热线。"


class ActionAppointmentComingSoon(Action):
    """Marriage-registration appointments are not bookable in the chat yet."""

    def name(self) -> str:
        return "action_appointment_coming_soon"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text="婚姻登记在线预约功能正在建设中，暂时还不能在这里预约、改约或取消。" + _contact_line()
        )
        return []


class ActionStatusComingSoon(Action):
    """Application status lookup is not available in the chat yet."""

    def name(self) -> str:
        return "action_status_coming_soon"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text="办件进度在线查询功能正在建设中，暂时还不能在这里查询。"
            "请向受理申请的乡镇（街道）窗口询问进度，" + _contact_line()
        )
        return []
