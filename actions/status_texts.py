"""What the status lookup (办件进度查询) says to residents, in one place.

The actions in ``actions/status_lookup.py`` send these texts themselves (``text=``/``buttons=``), so
they are not responses in domain.yml. Placeholders are filled with ``str.format`` by the helpers
below. Only ``utter_status_lookup_cancelled`` stays a response, because a rule in
dialogue/status_lookup.yml uses it.
"""

from __future__ import annotations

from typing import Any

# Form questions (action_ask_status_lookup_form_<slot>).
ASK_APPLICATION_NUMBER = "请发送申请编号（写在受理回执上，例如 DB202610080021）。"
ASK_ID_LAST6 = "为保护个人信息，请再发送申请人身份证号的后6位（最后一位可能是X）。"

ID_LAST6_INVALID = "身份证号后6位应是6个数字（最后一位可能是X），请再发一次。"

LOOKUP_RESULT = (
    "申请编号：{number}\n业务类型：{type_name}\n申请人：{masked_name}\n受理单位：{office}\n"
    "当前进度：{stage}（{stage_date}）\n{meaning}{note_line}\n下一步：{next_step}"
)
NOTE_LINE = "\n说明：{note}"
LOOKUP_FAILED = "没有查到与这个编号和身份证号后6位相符的申请。请核对受理回执上的申请编号和申请人身份证号后6位后再试。"
LOOKUP_LOCKED = (
    "为保护申请人的信息，这里的查询失败次数过多，查询已暂停1小时，请稍后再试。"
    "急需了解进度的，可带上受理回执到受理窗口询问，或{contact}"
)

SUBSCRIBE_OFFER = "进度有变化时需要提醒您吗？"
SUBSCRIBE_BUTTON_TITLE = "订阅进度提醒"
SUBSCRIBE_PAYLOAD = '/subscribe_status{{"application_number":"{number}"}}'
SUBSCRIBED = "已订阅申请 {number} 的进度提醒。工作人员更新进度后，会在这里通知您。不需要时可以说“取消订阅”。"
SUBSCRIBE_NEEDS_LOOKUP = "请先查询一次办件进度（说“查进度”），查询成功后再点“订阅进度提醒”。"
UNSUBSCRIBED = "已取消 {count} 项进度提醒，以后不再通知您。"
NO_SUBSCRIPTION = "您目前没有订阅任何进度提醒。"


def lookup_result(
    *,
    number: str,
    type_name: str,
    masked_name: str,
    office: str,
    stage: str,
    stage_date: Any,
    meaning: str,
    note: str | None,
    next_step: str,
) -> str:
    """The status of one application; the 说明 line only when the application has a note."""
    return LOOKUP_RESULT.format(
        number=number,
        type_name=type_name,
        masked_name=masked_name,
        office=office,
        stage=stage,
        stage_date=stage_date,
        meaning=meaning,
        note_line=NOTE_LINE.format(note=note) if note else "",
        next_step=next_step,
    )


def lookup_locked(contact: str) -> str:
    """Lookups are paused; ``contact`` says where to ask instead."""
    return LOOKUP_LOCKED.format(contact=contact)


def subscribe_buttons(number: str) -> list[dict[str, str]]:
    """The button that subscribes the chat to ``number`` (canonical form, as the lookup verified it)."""
    return [{"title": SUBSCRIBE_BUTTON_TITLE, "payload": SUBSCRIBE_PAYLOAD.format(number=number)}]


def subscribed(number: str) -> str:
    return SUBSCRIBED.format(number=number)


def unsubscribed(count: int) -> str:
    return UNSUBSCRIBED.format(count=count)
