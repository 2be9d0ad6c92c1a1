"""Rasa with servers.rasa_form_questions against Rasa's own FormAction, both calling the real actions.

The trained model and Rasa's processor handle the same conversations (a booking with a wrong phone
number and a policy question in the middle, a status lookup with a wrong answer) twice on one
database: once with Rasa's own ``FormAction`` (the validation actions are not told that Rasa takes
their questions, so they ask nothing), once patched. The residents must get the same messages with
the same buttons in the same order, the conversations must end in the same events, and the patched
run must make one action call fewer for each form turn that was not an interruption.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import date, datetime
from typing import Any
from unittest import mock

import pytest
import ujson
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.utils.endpoints import EndpointConfig

from actions import booking as booking_actions
from actions import texts
from actions.common import services
from civil_affairs.config import PROJECT_ROOT, Settings
from civil_affairs.sealing import unseal
from servers import rasa_fixes, rasa_form_questions
from tests.helpers.applications import add_application, fictitious_id
from tests.helpers.booking_factory import make_id

NOW = datetime(2026, 9, 23, 9, 0)
GROOM = make_id(date(1990, 3, 3), male=True)
BRIDE = make_id(date(1993, 4, 4), male=False)
BUTTON = object()  # press the first button of the bot's last message


def booking_turns() -> list[Any]:
    return [
        "我想预约结婚登记",
        BUTTON,
        "结婚登记要带什么材料",  # a policy question inside the form: rejected, answered, asked again
        BUTTON,
        "王强",
        GROOM,
        "赵敏",
        BRIDE,
        "12345",  # not a phone number: the error, then the same question
        "13979310077",
        "算了不约了",
    ]


def lookup_turns(number: str) -> list[Any]:
    return ["查一下办件进度", number, "12a", fictitious_id(301)[-6:], "谢谢"]


@pytest.fixture
def agent(action_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The trained model with an in-memory tracker store; Rasa's FormAction until a test installs the patch."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore

    from civil_affairs.rasa_model import ensure_model

    monkeypatch.setattr(booking_actions.answers, "now", lambda: NOW)
    # Only the fixes this needs, undone afterwards: the call that tells validations Rasa takes questions.
    monkeypatch.setattr(RemoteAction, "_action_call_format", rasa_fixes.action_call_format)
    yield Agent.load(
        str(ensure_model(PROJECT_ROOT / "models")),
        tracker_store=InMemoryTrackerStore(None),
        action_endpoint=EndpointConfig("http://actions.invalid/webhook"),
    )
    rasa_form_questions.uninstall()


def in_process_actions(calls: list[str]) -> Any:
    """``EndpointConfig.request`` running the actions here, the call and answer passed through JSON."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")

    async def request(self: Any, method: str = "post", subpath: Any = None, **kwargs: Any) -> Any:
        call = ujson.loads(ujson.dumps(kwargs["json"]))
        calls.append(call["next_action"])
        return ujson.loads(ujson.dumps(await executor.run(call)))

    return request


def talk(agent: Any, sender: str, turns: list[Any]) -> list[list[dict[str, Any]]]:
    """What the resident sees after each turn (texts and buttons, without times)."""
    seen: list[list[dict[str, Any]]] = []
    for turn in turns:
        if turn is BUTTON:
            turn = seen[-1][-1]["buttons"][0]["payload"]
        output = CollectingOutputChannel()
        asyncio.run(agent.handle_message(UserMessage(turn, output, sender_id=sender)))
        seen.append([{k: v for k, v in m.items() if k != "recipient_id"} for m in output.messages])
    return seen


def stored(agent: Any, sender: str) -> list[dict[str, Any]]:
    """Every event of the conversation as stored (random ids and times left out)."""
    tracker = asyncio.run(agent.tracker_store.retrieve(sender))
    outcome = []
    for event in tracker.events:
        data = {k: v for k, v in event.as_dict().items() if k not in ("timestamp", "message_id")}
        if str(data.get("value")).startswith("sealed:"):  # sealed afresh each time: compare what it holds
            data["value"] = unseal(data["value"], services().settings.secret_key)
        if isinstance(data.get("parse_data"), dict):
            data["parse_data"] = {k: v for k, v in data["parse_data"].items() if k != "message_id"}
        outcome.append(data)
    return outcome


def run_both(agent: Any, turns: list[Any], sender: str) -> tuple[Any, Any, Counter[str], Counter[str]]:
    """(seen, stored, calls) with Rasa's own FormAction, then with the patched one."""
    rasa_calls: list[str] = []
    patched_calls: list[str] = []
    rasa_form_questions.uninstall()
    with mock.patch.object(EndpointConfig, "request", in_process_actions(rasa_calls)):
        rasa_seen = talk(agent, f"{sender}-rasa", turns)
    rasa_stored = stored(agent, f"{sender}-rasa")
    rasa_form_questions.install()
    with (
        mock.patch.object(EndpointConfig, "request", in_process_actions(patched_calls)),
        mock.patch.object(rasa_form_questions.logger, "warning") as dropped,
    ):
        patched_seen = talk(agent, f"{sender}-patched", turns)
    assert not dropped.called  # no question sent that Rasa did not ask
    patched_stored = stored(agent, f"{sender}-patched")
    assert patched_seen == rasa_seen
    assert patched_stored == rasa_stored
    return rasa_seen, rasa_stored, Counter(rasa_calls), Counter(patched_calls)


def test_a_booking_gets_the_same_messages_and_events_with_one_call_per_form_turn(agent: Any) -> None:
    seen, events, rasa_calls, patched_calls = run_both(agent, booking_turns(), "booking")
    texts_seen = [[m.get("text") or "" for m in turn] for turn in seen]
    assert len(seen[2]) == 2 and seen[2][-1]["buttons"]  # the policy answer, then the slots again
    assert texts_seen[8] == [texts.PHONE_UNREADABLE, texts.ASK_BOOKING_PHONE]  # the error, then the same question
    assert texts_seen[4] == [texts.ASK_PARTY1_ID_MARRIAGE]  # the marriage wording
    assert any(e.get("name") == "booking_form" for e in events)
    asked = {name: count for name, count in rasa_calls.items() if name.startswith("action_ask_")}
    saved = {name: count - patched_calls[name] for name, count in asked.items()}
    # Every question but the one after the policy question came with its validation.
    assert sum(asked.values()) - sum(saved.values()) == 1, (asked, patched_calls)
    assert patched_calls["action_ask_booking_slot"] == 1  # asked again after the interruption
    assert sum(rasa_calls.values()) - sum(patched_calls.values()) == sum(saved.values())
    assert {k: v for k, v in patched_calls.items() if not k.startswith("action_ask_")} == {
        k: v for k, v in rasa_calls.items() if not k.startswith("action_ask_")
    }


def test_a_status_lookup_gets_the_same_messages_and_events_with_fewer_calls(agent: Any) -> None:
    with services().sessions.begin() as session:
        number = add_application(session, secret_key=services().settings.secret_key, sequence=301).number
    seen, _, rasa_calls, patched_calls = run_both(agent, lookup_turns(number), "lookup")
    texts_seen = [[m.get("text") or "" for m in turn] for turn in seen]
    assert texts_seen[0] == [texts.ASK_APPLICATION_NUMBER]
    assert texts_seen[2] == [texts.ID_LAST6_INVALID, texts.ASK_ID_LAST6]
    assert re.match("申请编号：", texts_seen[3][0])
    assert rasa_calls["action_ask_status_lookup_form_application_number"] == 1
    assert patched_calls["action_ask_status_lookup_form_application_number"] == 0
    assert patched_calls["action_ask_status_lookup_form_id_last6"] == 0
    # The activation's validation: once in both runs. Rasa's own FormAction ran it twice until the
    # slot mapping of faq_offer_open (domain.yml) set a slot at every message, the activation's
    # included; the patched run made the same calls before and after (1 validation, no question).
    assert rasa_calls["validate_status_lookup_form"] == patched_calls["validate_status_lookup_form"]
