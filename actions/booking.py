"""Marriage-registration appointments in the chat: the booking form, cancelling and rescheduling.

Three forms share one way of reading answers: every slot has a ``custom`` mapping and an
``extract_<slot>`` method here that reads the requested slot's answer from a button payload
(``/inform{"booking_choice": …}``) or the typed text. An answer that cannot be read while the
resident plainly asks something else (a policy question, "转人工", "不约了") is left unextracted, so
the form rejects and the rules in dialogue/booking.yml answer the question or stop the form.
The checks themselves live in ``civil_affairs`` (identity, date_parsing, booking).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from abc import ABC, abstractmethod
from datetime import date, datetime, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select

from actions.asking import AskForSlot
from actions.common import services
from civil_affairs import booking
from civil_affairs.date_parsing import PAST, describe_date, parse_date, short_date
from civil_affairs.faq_store import format_answer
from civil_affairs.ics import CalendarEvent, build_ics
from civil_affairs.identity import (
    FEMALE, MALE, IdNumber, IdNumberError, find_id_number, id_hash, mask_id, mask_phone,
    marriage_age_problem, parse_id_number, parse_phone,
)
from civil_affairs.models import Appointment, FaqEntry
from civil_affairs.models.booking import KIND_LABELS
from civil_affairs.sealing import PREFIX as SEALED_PREFIX
from civil_affairs.sealing import seal, unseal
from civil_affairs.throttle import client_address
from civil_affairs.work_calendar import CalendarYearMissing, load_calendar

logger = logging.getLogger(__name__)

CHOICE_ENTITY = "booking_choice"
BOOKING_FORM_SLOTS = ("booking_kind", "divorce_application_date", "booking_date", "booking_slot",
                      "party1_name", "party1_id", "party2_name", "party2_id", "booking_phone",
                      "booking_confirmed", "booking_abort")
MANAGE_SLOTS = ("booking_code", "booking_id_last6", "cancel_confirmed", "booking_date", "booking_slot",
                "booking_abort")
QUESTION_INTENTS = {"ask_benefits", "ask_elderly", "ask_disability_children", "ask_marriage",
                    "ask_funeral", "ask_other_policy"}
STOP_INTENTS = {"deny", "goodbye", "request_human", "emergency", "complain"}
INTERRUPT_CONFIDENCE = 0.6
MAX_DATE_BUTTONS = 8
FAILURE_HINT_AFTER = 3
HUMAN_HINT = "如果填写有困难，可以说“转人工”请工作人员帮忙，或说“不约了”退出预约。"
ACTIVE_ELSEWHERE_TEXT = ("{role}已经有一个未完成的预约，每人同一时间只能有一个预约。"
                         "如需换时间请说“改约”，不需要了请说“取消预约”（都需要预约成功时收到的预约码）。")
INCOMPLETE_TEXT = "抱歉，预约信息不完整，请重新说“预约结婚登记”。"
_SENDER_RE = re.compile(r"^(?:tg-\d{1,20}|web-[A-Za-z0-9_-]{16,128})$")

_NAME_PREFIX_RE = re.compile(r"^(?:男方|女方|一方|另一方|对方|本人|我叫|我是|他叫|她叫|名字是|名字叫|姓名是?|叫)[:：\s]*")
_NAME_RE = re.compile(r"^[\u4e00-\u9fff·•]{2,15}$|^[A-Za-z][A-Za-z .·-]{1,38}$")
_CODE_RE = re.compile(r"YY\s*20\d{2}[01]\d[0-3]\d\s*-?\s*\d{3}(?!\d)", re.IGNORECASE)
_LAST6_RE = re.compile(r"(?<![0-9A-Za-z])(\d{5}[\dXx])(?![0-9A-Za-z])")
_YES_WORDS = ("确认", "确定", "是的", "对的", "没问题", "好的", "可以", "提交", "对", "是", "好", "嗯")
_NO_WORDS = ("不约", "不要", "不用", "算了", "不对", "取消", "不是", "否")


def now() -> datetime:
    """Local time; tests replace this to pin the calendar."""
    return booking.local_now()


def rules() -> booking.BookingRules:
    """The configured booking rules (BOOKING_* settings)."""
    return services().booking_rules


# --- reading answers ----------------------------------------------------------------------------------

def answer_of(tracker: Tracker) -> str:
    """The resident's answer: a button's ``booking_choice`` value, else the typed text."""
    latest = tracker.latest_message or {}
    for entity in latest.get("entities") or []:
        if entity.get("entity") == CHOICE_ENTITY and entity.get("value") is not None:
            return str(entity["value"])
    text = str(latest.get("text") or "").strip()
    if text.startswith("/") and "{" in text:  # a payload whose entity Rasa did not pass on
        try:
            return str(json.loads(text[text.index("{"):]).get(CHOICE_ENTITY, ""))
        except ValueError:
            return ""
    return text


def _intent(tracker: Tracker) -> tuple[str, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def interrupts(tracker: Tracker, intents: set[str]) -> bool:
    """The resident clearly means something else than answering (a question, "转人工", "不约了")."""
    name, confidence = _intent(tracker)
    return name in intents and confidence >= INTERRUPT_CONFIDENCE


def _today() -> date:
    return now().date()


def is_yes(tracker: Tracker) -> bool | None:
    """True/False for a yes/no answer (buttons send /affirm and /deny), None when unclear."""
    name, _ = _intent(tracker)
    text = answer_of(tracker)
    if name == "affirm" or text in ("yes", "/affirm"):
        return True
    if name == "deny" or text in ("no", "/deny"):
        return False
    if any(word in text for word in _NO_WORDS):
        return False
    if any(word in text for word in _YES_WORDS):
        return True
    return None


def clean_name(text: str) -> str | None:
    """张三 from "男方：张三" / "我叫张三"; None when it does not look like a name."""
    value = _NAME_PREFIX_RE.sub("", (text or "").strip()).strip("。.，, ")
    return value if _NAME_RE.match(value) else None


def party_problem(kind: str, position: int, person: IdNumber, day: date) -> str | None:
    """Why this person cannot be party ``position`` of a ``kind`` booking on ``day``; None if they can."""
    if kind != "marriage":
        return None
    role = _role(kind, position)
    expected = MALE if position == 1 else FEMALE
    if person.sex != expected:
        shown = "男性" if person.sex == MALE else "女性"
        return f"这个身份证号码显示是{shown}，这里需要填写{role}的身份证号码，请核对后重新输入。"
    problem = marriage_age_problem(person, day)
    return problem + "请核对身份证号码，如有疑问可说“转人工”。" if problem else None


def _fail(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, message: str) -> dict[str, Any]:
    """Say what is wrong and ask again; after repeated failures also offer a person."""
    count = int(tracker.get_slot("booking_failures") or 0) + 1
    dispatcher.utter_message(text=message + ("\n" + HUMAN_HINT if count >= FAILURE_HINT_AFTER else ""))
    return {slot: None, "booking_failures": float(count)}


def _unsealed(tracker: Tracker, slot: str) -> str | None:
    """A personal number the form keeps sealed in ``slot`` (see civil_affairs.sealing)."""
    return unseal(tracker.get_slot(slot), services().settings.secret_key)


def _role(kind: str | None, position: int) -> str:
    if kind in (None, "marriage"):
        return "男方" if position == 1 else "女方"
    return "一方" if position == 1 else "另一方"


def infer_kind(text: str) -> str:
    """The appointment kind a request names; 结婚登记 when it names none."""
    if re.search(r"补领|补办|补发|丢了|遗失", text):
        return "certificate_reissue"
    if re.search(r"离婚|離婚", text):
        if re.search(r"领证|拿证|冷静期|离婚证|領證", text):
            return "divorce_certificate"
        return "divorce_application"
    return "marriage"


# --- the booking form --------------------------------------------------------------------------------

class BookingFormBase(FormValidationAction, ABC):
    """Extraction shared by the booking, cancel and reschedule forms.

    Needs in domain.yml: the slots of ``BOOKING_FORM_SLOTS``/``MANAGE_SLOTS`` with ``custom``
    mappings, the float slot ``booking_failures`` and the entity ``booking_choice``.
    """

    interrupt_intents: set[str] = STOP_INTENTS

    @abstractmethod
    def name(self) -> str:
        """validate_<form>; abstract, so the action server does not register this base."""

    def _requested(self, tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _take(self, tracker: Tracker, slot: str, readable: bool) -> dict[str, Any]:
        """The raw answer for ``slot`` when it is the one asked for, unless it is an interruption."""
        if not self._requested(tracker, slot):
            return {}
        if not readable and interrupts(tracker, self.interrupt_intents):
            return {}
        return {slot: answer_of(tracker) or None}

    async def extract_booking_date(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = answer_of(tracker)
        return self._take(tracker, "booking_date", parse_date(text, _today()) is not None)

    async def extract_booking_slot(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = answer_of(tracker)
        return self._take(tracker, "booking_slot", bool(re.search(r"\d|上午|下午|点", text)))

    def _day_problem(self, day: date, kind: str, application_date: date | None) -> str | None:
        app = services()
        with app.sessions.begin() as session:
            return booking.check_day(day, session=session, now=now(), kind=kind, rules=rules(),
                                     application_date=application_date)

    def _validate_date(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       kind: str, application_date: date | None) -> dict[str, Any]:
        day = _as_date(value) or parse_date(str(value or ""), _today())
        if day is None:
            return _fail(dispatcher, tracker, "booking_date",
                         "抱歉，没看懂这个日期。可以点下面的日期按钮，或者输入“12月8日”“下周三”“七夕”这样的日期。")
        problem = self._day_problem(day, kind, application_date)
        if problem:
            return _fail(dispatcher, tracker, "booking_date", problem)
        return {"booking_date": day.isoformat(), "booking_slot": None, "booking_failures": 0.0}

    def _validate_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        day = _as_date(tracker.get_slot("booking_date"))
        if day is None:
            return {"booking_slot": None}
        app = services()
        with app.sessions.begin() as session:
            slots = booking.slot_availability(day, session=session, now=now())
        chosen = match_slot(str(value or ""), slots)
        if chosen is None:
            return _fail(dispatcher, tracker, "booking_slot", "请点选下面的时段按钮，或者输入时间，比如“上午9点”。")
        if chosen.free <= 0:
            return _fail(dispatcher, tracker, "booking_slot", f"{chosen.label} 这个时段已经约满了，请换一个时段。")
        return {"booking_slot": chosen.slot_code, "booking_failures": 0.0}


def _as_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def match_slot(text: str, slots: list[booking.SlotAvailability]) -> booking.SlotAvailability | None:
    """A slot by its code (button), its start time ("9点", "09:00", "下午两点半") or 上午/下午 (first free)."""
    text = text.strip()
    for slot in slots:
        if text == slot.slot_code or text == slot.label or text.startswith(slot.label):
            return slot
    hour_match = re.search(r"(\d{1,2})(?:[:：点](\d{2}|半)?)?", text) or re.search(r"([一二两三四五六七八九十]+)点(半)?", text)
    afternoon = "下午" in text or "晚" in text
    if hour_match:
        from civil_affairs.date_parsing import cn_number

        hour = cn_number(hour_match.group(1))
        minute = 30 if hour_match.group(2) == "半" else int(hour_match.group(2) or 0) if (hour_match.group(2) or "").isdigit() else 0
        if hour is not None:
            if afternoon and hour < 12:
                hour += 12
            elif hour < 7:
                hour += 12  # "两点半" at a registry means 14:30
            candidates = [s for s in slots if s.start.hour == hour and (minute == 0 or s.start.minute == minute)]
            candidates = candidates or [s for s in slots if s.start.hour == hour]
            return candidates[0] if candidates else None
    if "上午" in text or afternoon:
        half = [s for s in slots if (s.start.hour >= 12) == afternoon]
        free = [s for s in half if s.free > 0]
        return (free or half or [None])[0]
    return None


class ValidateBookingForm(BookingFormBase):
    """Checks every answer of the booking form (预约表单)."""

    interrupt_intents = STOP_INTENTS | QUESTION_INTENTS | {"cancel_appointment"}

    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if tracker.get_slot("booking_abort"):
            return []
        slots = [s for s in domain_slots if s != "booking_abort"]
        if tracker.get_slot("booking_kind") != "divorce_certificate":
            slots = [s for s in slots if s != "divorce_application_date"]
        return slots

    async def extract_booking_kind(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("booking_kind"):
            return {}
        text = answer_of(tracker)
        return {"booking_kind": text if text in KIND_LABELS else infer_kind(text)}

    async def extract_divorce_application_date(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                               domain: DomainDict) -> dict[str, Any]:
        readable = parse_date(answer_of(tracker), _today(), direction=PAST) is not None
        return self._take(tracker, "divorce_application_date", readable)

    async def extract_party1_name(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        return self._take(tracker, "party1_name", clean_name(answer_of(tracker)) is not None)

    async def extract_party2_name(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        return self._take(tracker, "party2_name", clean_name(answer_of(tracker)) is not None)

    async def extract_party1_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        return self._take(tracker, "party1_id", bool(re.search(r"\d{6}", answer_of(tracker))))

    async def extract_party2_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        return self._take(tracker, "party2_id", bool(re.search(r"\d{6}", answer_of(tracker))))

    async def extract_booking_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        return self._take(tracker, "booking_phone", parse_phone(answer_of(tracker)) is not None)

    async def extract_booking_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: DomainDict) -> dict[str, Any]:
        if not self._requested(tracker, "booking_confirmed"):
            return {}
        answer = is_yes(tracker)
        if answer is None and interrupts(tracker, self.interrupt_intents - {"deny"}):
            return {}
        return {"booking_confirmed": answer if answer is not None else "unclear"}

    # --- validation ---

    def validate_booking_kind(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        return {"booking_kind": value if value in KIND_LABELS else "marriage"}

    def validate_divorce_application_date(self, value: Any, dispatcher: CollectingDispatcher,
                                          tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        day = _as_date(value) or parse_date(str(value or ""), _today(), direction=PAST)
        slot = "divorce_application_date"
        if day is None:
            return _fail(dispatcher, tracker, slot, "没看懂这个日期，请输入离婚登记申请被受理的日期（受理回执单上的日期），比如“11月2日”。")
        if day > _today():
            return _fail(dispatcher, tracker, slot, "申请受理日期不能晚于今天，请核对受理回执单上的日期。")
        app = services()
        with app.sessions.begin() as session:
            calendar = load_calendar(session=session)
            try:
                first, last = booking.divorce_certificate_window(day, calendar)
            except CalendarYearMissing:
                return _fail(dispatcher, tracker, slot, "这段时间的节假日安排还没有录入，暂时算不出冷静期，请说“转人工”由工作人员帮您预约。")
        window_first, window_last = booking.booking_window(now(), rules())
        if last < window_first:
            dispatcher.utter_message(text=(
                f"按《民法典》第1077条，冷静期满后30日内双方应当亲自到登记机关申请发给离婚证，"
                f"您这份申请的领证期限到{describe_date(last)}已经结束，未申请的视为撤回离婚登记申请。"
                f"如仍要离婚，需要重新申请离婚登记。"))
            return {slot: day.isoformat(), "booking_abort": "expired"}
        if first > window_last:
            come_back = first - timedelta(days=rules().max_days_ahead)
            dispatcher.utter_message(text=(
                f"您的离婚冷静期满后，可以领证的日期是{describe_date(first)}至{describe_date(last)}。"
                f"目前只开放{rules().max_days_ahead}天内的预约，请在{describe_date(come_back)}及以后再来预约。"))
            return {slot: day.isoformat(), "booking_abort": "too_early"}
        dispatcher.utter_message(text=f"冷静期满后可以领证的日期是{describe_date(first)}至{describe_date(last)}，"
                                      f"下面只列出这个范围内可以预约的日期。")
        return {slot: day.isoformat(), "booking_failures": 0.0}

    def validate_booking_date(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        return self._validate_date(value, dispatcher, tracker, tracker.get_slot("booking_kind") or "marriage",
                                   _as_date(tracker.get_slot("divorce_application_date")))

    def validate_booking_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        return self._validate_slot(value, dispatcher, tracker)

    def _validate_name(self, slot: str, position: int, value: Any, dispatcher: CollectingDispatcher,
                       tracker: Tracker) -> dict[str, Any]:
        name = clean_name(str(value or ""))
        if name is None:
            role = _role(tracker.get_slot("booking_kind"), position)
            return _fail(dispatcher, tracker, slot, f"请只输入{role}的姓名（和身份证上一致），比如“张伟”。")
        return {slot: name, "booking_failures": 0.0}

    def validate_party1_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        return self._validate_name("party1_name", 1, value, dispatcher, tracker)

    def validate_party2_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        return self._validate_name("party2_name", 2, value, dispatcher, tracker)

    def _validate_id(self, slot: str, position: int, value: Any, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> dict[str, Any]:
        kind = tracker.get_slot("booking_kind") or "marriage"
        role = _role(kind, position)
        text = str(value or "")
        try:
            person = parse_id_number(find_id_number(text) or text, today=_today())
        except IdNumberError as exc:
            return _fail(dispatcher, tracker, slot, f"{role}的{exc.message}")
        if position == 2 and _unsealed(tracker, "party1_id") == person.value:
            return _fail(dispatcher, tracker, slot, "两位当事人的身份证号码不能相同，请输入另一方的身份证号码。")
        day = _as_date(tracker.get_slot("booking_date")) or _today()
        problem = party_problem(kind, position, person, day)
        if problem:
            return _fail(dispatcher, tracker, slot, problem)
        app = services()
        with app.sessions.begin() as session:
            hashed = id_hash(person.value, app.settings.secret_key)
            blocked = booking.no_show_block_until([hashed], session=session, today=_today(), rules=rules())
            if blocked:
                dispatcher.utter_message(text=booking.no_show_message(blocked, rules()))
                return {slot: None, "booking_abort": "no_show"}
            existing = booking.find_active_by_person(person.value, session=session,
                                                     secret_key=app.settings.secret_key)
            if existing is not None:
                # Typing someone's ID number must not reveal their booking code, date or kind.
                dispatcher.utter_message(text=ACTIVE_ELSEWHERE_TEXT.format(role=role))
                return {slot: None, "booking_abort": "active"}
        return {slot: seal(person.value, app.settings.secret_key), "booking_failures": 0.0}

    def validate_party1_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> dict[str, Any]:
        return self._validate_id("party1_id", 1, value, dispatcher, tracker)

    def validate_party2_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> dict[str, Any]:
        return self._validate_id("party2_id", 2, value, dispatcher, tracker)

    def validate_booking_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        phone = parse_phone(str(value or ""))
        if phone is None:
            return _fail(dispatcher, tracker, "booking_phone",
                         "请输入11位手机号码（如 13912345678），或带区号的固定电话（如 0793-1234567）。")
        return {"booking_phone": seal(phone, services().settings.secret_key), "booking_failures": 0.0}

    def validate_booking_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        if value is True or value is False:
            return {"booking_confirmed": value}
        dispatcher.utter_message(text="请点“确认预约”提交，或点“不约了”放弃这次预约。")
        return {"booking_confirmed": None}


# --- the forms' questions (action_ask_<slot>) ---------------------------------------------------------

class AskDivorceApplicationDate(AskForSlot):
    """When the divorce application (离婚登记申请) was accepted; the 冷静期 counts from it."""

    question = ("预约冷静期满后领离婚证，需要先算出可以领证的日期。请问离婚登记申请是哪天被受理的？"
                "（看受理回执单上的日期，比如“11月2日”）")

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

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        kind, application_date = _kind_and_application(tracker)
        app = services()
        with app.sessions.begin() as session:
            days = booking.available_days(session=session, now=now(), kind=kind, rules=rules(),
                                          application_date=application_date, limit=MAX_DATE_BUTTONS)
        label = KIND_LABELS.get(kind, "婚姻登记")
        if not days:
            dispatcher.utter_message(text=f"抱歉，近期{label}的预约名额已满（或尚未开放）。"
                                          "您可以输入想约的日期试试，或说“转人工”咨询工作人员。")
            return []
        buttons = [{"title": f"{short_date(d.day)}（余{d.free}）",
                    "payload": _choice(d.day.isoformat())} for d in days]
        dispatcher.utter_message(
            text=f"您预约的是：{label}。请问想约哪一天？可以点下面有空位的日期，也可以直接输入，"
                 "比如“下周三”“12月8日”“七夕”。", buttons=buttons)
        return []


class ActionAskBookingSlot(Action):
    """Offers the chosen day's time slots with the places left."""

    def name(self) -> str:
        return "action_ask_booking_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        day = _as_date(tracker.get_slot("booking_date"))
        if day is None:
            return []
        app = services()
        with app.sessions.begin() as session:
            slots = [s for s in booking.slot_availability(day, session=session, now=now()) if s.free > 0]
        buttons = [{"title": f"{s.label}（余{s.free}个）", "payload": _choice(s.slot_code)} for s in slots]
        dispatcher.utter_message(text=f"{describe_date(day, _today())}还有这些时段可以预约，请选择：",
                                 buttons=buttons)
        return []


class ActionAskBookingConfirmed(Action):
    """Shows the summary and asks to confirm."""

    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        kind = tracker.get_slot("booking_kind") or "marriage"
        day = _as_date(tracker.get_slot("booking_date"))
        app = services()
        with app.sessions.begin() as session:
            slot = booking._slot_by_code(tracker.get_slot("booking_slot") or "", session=session)
            label = slot.label
        lines = ["请核对预约信息：", f"业务：{KIND_LABELS[kind]}", f"时间：{describe_date(day)} {label}" if day else ""]
        for position in (1, 2):
            lines.append(f"{_role(kind, position)}：{tracker.get_slot(f'party{position}_name')}"
                         f"（身份证 {mask_id(_unsealed(tracker, f'party{position}_id') or '')}）")
        lines.append(f"联系电话：{mask_phone(_unsealed(tracker, 'booking_phone') or '')}")
        dispatcher.utter_message(text="\n".join(line for line in lines if line),
                                 buttons=[{"title": "确认预约", "payload": "/affirm"},
                                          {"title": "不约了", "payload": "/deny"}])
        return []


def _choice(value: str) -> str:
    return "/inform" + json.dumps({CHOICE_ENTITY: value}, ensure_ascii=False)


def _kind_and_application(tracker: Tracker) -> tuple[str, date | None]:
    """The kind (and divorce application date) of the form: from the slots, or the booking being moved."""
    if tracker.active_loop_name == "reschedule_form" or tracker.get_slot("booking_code"):
        code = tracker.get_slot("booking_code")
        if code and tracker.active_loop_name == "reschedule_form":
            app = services()
            # Checked again with the last 6: the dates offered for a code must not tell a tracker
            # that merely names it what kind of appointment it is.
            with app.sessions.begin() as session:
                row, _ = booking.check_code(code, tracker.get_slot("booking_id_last6") or "", session=session,
                                            **_who(tracker))
                if row is not None:
                    return row.kind, row.application_date
    return (tracker.get_slot("booking_kind") or "marriage",
            _as_date(tracker.get_slot("divorce_application_date")))


def reset_events(slots: tuple[str, ...] = BOOKING_FORM_SLOTS + MANAGE_SLOTS) -> list[EventType]:
    """Clear the form slots (the ID numbers leave the tracker's current state)."""
    return [SlotSet(slot, None) for slot in dict.fromkeys(slots)] + [SlotSet("booking_failures", 0.0)]


def documents_text(kind: str) -> str:
    """What to bring, from the FAQ store entries of this kind."""
    app = services()
    with app.sessions.begin() as session:
        entries = [session.scalar(select(FaqEntry).where(FaqEntry.key == key, FaqEntry.active == True))  # noqa: E712
                   for key in booking.DOCUMENT_FAQ_KEYS.get(kind, ())]
        texts = [format_answer(e, app.settings.bureau) for e in entries if e is not None]
    if not texts:
        return "办理时请双方带好本人居民身份证。具体材料可以问我“" + KIND_LABELS[kind] + "要带什么”。"
    return "办理时请带好以下材料：\n" + "\n\n".join(texts)


def ics_message(appointment: Appointment) -> dict[str, Any]:
    """The custom payload the bot turns into a document upload."""
    bureau = services().settings.bureau
    event = CalendarEvent(
        uid=f"{appointment.code}@civil-affairs-bot", day=appointment.day,
        start=appointment.slot.start_time, end=appointment.slot.end_time,
        summary=f"{KIND_LABELS[appointment.kind]}（预约码 {appointment.code}）",
        description="请双方本人携带居民身份证按时到场。改约或取消请在聊天中说“改约”或“取消预约”。",
        location=bureau.address or f"{bureau.name}婚姻登记处")
    return {"document": {"filename": f"{appointment.code}.ics", "content": build_ics(event),
                         "caption": "预约已加入日历文件，点开即可添加到手机日历。"}}


def confirmation_text(appointment: Appointment, title: str = "预约成功！") -> str:
    names = "、".join(p.name for p in appointment.parties)
    return (f"{title}\n预约码：{appointment.code}\n业务：{KIND_LABELS[appointment.kind]}\n"
            f"时间：{describe_date(appointment.day)} {appointment.slot.label}\n当事人：{names}\n"
            "请记好预约码。改约或取消时需要预约码和任一方身份证号后6位。"
            "约好后请按时到场，无法到场请提前取消，否则会记为爽约。")


def submission_key(tracker: Tracker) -> str | None:
    """Identifies this run of the booking form, so a confirmation Rasa handles twice books once.

    A resident's "确认" can reach the action twice when a server fails after booking (the channel
    or Rasa retries): both carry the same form activation, so they get the same key and the second
    returns the first booking. None when the activation is not in the events sent (no such guard).
    """
    started = next((event.get("timestamp") for event in reversed(tracker.events)
                    if event.get("event") == "active_loop" and event.get("name") == "booking_form"), None)
    if started is None:
        return None
    return hashlib.sha256(f"{tracker.sender_id}|booking_form|{started}".encode("utf-8")).hexdigest()


def _sealed_value(tracker: Tracker, slot: str) -> str | None:
    """A personal number only as the form sealed it; a raw or forged value in the slot gives None."""
    value = tracker.get_slot(slot)
    if not isinstance(value, str) or not value.startswith(SEALED_PREFIX):
        return None
    return unseal(value, services().settings.secret_key)


def submitted_request(tracker: Tracker) -> booking.BookingRequest | None:
    """The booking the tracker asks for, every value checked again here; None if anything fails.

    The action server cannot tell a tracker Rasa built from one someone posted, so nothing the form's
    validation said is trusted: the chat id must look like one of ours, the kind must be known, the
    names must be names, the ID numbers and phone must be sealed by this service and pass every
    check again (checksum, sex and age for a marriage). The day, slot, capacity, no-show and
    one-appointment rules are checked by ``booking.book``.
    """
    sender = tracker.sender_id or ""
    kind = tracker.get_slot("booking_kind") or "marriage"
    day = _as_date(tracker.get_slot("booking_date"))
    slot_code = tracker.get_slot("booking_slot")
    phone = parse_phone(_sealed_value(tracker, "booking_phone") or "")
    problems = [not _SENDER_RE.match(sender), kind not in KIND_LABELS, day is None,
                not isinstance(slot_code, str) or not slot_code, phone is None]
    parties = []
    for position in (1, 2):
        name = clean_name(str(tracker.get_slot(f"party{position}_name") or ""))
        try:
            person = parse_id_number(_sealed_value(tracker, f"party{position}_id") or "", today=_today())
        except IdNumberError:
            problems.append(True)
            continue
        problems += [name is None, day is not None and party_problem(kind, position, person, day) is not None]
        parties.append(booking.Party(name or "", person))
    application_date = _as_date(tracker.get_slot("divorce_application_date"))
    problems.append(kind == "divorce_certificate" and application_date is None)
    if any(problems):
        logger.warning("booking submission refused: a value failed its check again (sender %s)",
                       sender if _SENDER_RE.match(sender) else "malformed")
        return None
    return booking.BookingRequest(kind=kind, day=day, slot_code=slot_code, parties=tuple(parties),
                                  phone=phone, sender_id=sender, application_date=application_date,
                                  submission_key=submission_key(tracker))


class ActionSubmitBooking(Action):
    """Books the confirmed appointment and sends the code, what to bring and the .ics file."""

    def name(self) -> str:
        return "action_submit_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("booking_abort"):
            return reset_events()
        if tracker.get_slot("booking_confirmed") is not True:
            dispatcher.utter_message(text="好的，这次预约没有提交。需要时随时说“预约结婚登记”。")
            return reset_events()
        app = services()
        request = submitted_request(tracker)
        if request is None:
            dispatcher.utter_message(text=INCOMPLETE_TEXT)
            return reset_events()
        kind = request.kind
        try:
            appointment = booking.book_with_retry(app.sessions, request, secret_key=app.settings.secret_key,
                                                  now=now(), rules=rules())
        except booking.BookingError as exc:
            dispatcher.utter_message(text=exc.message)
            if exc.code == "full":  # choose another slot (or day) and confirm again
                return [SlotSet("booking_slot", None), SlotSet("booking_confirmed", None),
                        FollowupAction("booking_form")]
            return reset_events()
        logger.info("booked %s for %s", appointment.code, tracker.sender_id)
        try:
            dispatcher.utter_message(text=confirmation_text(appointment))
            dispatcher.utter_message(text=documents_text(kind))
            dispatcher.utter_message(json_message=ics_message(appointment))
        except Exception:  # the booking stands; an unhandled error would echo the tracker in a 500
            logger.exception("booking %s made but its confirmation failed", appointment.code)
            dispatcher.utter_message(text=f"预约成功，预约码：{appointment.code}。请记好预约码。")
        return reset_events()


# --- cancelling and rescheduling ---------------------------------------------------------------------

def _who(tracker: Tracker) -> dict[str, Any]:
    """Whose code checks these are, for the failure allowances (chat and client address)."""
    return {"sender_id": tracker.sender_id or "", "client_address": client_address(tracker.latest_message)}


class ManageFormBase(BookingFormBase, ABC):
    """Code + last 6 characters of either party's ID, checked against the database."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form>; abstract, so the action server does not register this base."""

    async def extract_booking_code(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = answer_of(tracker)
        found = _CODE_RE.search(text)
        if tracker.get_slot("requested_slot") is None and not tracker.get_slot("booking_code"):
            return {"booking_code": found.group(0)} if found else {}  # the request itself named it
        return self._take(tracker, "booking_code", found is not None)

    async def extract_booking_id_last6(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        return self._take(tracker, "booking_id_last6", _LAST6_RE.search(answer_of(tracker)) is not None)

    def validate_booking_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        found = _CODE_RE.search(str(value or ""))
        if not found:
            return _fail(dispatcher, tracker, "booking_code",
                         "请发送预约成功时收到的预约码，格式像 YY20261208-417。")
        code = re.sub(r"\s", "", found.group(0)).upper()
        if "-" not in code:
            code = code[:10] + "-" + code[10:]
        return {"booking_code": code}

    def validate_booking_id_last6(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        found = _LAST6_RE.search(str(value or "").upper())
        if not found:
            return _fail(dispatcher, tracker, "booking_id_last6", "请输入任一方身份证号码的最后6位（最后一位可能是X）。")
        app = services()
        with app.sessions.begin() as session:  # commits the counted failure too
            appointment, error = booking.check_code(tracker.get_slot("booking_code") or "", found.group(1).upper(),
                                                    session=session, **_who(tracker))
            summary = f"{describe_date(appointment.day)} {appointment.slot.label}" if appointment else ""
        if error is not None:
            if error.code in ("verify",):
                result = _fail(dispatcher, tracker, "booking_id_last6", error.message)
                result["booking_code"] = None
                return result
            dispatcher.utter_message(text=error.message)
            return {"booking_id_last6": None, "booking_abort": error.code}
        dispatcher.utter_message(text=f"已找到您的预约：{summary}。")
        return {"booking_id_last6": found.group(1).upper(), "booking_failures": 0.0}

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if tracker.get_slot("booking_abort"):
            return []
        return [s for s in domain_slots if s != "booking_abort"]


class ValidateCancelBookingForm(ManageFormBase):
    """Checks the answers of the cancel form (取消预约)."""

    def name(self) -> str:
        return "validate_cancel_booking_form"

    async def extract_cancel_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        if not self._requested(tracker, "cancel_confirmed"):
            return {}
        name, _ = _intent(tracker)
        answer = True if name == "cancel_appointment" else is_yes(tracker)
        if answer is None and interrupts(tracker, STOP_INTENTS - {"deny"}):
            return {}
        return {"cancel_confirmed": answer if answer is not None else "unclear"}

    def validate_cancel_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        if value is True or value is False:
            return {"cancel_confirmed": value}
        dispatcher.utter_message(text="请点“确认取消”或“保留预约”。")
        return {"cancel_confirmed": None}


class ValidateRescheduleForm(ManageFormBase):
    """Checks the answers of the reschedule form (改约)."""

    def name(self) -> str:
        return "validate_reschedule_form"

    def validate_booking_date(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        kind, application_date = _kind_and_application(tracker)
        return self._validate_date(value, dispatcher, tracker, kind, application_date)

    def validate_booking_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        return self._validate_slot(value, dispatcher, tracker)


class ActionAskCancelConfirmed(Action):
    """Asks whether to really cancel."""

    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=f"确定要取消预约 {tracker.get_slot('booking_code')} 吗？取消后名额会让给其他人。",
                                 buttons=[{"title": "确认取消", "payload": "/affirm"},
                                          {"title": "保留预约", "payload": "/deny"}])
        return []


class ActionCancelBooking(Action):
    """Cancels the verified appointment."""

    def name(self) -> str:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("booking_abort"):
            return reset_events()
        if tracker.get_slot("cancel_confirmed") is not True:
            dispatcher.utter_message(text="好的，预约保留不变，请按时到场。")
            return reset_events()
        app = services()
        try:
            with app.sessions.begin() as session:
                appointment, error = booking.check_code(tracker.get_slot("booking_code") or "",
                                                        tracker.get_slot("booking_id_last6") or "", session=session,
                                                        **_who(tracker))
                if appointment is not None:
                    booking.cancel(appointment, session=session, reason="居民在线取消")
                    code = appointment.code
        except booking.BookingError as exc:
            error = exc
        if error is not None:
            dispatcher.utter_message(text=error.message)
            return reset_events()
        dispatcher.utter_message(text=f"预约 {code} 已取消。需要时可以随时重新预约。")
        return reset_events()


class ActionRescheduleBooking(Action):
    """Moves the verified appointment to the chosen day and slot (a new code is issued)."""

    def name(self) -> str:
        return "action_reschedule_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("booking_abort"):
            return reset_events()
        app = services()
        with app.sessions.begin() as session:  # commits the counted failure too
            _, error = booking.check_code(tracker.get_slot("booking_code") or "",
                                          tracker.get_slot("booking_id_last6") or "", session=session,
                                          **_who(tracker))
        if error is not None:
            dispatcher.utter_message(text=error.message)
            return reset_events()
        try:
            with app.sessions.begin() as session:
                old = booking.verify(tracker.get_slot("booking_code") or "",
                                     tracker.get_slot("booking_id_last6") or "", session=session, **_who(tracker))
                new = booking.reschedule(old, date.fromisoformat(tracker.get_slot("booking_date")),
                                         tracker.get_slot("booking_slot") or "", session=session, now=now(),
                                         rules=rules())
                text = confirmation_text(new, title=f"改约成功！原预约 {old.code} 已作废，新的预约码如下。")
                document = ics_message(new)
        except booking.BookingError as exc:
            dispatcher.utter_message(text=exc.message)
            if exc.code == "full":
                return [SlotSet("booking_slot", None), FollowupAction("reschedule_form")]
            return reset_events()
        except (TypeError, ValueError):
            dispatcher.utter_message(text="抱歉，改约信息不完整，请重新说“改约”。")
            return reset_events()
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(json_message=document)
        return reset_events()


class ActionStopBooking(Action):
    """Leaves whichever booking form is active when the resident no longer wants it."""

    def name(self) -> str:
        return "action_stop_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        intent, _ = _intent(tracker)
        if intent not in ("request_human", "emergency", "complain"):
            dispatcher.utter_message(text="好的，已退出预约，没有保存任何信息。还有别的问题可以直接问我。")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + reset_events()
