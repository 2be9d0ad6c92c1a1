"""The forms' questions (action_ask_<slot>): buttons for dates, slots and the confirmation."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.asking import AskForSlot
from actions.booking import answers
from actions.booking.answers import (
    MAX_DATE_BUTTONS,
    as_date,
    choice_payload,
    kind_and_application,
    local_today,
    role_label,
    rules,
    unsealed_slot,
)
from actions.common import services
from civil_affairs import booking
from civil_affairs.booking.date_parsing import describe_date, short_date
from civil_affairs.models.booking import KIND_LABELS
from civil_affairs.privacy import mask_id, mask_phone

# --- the forms' questions (action_ask_<slot>) ---------------------------------------------------------


class AskDivorceApplicationDate(AskForSlot):
    """When the divorce application (离婚登记申请) was accepted; the 冷静期 counts from it."""

    question = (
        "预约冷静期满后领离婚证，需要先算出可以领证的日期。请问离婚登记申请是哪天被受理的？"
        "（看受理回执单上的日期，比如“11月2日”）"
    )

    def name(self) -> str:
        return "action_ask_divorce_application_date"


class AskParty1Name(AskForSlot):
    question = "请输入一方当事人的姓名（和身份证上一致）。"
    marriage_question = "请输入男方的姓名（和身份证上一致）。"

    def name(self) -> str:
        return "action_ask_party1_name"


class AskParty1Id(AskForSlot):
    question = "请输入这一方的18位身份证号码。号码只用于预约核对，系统不保存完整号码。"
    marriage_question = "请输入男方的18位身份证号码。号码只用于预约核对，系统不保存完整号码。"

    def name(self) -> str:
        return "action_ask_party1_id"


class AskParty2Name(AskForSlot):
    question = "请输入另一方当事人的姓名（和身份证上一致）。"
    marriage_question = "请输入女方的姓名（和身份证上一致）。"

    def name(self) -> str:
        return "action_ask_party2_name"


class AskParty2Id(AskForSlot):
    question = "请输入另一方的18位身份证号码。"
    marriage_question = "请输入女方的18位身份证号码。"

    def name(self) -> str:
        return "action_ask_party2_id"


class AskBookingPhone(AskForSlot):
    question = "请留一个联系电话（手机号），登记处有变动时会联系您。"

    def name(self) -> str:
        return "action_ask_booking_phone"


class AskBookingCode(AskForSlot):
    """The cancel and reschedule forms' first question."""

    question = "请发送预约码（预约成功时收到的，格式像 YY20261208-417）。"

    def name(self) -> str:
        return "action_ask_booking_code"


class AskBookingIdLast6(AskForSlot):
    question = "为保护个人信息，请再发送任一方身份证号码的最后6位（最后一位可能是X）。"

    def name(self) -> str:
        return "action_ask_booking_id_last6"


class ActionAskBookingDate(Action):
    """Asks for a date and offers free days as buttons (the booking and the reschedule form)."""

    def name(self) -> str:
        return "action_ask_booking_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kind, application_date = kind_and_application(tracker)
        app = services()
        with app.sessions.begin() as session:
            days = booking.available_days(
                session=session,
                now=answers.now(),
                kind=kind,
                rules=rules(),
                application_date=application_date,
                limit=MAX_DATE_BUTTONS,
            )
        label = KIND_LABELS.get(kind, "婚姻登记")
        if not days:
            dispatcher.utter_message(
                text=f"抱歉，近期{label}的预约名额已满（或尚未开放）。"
                "您可以输入想约的日期试试，或说“转人工”咨询工作人员。"
            )
            return []
        buttons = [
            {"title": f"{short_date(d.day)}（余{d.free}）", "payload": choice_payload(d.day.isoformat())} for d in days
        ]
        dispatcher.utter_message(
            text=f"您预约的是：{label}。请问想约哪一天？可以点下面有空位的日期，也可以直接输入，"
            "比如“下周三”“12月8日”“七夕”。",
            buttons=buttons,
        )
        return []


class ActionAskBookingSlot(Action):
    """Offers the chosen day's time slots with the places left."""

    def name(self) -> str:
        return "action_ask_booking_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        day = as_date(tracker.get_slot("booking_date"))
        if day is None:
            return []
        app = services()
        with app.sessions.begin() as session:
            slots = [s for s in booking.slot_availability(day, session=session, now=answers.now()) if s.free > 0]
        buttons = [{"title": f"{s.label}（余{s.free}个）", "payload": choice_payload(s.slot_code)} for s in slots]
        dispatcher.utter_message(
            text=f"{describe_date(day, local_today())}还有这些时段可以预约，请选择：", buttons=buttons
        )
        return []


class ActionAskBookingConfirmed(Action):
    """Shows the summary and asks to confirm."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kind = tracker.get_slot("booking_kind") or "marriage"
        day = as_date(tracker.get_slot("booking_date"))
        app = services()
        with app.sessions.begin() as session:
            slot = booking.slot_by_code(tracker.get_slot("booking_slot") or "", session=session)
            label = slot.label
        lines = ["请核对预约信息：", f"业务：{KIND_LABELS[kind]}", f"时间：{describe_date(day)} {label}" if day else ""]
        for position in (1, 2):
            lines.append(
                f"{role_label(kind, position)}：{tracker.get_slot(f'party{position}_name')}"
                f"（身份证 {mask_id(unsealed_slot(tracker, f'party{position}_id') or '')}）"
            )
        lines.append(f"联系电话：{mask_phone(unsealed_slot(tracker, 'booking_phone') or '')}")
        dispatcher.utter_message(
            text="\n".join(line for line in lines if line),
            buttons=[{"title": "确认预约", "payload": "/affirm"}, {"title": "不约了", "payload": "/deny"}],
        )
        return []
