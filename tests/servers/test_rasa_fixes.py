"""Rasa started through servers.rasa_fixes: the action-answer schema is checked once, not per call,
and the event classes are looked up once, not per stored event.

Counting work, not time: Rasa's own ``_validate_action_result`` re-validates the answer schema
against the JSON Schema meta-schema on every action call, and ``Event.resolve_by_type`` walks every
``Event`` subclass for every event it turns into an object; with the fixes installed neither does.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import importlib
import inspect
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import ujson
from aiohttp import web
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core import events as rasa_events
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.asking import RASA_TAKES_QUESTIONS_KEY
from civil_affairs.config import PROJECT_ROOT, Settings
from launcher import processes
from servers import rasa_fixes, rasa_form_questions
from servers.rasa_applied_events import RASA_APPLIED_EVENTS, RASA_GENERATE_ALL_PRIOR_TRACKERS

GOOD = {
    "events": [{"event": "slot", "name": "last_faq_key", "value": "dibao-apply", "timestamp": None}],
    "responses": [{"text": "低保的申请流程是……", "buttons": []}],
}
BAD = {"events": [{"event": 42}], "responses": "not a list"}
ORIGINAL_RUN = DaskGraphRunner.run


def schema_checks(calls: int) -> int:
    """How often the answer schema is itself checked while ``calls`` answers are validated."""
    action = RemoteAction("action_answer_faq", None)
    cls = validator_for(RemoteAction.action_response_format_spec())
    with mock.patch.object(cls, "check_schema", wraps=cls.check_schema) as check:
        for _ in range(calls):
            assert action._validate_action_result(GOOD) is True
        return check.call_count


@pytest.fixture
def installed() -> None:
    original = RemoteAction._validate_action_result
    original_resolve = Event.__dict__["resolve_by_type"]
    original_session = EndpointConfig.session
    original_request = EndpointConfig.request
    original_run = DaskGraphRunner.run
    original_format = RemoteAction._action_call_format
    original_is_empty = Domain.is_empty
    original_copies = {name: importlib.import_module(name).copy for name in rasa_fixes.DEBUG_COPY_MODULES}
    rasa_fixes.action_response_validator.cache_clear()
    rasa_fixes._EVENT_CLASSES.clear()
    rasa_fixes._INSTALLED = False
    rasa_fixes.install()
    yield
    RemoteAction._validate_action_result = original
    Event.resolve_by_type = original_resolve
    EndpointConfig.session = original_session
    EndpointConfig.request = original_request
    DaskGraphRunner.run = original_run
    RemoteAction._action_call_format = original_format  # type: ignore[method-assign]
    Domain.is_empty = original_is_empty  # type: ignore[method-assign]
    if "__copy__" in vars(Slot):
        del Slot.__copy__
    DialogueStateTracker.applied_events = RASA_APPLIED_EVENTS  # type: ignore[method-assign]
    DialogueStateTracker.generate_all_prior_trackers = RASA_GENERATE_ALL_PRIOR_TRACKERS  # type: ignore[method-assign]
    for name, module in original_copies.items():
        importlib.import_module(name).copy = module  # type: ignore[attr-defined]
    rasa_form_questions.uninstall()
    rasa_fixes.close_kept_sessions()
    rasa_fixes._INSTALLED = False


def test_rasa_alone_checks_the_schema_on_every_action_call() -> None:
    """The cost being fixed (Rasa 3.6 as installed): one meta-schema check per action answer."""
    assert schema_checks(10) == 10


def test_installed_validator_checks_the_schema_never_per_call(installed: None) -> None:
    rasa_fixes.action_response_validator()  # built (and the schema checked) once, at the first call
    assert schema_checks(10) == 0


def test_installed_validator_rejects_what_rasa_rejects(installed: None) -> None:
    action = RemoteAction("action_answer_faq", None)
    with pytest.raises(ValidationError) as raised:
        action._validate_action_result(BAD)
    assert "Failed to validate Action server response from API" in raised.value.message


STORED = [
    {"event": "action", "name": "action_session_start", "timestamp": 1.0},
    {"event": "session_started", "timestamp": 1.0},
    {"event": "action", "name": "action_listen", "timestamp": 1.0},
    {"event": "user", "text": "低保怎么申请", "parse_data": {"intent": {"name": "ask_policy"}}, "timestamp": 2.0},
    {"event": "slot", "name": "last_faq_key", "value": "dibao-apply", "timestamp": 3.0},
    {"event": "action", "name": "action_answer_faq", "timestamp": 3.0},
    {"event": "bot", "text": "低保的申请流程是……", "timestamp": 3.0},
]


def subclass_walks(events: list[dict]) -> tuple[DialogueStateTracker, int]:
    """Rebuild a tracker from stored events, counting walks over Event's subclass tree."""
    with mock.patch.object(
        rasa_events.rasa.shared.utils.common,
        "all_subclasses",
        wraps=rasa_events.rasa.shared.utils.common.all_subclasses,
    ) as walk:
        tracker = DialogueStateTracker.from_dict("resident", events, [])
        return tracker, sum(1 for call in walk.call_args_list if call.args[0] is Event)


def test_rasa_alone_walks_the_event_classes_for_every_event() -> None:
    _, walks = subclass_walks(STORED * 3)
    assert walks == len(STORED) * 3


def test_installed_event_lookup_walks_once_per_type(installed: None) -> None:
    subclass_walks(STORED)  # each type name found once
    tracker, walks = subclass_walks(STORED * 3)
    assert walks == 0
    kinds = [type(event) for event in tracker.events]
    assert UserUttered in kinds and SlotSet in kinds and ActionExecuted in kinds
    assert tracker.get_slot("last_faq_key") is None  # no such slot in an empty domain: same as Rasa
    assert tracker.latest_message.text == "低保怎么申请"


def test_installed_event_lookup_answers_unknown_names_as_rasa_does(installed: None) -> None:
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    assert "no_such_event" not in rasa_fixes._EVENT_CLASSES


async def serve_webhook(webhook: Any) -> tuple[web.AppRunner, int]:
    """A stub action server answering POST /webhook on a free loopback port: (runner, port)."""
    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def connections_for(calls: int) -> tuple[int, list[dict]]:
    """Send ``calls`` requests through one endpoint; how many TCP connections the server accepted."""
    peers: set[tuple[str, int]] = set()

    async def webhook(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": [], "token": request.headers.get("X-Action-Token")})

    runner, port = await serve_webhook(webhook)
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Action-Token": "secret"})
    try:
        answers = [await endpoint.request(json={"next_action": "x"}, method="post") for _ in range(calls)]
    finally:
        rasa_fixes.close_kept_sessions()
        await runner.cleanup()
    return len(peers), answers


def test_rasa_alone_opens_a_connection_per_action_call() -> None:
    connections, _ = asyncio.run(connections_for(4))
    assert connections == 4


def test_installed_endpoint_keeps_its_connection(installed: None) -> None:
    connections, answers = asyncio.run(connections_for(4))
    assert connections == 1
    assert [answer["token"] for answer in answers] == ["secret"] * 4  # the endpoint's headers still sent
    assert rasa_fixes._KEPT_SESSIONS == []  # closed without an event loop at exit


def test_the_launcher_starts_rasa_through_this_module(tmp_path: Path) -> None:
    settings = Settings.from_env({"APP_ENV": "test", "DATA_DIR": str(tmp_path)}, dotenv=None)
    argv = processes.rasa_server(processes.with_service_tokens(settings), tmp_path / "model.tar.gz").argv
    assert argv[1:4] == ["-m", "servers.rasa_run", "run"]
    assert "--model" in argv and "--endpoints" in argv
    # The module hands its arguments to Rasa's own command line.
    shown = subprocess.run(
        [sys.executable, "-m", "servers.rasa_run", "run", "--help"],
        check=False,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "--enable-api" in shown.stdout and "--credentials" in shown.stdout


def _answers() -> list[object]:
    """Action answers, valid and not: every kind of event Rasa's actions send, and broken copies."""
    events = [
        rasa_events.SlotSet("booking_date", "2026-12-01").as_dict(),
        rasa_events.SlotSet("requested_slot", None).as_dict(),
        rasa_events.BotUttered("您好", {"buttons": [{"title": "是", "payload": "/affirm"}]}).as_dict(),
        ActionExecuted("action_listen").as_dict(),
        UserUttered("低保", {"name": "ask_dibao", "confidence": 0.9}, [{"entity": "x", "value": "y"}]).as_dict(),
        rasa_events.ActiveLoop("booking_form").as_dict(),
        rasa_events.ActiveLoop(None).as_dict(),
        rasa_events.FollowupAction("action_listen").as_dict(),
        rasa_events.AllSlotsReset().as_dict(),
        rasa_events.Restarted().as_dict(),
        rasa_events.SessionStarted().as_dict(),
        rasa_events.ActionExecutionRejected("booking_form").as_dict(),
        rasa_events.EntitiesAdded([{"entity": "date", "value": "明天"}]).as_dict(),
    ]
    broken = [
        {"event": "slot", "value": 1},  # no name
        {"event": "slot", "name": 3, "value": 1},
        {"event": "user", "text": 5},
        {"event": "user", "parse_data": {"entities": [{"entity": "x"}]}},  # an entity without a value
        {"event": "action", "name": ["not", "a", "string"]},
        {"event": "entities"},
        {"event": "no_such_event"},
        {"event": 42},
        {"name": "requested_slot"},
        "slot",
        {"event": "bot", "timestamp": "yesterday"},
        {"event": "bot", "metadata": []},
    ]
    answers: list[object] = [{"events": [e], "responses": []} for e in events + broken]
    answers += [
        {"events": events, "responses": [{"text": "好的"}]},
        {"events": events + broken[:1], "responses": []},
        {"events": [], "responses": "not a list"},
        {"events": "not a list"},
        {"responses": [{"text": "只有回答"}]},
        {},
        [],
    ]
    return answers


def test_checking_each_event_against_its_own_branch_gives_rasas_verdict_on_every_answer() -> None:
    full = rasa_fixes.action_response_validator()
    verdicts = [(rasa_fixes.answer_is_valid(answer), full.is_valid(answer)) for answer in _answers()]
    assert [fast for fast, _ in verdicts] == [rasa for _, rasa in verdicts]
    assert {rasa for _, rasa in verdicts} == {True, False}  # both kinds were tried


def test_installed_validator_gives_rasas_error_for_an_invalid_event(installed: None) -> None:
    action = RemoteAction("action_answer_faq", None)
    with pytest.raises(ValidationError) as raised:
        action._validate_action_result({"events": [{"event": "slot", "name": 3, "value": 1}], "responses": []})
    assert "Failed to validate Action server response from API" in raised.value.message


MESSAGES = ["你好", "低保怎么申请", "俺想约个号去领证", "查一下办件进度", "我想找个人工", "谢谢", "都不是"]


def understood(agent: Any, tag: str = "") -> list[dict[str, Any]]:
    """What ``agent`` makes of MESSAGES: the parse of each, and the next action after each."""
    results = []
    for number, text in enumerate(MESSAGES):
        parse = asyncio.run(agent.parse_message(text))
        sender = f"graph-{number}-{id(agent)}{tag}"
        asyncio.run(agent.handle_message(UserMessage(text, sender_id=sender)))
        tracker = asyncio.run(agent.tracker_store.retrieve(sender))
        results.append(
            {
                "intent": parse["intent"],
                "ranking": parse["intent_ranking"],
                "entities": [(e["entity"], e["value"]) for e in parse["entities"]],
                "actions": [e.action_name for e in tracker.events if isinstance(e, ActionExecuted)],
            }
        )
    return results


def test_the_graph_run_without_dask_understands_and_predicts_exactly_as_with_dask(installed: None) -> None:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore

    from civil_affairs.rasa_model import ensure_model

    model = str(ensure_model(PROJECT_ROOT / "models"))
    ordered = Agent.load(model, tracker_store=InMemoryTrackerStore(None))
    with mock.patch("dask.get") as dask_get:
        with_fix = understood(ordered)
    assert dask_get.call_count == 0  # the fix ran every graph itself
    DaskGraphRunner.run = ORIGINAL_RUN  # Rasa's own, for the comparison
    with_dask = understood(Agent.load(model, tracker_store=InMemoryTrackerStore(None)))
    assert with_fix == with_dask
    assert [result["actions"][2] for result in with_dask[:2]] == ["utter_greet", "action_answer_faq"]


def copy_uses_outside_debug_lines(module_name: str) -> list[int]:
    """Lines of ``module_name`` that use ``copy`` other than inside a ``structlogger.debug(...)`` call."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    inside_debug: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "debug"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "structlogger"
        ):
            inside_debug.update(id(inner) for inner in ast.walk(node))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id == "copy" and id(node) not in inside_debug
    ]


@pytest.mark.parametrize("module_name", rasa_fixes.DEBUG_COPY_MODULES)
def test_the_modules_copy_only_for_their_debug_lines(module_name: str) -> None:
    """What makes handing the value over unchanged exact: nothing else in them uses ``copy``."""
    assert copy_uses_outside_debug_lines(module_name) == []


@pytest.fixture
def structlog_level() -> Any:
    """Set structlog's level as Rasa does (``configure_structlog``); Rasa's default (INFO) afterwards."""
    from rasa.utils.log_utils import configure_structlog

    yield configure_structlog
    configure_structlog(logging.INFO)


def test_debug_copies_are_skipped_only_when_debug_lines_are_dropped(installed: None, structlog_level: Any) -> None:
    from rasa.core import processor

    value = {"events": [{"text": "低保"}]}
    assert processor.copy is rasa_fixes.DebugOnlyCopy
    structlog_level(logging.INFO)
    assert processor.copy.deepcopy(value) is value  # the debug line is dropped: no copy
    structlog_level(logging.DEBUG)
    copied = processor.copy.deepcopy(value)
    assert copied == value and copied is not value and copied["events"] is not value["events"]
    assert processor.copy.copy is copy.copy


BOOKING_TURNS = ["俺想约个号去领证", "结婚登记", "明天", "后天上午", "低保怎么申请", "算了不约了", "谢谢"]


@pytest.fixture
def fake_action_server() -> Any:
    """An action server on a thread that runs every action by saying its name (no events), so forms
    keep asking: the URL of its webhook."""
    import threading

    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"events": [], "responses": [{"text": body["next_action"]}]})

    async def serve() -> None:
        holder["runner"], holder["port"] = await serve_webhook(webhook)
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop)
    assert started.wait(10)
    yield f"http://127.0.0.1:{holder['port']}/webhook"
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def conversation_outcome(agent: Any, sender: str) -> list[Any]:
    """Every event of a booking conversation as Rasa stores it (random ids and times left out)."""
    for text in BOOKING_TURNS:
        asyncio.run(agent.handle_message(UserMessage(text, sender_id=sender)))
    tracker = asyncio.run(agent.tracker_store.retrieve(sender))
    outcome = []
    for event in tracker.events:
        data = {k: v for k, v in event.as_dict().items() if k not in ("timestamp", "message_id")}
        if isinstance(data.get("parse_data"), dict):
            data["parse_data"] = {k: v for k, v in data["parse_data"].items() if k != "message_id"}
        outcome.append(data)
    return outcome


def test_the_service_handles_conversations_as_rasa_does_without_debug_copies(
    installed: None, structlog_level: Any, fake_action_server: str
) -> None:
    """With the fixes a booking conversation ends in the same events, with no deep copy made for
    dropped debug lines; Rasa's own methods (restored on the same agent) copy for each of them."""
    from rasa.core import processor
    from rasa.core.actions import forms
    from rasa.core.agent import Agent
    from rasa.core.policies import rule_policy
    from rasa.core.tracker_store import InMemoryTrackerStore

    from civil_affairs.rasa_model import ensure_model

    structlog_level(logging.INFO)
    agent = Agent.load(
        str(ensure_model(PROJECT_ROOT / "models")),
        tracker_store=InMemoryTrackerStore(None),
        action_endpoint=EndpointConfig(fake_action_server),
    )
    with mock.patch("copy.deepcopy", wraps=copy.deepcopy) as deepcopy:
        with_fixes = conversation_outcome(agent, "fixed")
        copies_with_fixes = deepcopy.call_count
        DialogueStateTracker.applied_events = RASA_APPLIED_EVENTS  # type: ignore[method-assign]
        DialogueStateTracker.generate_all_prior_trackers = RASA_GENERATE_ALL_PRIOR_TRACKERS  # type: ignore[method-assign]
        for module in (processor, forms, rule_policy):
            module.copy = copy  # type: ignore[attr-defined]
        as_rasa = conversation_outcome(agent, "rasa")
        copies_as_rasa = deepcopy.call_count - copies_with_fixes
    assert with_fixes == as_rasa
    names = [event.get("name") for event in as_rasa]
    assert "booking_form" in names and names.count("action_listen") >= 5, str(names)  # the form ran, turns were taken
    assert copies_as_rasa - copies_with_fixes >= 3 * len(BOOKING_TURNS)  # Rasa copies elsewhere too


def booking_tracker(domain: Any) -> DialogueStateTracker:
    """A conversation in the middle of a booking, its messages ranked as the model ranks them."""
    from rasa.shared.core.events import ActiveLoop

    def said(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> UserUttered:
        ranking = [{"name": intent, "confidence": 0.9}, {"name": "out_of_scope", "confidence": 0.1}]
        parse = {"intent": ranking[0], "entities": entities or [], "text": text, "intent_ranking": ranking}
        return UserUttered(text, ranking[0], entities or [], parse_data=parse)

    events: list[Event] = [
        ActionExecuted("action_listen"),
        said("低保怎么申请", "ask_benefits"),
        ActionExecuted("action_answer_faq"),
        SlotSet("last_faq_key", "dibao-apply"),
        ActionExecuted("action_listen"),
        said("我想预约结婚登记", "book_appointment", [{"entity": "topic", "value": "结婚登记"}]),
        ActionExecuted("booking_form"),
        ActiveLoop("booking_form"),
        SlotSet("requested_slot", "booking_date"),
        ActionExecuted("action_listen"),
        said("明天", "inform", [{"entity": "booking_date", "value": "2026-12-02"}]),
        SlotSet("booking_date", "2026-12-02"),
    ]
    tracker = DialogueStateTracker("web-1", domain.slots)
    for event in events:
        tracker.update(event)
    return tracker


def test_the_action_call_leaves_out_only_what_no_action_reads(installed: None) -> None:
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = booking_tracker(domain)
    for name, gets_domain in [
        ("action_answer_faq", False),
        ("action_ask_booking_slot", False),
        ("validate_booking_form", True),
    ]:
        light = RemoteAction(name, None)._action_call_format(tracker, domain)
        full = rasa_fixes._RASA_ACTION_CALL_FORMAT(RemoteAction(name, None), tracker, domain)
        assert ("domain" in light) is gets_domain and full["domain"] == domain.as_dict()
        if gets_domain:  # and is told that Rasa takes the question it sends (servers.rasa_form_questions)
            assert light["domain"] == {**domain.as_dict(), RASA_TAKES_QUESTIONS_KEY: True}
        assert {k: v for k, v in light["tracker"].items() if k != "events"} == {
            k: v for k, v in full["tracker"].items() if k != "events"
        }  # the latest message keeps its ranking
        assert len(full["tracker"]["latest_message"]["intent_ranking"]) == 2
        assert light["tracker"]["active_loop"]["trigger_message"]["text"] == "我想预约结婚登记"  # a form is running
        assert ujson.dumps(light["tracker"]["active_loop"]) == ujson.dumps(full["tracker"]["active_loop"])
        for sent, whole in zip(light["tracker"]["events"], full["tracker"]["events"], strict=True):
            if whole["event"] == "user":
                assert "intent_ranking" not in sent["parse_data"]
                whole = {**whole, "parse_data": {k: v for k, v in whole["parse_data"].items() if k != "intent_ranking"}}
            assert sent == whole
    # Rasa's own tracker is not changed by it
    assert all("intent_ranking" in event.parse_data for event in tracker.events if isinstance(event, UserUttered))


def test_the_actions_read_the_same_from_the_lighter_call(installed: None) -> None:
    """What the actions and rasa-sdk read from a call is the same with or without the past rankings."""
    from rasa.shared.core.domain import Domain
    from rasa_sdk import Tracker

    from actions.booking.submit import submission_key

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = booking_tracker(domain)
    light = Tracker.from_dict(
        RemoteAction("validate_booking_form", None)._action_call_format(tracker, domain)["tracker"]
    )
    full = Tracker.from_dict(
        rasa_fixes._RASA_ACTION_CALL_FORMAT(RemoteAction("validate_booking_form", None), tracker, domain)["tracker"]
    )

    def read(t: Tracker) -> Any:
        return (
            t.latest_message,
            t.slots,
            t.active_loop,
            t.get_intent_of_latest_message(),
            list(t.get_latest_entity_values("booking_date")),
            t.slots_to_validate(),
            [e["event"] for e in t.applied_events()],
            t.events_after_latest_restart() and len(t.events_after_latest_restart()),
            t.get_last_event_for("user", skip=1) and t.get_last_event_for("user", skip=1)["text"],
            submission_key(t),
        )

    assert read(light) == read(full)
    assert submission_key(light) is not None


def test_actions_without_the_domain_never_read_it() -> None:
    """Every action the domain is left out for only passes ``domain`` on (rasa-sdk gives it ``{}``)."""
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.forms import ValidationAction

    executor = ActionExecutor()
    executor.register_package("actions")
    checked = 0
    for name, action in executor.actions.items():
        owner = getattr(action, "__self__", None)
        if rasa_fixes.action_needs_domain(name) or owner is None:
            continue
        assert not isinstance(owner, ValidationAction), name
        for cls in type(owner).__mro__:
            if not cls.__module__.startswith("actions"):
                continue
            tree = ast.parse(inspect.getsource(cls).strip() if cls.__module__ else "")
            passed_on = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call) for arg in node.args}
            reads = [
                node.lineno
                for node in ast.walk(tree)
                if isinstance(node, ast.Name) and node.id == "domain" and id(node) not in passed_on
            ]
            assert reads == [], (name, cls.__name__, reads)
        checked += 1
    assert checked >= 10


def test_slots_are_copied_as_copy_copies_them(installed: None) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    assert Slot.__copy__ is rasa_fixes.slot_copy
    for slot in domain.slots:
        slot.value = ["a"] if slot.type_name == "list" else slot.value
        ours = copy.copy(slot)
        del Slot.__copy__
        theirs = copy.copy(slot)  # copyreg's way
        Slot.__copy__ = rasa_fixes.slot_copy  # type: ignore[attr-defined]
        assert type(ours) is type(theirs) is type(slot) and ours is not slot
        assert ours.__dict__ == theirs.__dict__ == slot.__dict__ and ours.__dict__ is not slot.__dict__
        assert all(ours.__dict__[k] is v for k, v in slot.__dict__.items())  # shallow, as copy.copy
        ours.value = "changed"
        assert slot.value != "changed"
    tracker = DialogueStateTracker("x", domain.slots)
    assert tracker.slots["booking_date"] is not domain.slots[[s.name for s in domain.slots].index("booking_date")]


def test_domain_is_empty_answers_as_rasa_without_building_a_domain_each_time(installed: None) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    assert Domain.empty().is_empty() is True and domain.is_empty() is False
    with mock.patch.object(Domain, "empty", wraps=Domain.empty) as empty:
        for _ in range(5):
            assert domain.is_empty() is False
    assert empty.call_count == 0  # built once, before
    assert domain.is_empty() == (domain.as_dict() == Domain.empty().as_dict())


def test_applied_events_are_installed_with_the_fixes(installed: None) -> None:
    from servers import rasa_applied_events

    assert DialogueStateTracker.applied_events is rasa_applied_events.applied_events
    assert DialogueStateTracker.generate_all_prior_trackers is rasa_applied_events.generate_all_prior_trackers


def test_form_questions_are_installed_with_the_fixes_and_removed_again(installed: None) -> None:
    from rasa.core.actions.forms import FormAction
    from rasa.core.actions.loops import LoopAction

    assert (
        FormAction._ask_for_slot is rasa_form_questions.ask_for_slot and FormAction.run is rasa_form_questions.form_run
    )
    rasa_form_questions.uninstall()
    assert FormAction.run is LoopAction.run and "run" not in vars(FormAction)
    assert not rasa_form_questions.installed()
