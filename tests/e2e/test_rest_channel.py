"""The real model, Rasa server and action server answer residents through the REST channel."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.model


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_greeting_shows_the_menu(stack: Stack) -> None:
    messages = stack.say(sender(), "你好")
    assert "您好" in messages[0]["text"]
    titles = [b["title"] for b in messages[0].get("buttons", [])]
    assert titles == ["政策咨询", "结婚登记预约", "办件进度查询", "转人工"]


def test_marriage_documents_answer_is_the_id_card_rule(stack: Stack) -> None:
    text = stack.say_text(sender(), "结婚登记要带什么")
    assert "身份证" in text
    for stale in ("请携带户口簿", "请带上户口本", "请携带户口本"):
        assert stale not in text
    assert "依据" in text


def test_divorce_cooling_off_is_30_days(stack: Stack) -> None:
    text = stack.say_text(sender(), "离婚冷静期多久")
    assert "冷静期" in text and ("30日" in text or "30天" in text)


def test_first_steps_after_a_death(stack: Stack) -> None:
    text = stack.say_text(sender(), "老人去世了第一步做什么")
    assert "死亡" in text and "证明" in text and "火化" in text


def test_follow_up_question_uses_the_previous_one(stack: Stack) -> None:
    resident = sender()
    stack.say_text(resident, "结婚登记要带什么")
    text = stack.say_text(resident, "那离婚呢？")
    assert "离婚" in text and "身份证" in text


def test_emergency_gets_hotlines(stack: Stack) -> None:
    text = stack.say_text(sender(), "路边有个小孩一个人在哭 找不到爸妈 天都黑了 怎么办啊")
    assert "110" in text


@pytest.mark.parametrize("message", ["😀😀😀", "？？？！！。。", "低保" * 2500])
def test_odd_messages_get_a_sensible_reply(stack: Stack, message: str) -> None:
    messages = stack.say(sender(), message)
    assert messages and all(m.get("text") for m in messages)


def test_booking_request_starts_the_booking_form_with_free_dates(stack: Stack) -> None:
    [ask] = [m for m in stack.say(sender(), "我想预约结婚登记") if m.get("buttons")]
    assert "哪一天" in ask["text"] and all("余" in b["title"] for b in ask["buttons"])
