"""A no right after the bot offers FAQ choices means "none of these", whichever action offered them.

The trained model's dialogue and the real actions (in process, on a seeded database). Four actions
can offer choices: action_answer_faq, and, when the FAQ takes over, action_emergency (the model said
emergency but no word of danger confirms it), action_handoff (the model said complaint but no word
of a complaint confirms it) and action_out_of_scope (the model was not sure). So that each path is
reached whatever the model makes of the words, the intent of some messages is set by the test
(``FORCED``); the dialogue rules and the actions are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from rasa.utils.endpoints import EndpointConfig

from actions import texts
from civil_affairs.config import Settings
from tests.actions.test_form_questions_rasa import in_process_actions
from tests.helpers.rasa_agent import trained_agent
from tests.helpers.rasa_agent import turn as say

# "低保" alone is asked back ("关于低保，您想了解哪方面？"), whichever action searches the FAQ.
PROGRAMME_ONLY = "低保"
ASKED_BACK = texts.FAQ_WHICH_ASPECT.format(name="低保")


@pytest.fixture(scope="module")
def loaded_agent() -> Any:
    """The trained model (loaded once: each test talks as residents of its own)."""
    return trained_agent()


@pytest.fixture
def agent(loaded_agent: Any, action_settings: Settings) -> Iterator[Any]:
    """The model, its actions run here on the test's database."""
    with mock.patch.object(EndpointConfig, "request", in_process_actions([])):
        yield loaded_agent


@pytest.mark.parametrize(
    "intent,reply",
    [
        (None, "都不是"),
        (None, "不是这个"),
        ("emergency", "都不是"),
        ("emergency", "/deny"),  # the 都不是 button
        ("complain", "都不是"),
        ("complain", "不是这个"),
        ("out_of_scope", "都不是"),
    ],
)
def test_a_no_to_offered_choices_is_none_of_them_whichever_action_offered(agent: Any, intent: str, reply: str) -> None:
    sender = f"offer-{intent}-{reply}"
    [asked] = [m for m in say(agent, sender, PROGRAMME_ONLY, intent) if m.get("buttons")]
    assert asked["text"] == ASKED_BACK and asked["buttons"][-1]["payload"] == "/deny"
    replies = say(agent, sender, reply)
    # One reply: none of them fits, a person on offer (not a loop of fallbacks and hand-overs).
    assert [(m.get("text"), [b["title"] for b in m.get("buttons") or []]) for m in replies] == [
        (texts.FAQ_NONE, [texts.HUMAN_BUTTON_TITLE])
    ]


def test_the_offer_is_open_for_the_next_message_only(agent: Any) -> None:
    """After the offer, a thanks, then a no: the no is a plain no (the choices were left behind)."""
    say(agent, "later", PROGRAMME_ONLY, "emergency")
    say(agent, "later", "谢谢")
    [plain] = say(agent, "later", "不用了")
    assert plain["text"] != texts.FAQ_NONE and "您还有别的问题吗" in plain["text"]


def test_a_no_after_the_hotlines_is_a_plain_no_even_after_an_earlier_offer(agent: Any) -> None:
    """An offer, then an emergency the FAQ does not take: a no then is not "none of these"."""
    say(agent, "hotlines", PROGRAMME_ONLY)
    sent = say(agent, "hotlines", "隔壁有人晕倒了，叫不醒", "emergency")
    assert any("110" in (m.get("text") or "") or "120" in (m.get("text") or "") for m in sent)
    replies = say(agent, "hotlines", "不是")
    assert texts.FAQ_NONE not in [m.get("text") for m in replies]
