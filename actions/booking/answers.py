"""Reading a resident's answers in the booking forms: buttons, typed dates, times, names, yes/no."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.common import services
from civil_affairs import booking, clock
from civil_affairs.booking.date_parsing import cn_number
from civil_affairs.identity import (
    FEMALE,
    MALE,
    IdNumber,
    marriage_age_problem,
)
from civil_affairs.sealing import unseal
from civil_affairs.throttle import client_address

CHOICE_ENTITY = "booking_choice"
BOOKING_FORM_SLOTS = (
    "booking_kind",
    "divorce_application_date",
    "booking_date",
    "booking_slot",
    "party1_name",
    "party1_id",
    "party2_name",
    "party2_id",
    "booking_phone",
    "booking_confirmed",
    "booking_abort",
)
MANAGE_SLOTS = ("booking_code", "booking_id_last6", "cancel_confirmed", "booking_date", "booking_slot", "booking_abort")
QUESTION_INTENTS = {
    "ask_benefits",
    "ask_elderly",
    "ask_disability_children",
    "ask_marriage",
    "ask_funeral",
    "ask_other_policy",
}
STOP_INTENTS = {"deny", "goodbye", "request_human", "emergency", "complain"}
INTERRUPT_CONFIDENCE = 0.6
MAX_DATE_BUTTONS = 8
FAILURE_HINT_AFTER = 3
SENDER_RE = re.compile(r"^(?:tg-\d{1,20}|web-[A-Za-z0-9_-]{16,128})$")

NAME_PREFIX_RE = re.compile(
    r"^(?:男方|女方|一方|另一方|对方|本人|我叫|我是|他叫|她叫|名字是|名字叫|姓名是?|叫)[:：\s]*"
)
NAME_RE = re.compile(r"^[\u4e00-\u9fff·•]{2,15}$|^[A-Za-z][A-Za-z .·-]{1,38}$")
CODE_RE = re.compile(r"YY\s*20\d{2}[01]\d[0-3]\d\s*-?\s*\d{3}(?!\d)", re.IGNORECASE)
LAST6_RE = re.compile(r"(?<![0-9A-Za-z])(\d{5}[\dXx])(?![0-9A-Za-z])")
YES_WORDS = ("确认", "确定", "是的", "对的", "没问题", "好的", "可以", "提交", "对", "是", "好", "嗯")
NO_WORDS = ("不约", "不要", "不用", "算了", "不对", "取消", "不是", "否")


def now() -> datetime:
    """Local time; tests replace this to pin the calendar."""
    return clock.local_now()


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
            return str(json.loads(text[text.index("{") :]).get(CHOICE_ENTITY, ""))
        except ValueError:
            return ""
    return text


def intent_of(tracker: Tracker) -> tuple[str, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def interrupts(tracker: Tracker, intents: set[str]) -> bool:
    """The resident clearly means something else than answering (a question, "转人工", "不约了")."""
    name, confidence = intent_of(tracker)
    return name in intents and confidence >= INTERRUPT_CONFIDENCE


def local_today() -> date:
    return now().date()


def is_yes(tracker: Tracker) -> bool | None:
    """True/False for a yes/no answer (buttons send /affirm and /deny), None when unclear."""
    name, _ = intent_of(tracker)
    text = answer_of(tracker)
    if name == "affirm" or text in ("yes", "/affirm"):
        return True
    if name == "deny" or text in ("no", "/deny"):
        return False
    if any(word in text for word in NO_WORDS):
        return False
    if any(word in text for word in YES_WORDS):
        return True
    return None


def clean_name(text: str) -> str | None:
    """张三 from "男方：张三" / "我叫张三"; None when it does not look like a name."""
    value = NAME_PREFIX_RE.sub("", (text or "").strip()).strip("。.，, ")
    return value if NAME_RE.match(value) else None


def party_problem(kind: str, position: int, person: IdNumber, day: date) -> str | None:
    """Why this person cannot be party ``position`` of a ``kind`` booking on ``day``; None if they can."""
    if kind != "marriage":
        return None
    role = texts.role_label(kind, position)
    expected = MALE if position == 1 else FEMALE
    if person.sex != expected:
        shown = texts.MALE_WORD if person.sex == MALE else texts.FEMALE_WORD
        return texts.WRONG_SEX.format(sex=shown, role=role)
    problem = marriage_age_problem(person, day)
    return problem + texts.AGE_PROBLEM_HINT if problem else None


def reject_answer(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, message: str) -> dict[str, Any]:
    """Say what is wrong and ask again; after repeated failures also offer a person."""
    count = int(tracker.get_slot("booking_failures") or 0) + 1
    dispatcher.utter_message(text=message + ("\n" + texts.HUMAN_HINT if count >= FAILURE_HINT_AFTER else ""))
    return {slot: None, "booking_failures": float(count)}


def unsealed_slot(tracker: Tracker, slot: str) -> str | None:
    """A personal number the form keeps sealed in ``slot`` (see civil_affairs.sealing)."""
    return unseal(tracker.get_slot(slot), services().settings.secret_key)


def infer_kind(text: str) -> str:
    """The appointment kind a request names; 结婚登记 when it names none."""
    if re.search(r"补领|补办|补发|丢了|遗失", text):
        return "certificate_reissue"
    if re.search(r"离婚|離婚", text):
        if re.search(r"领证|拿证|冷静期|离婚证|領證", text):
            return "divorce_certificate"
        return "divorce_application"
    return "marriage"


def as_date(value: Any) -> date | None:
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
    hour_match = re.search(r"(\d{1,2})(?:[:：点](\d{2}|半)?)?", text) or re.search(
        r"([一二两三四五六七八九十]+)点(半)?", text
    )
    afternoon = "下午" in text or "晚" in text
    if hour_match:
        hour = cn_number(hour_match.group(1))
        minute = (
            30
            if hour_match.group(2) == "半"
            else int(hour_match.group(2) or 0)
            if (hour_match.group(2) or "").isdigit()
            else 0
        )
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
        return free[0] if free else half[0] if half else None
    return None


def choice_payload(value: str) -> str:
    return "/inform" + json.dumps({CHOICE_ENTITY: value}, ensure_ascii=False)


def kind_and_application(tracker: Tracker) -> tuple[str, date | None]:
    """The kind (and divorce application date) of the form: from the slots, or the booking being moved."""
    if tracker.active_loop_name == "reschedule_form" or tracker.get_slot("booking_code"):
        code = tracker.get_slot("booking_code")
        if code and tracker.active_loop_name == "reschedule_form":
            app = services()
            # Checked again with the last 6: the dates offered for a code must not tell a tracker
            # that merely names it what kind of appointment it is.
            with app.sessions.begin() as session:
                row, _ = booking.check_code(
                    code, tracker.get_slot("booking_id_last6") or "", session=session, **code_checker(tracker)
                )
                if row is not None:
                    return row.kind, row.application_date
    return (tracker.get_slot("booking_kind") or "marriage", as_date(tracker.get_slot("divorce_application_date")))


def code_checker(tracker: Tracker) -> dict[str, Any]:
    """Whose code checks these are, for the failure allowances (chat and client address)."""
    return {"sender_id": tracker.sender_id or "", "client_address": client_address(tracker.latest_message)}
