"""This service's speed fixes to Rasa, installed by ``servers.rasa_run`` before Rasa's own ``main`` runs:

- **one action-response validator, built once**: Rasa 3.6 checks every action server answer with
  ``jsonschema.validate(answer, schema)``, which first re-validates the (large) schema itself
  against JSON Schema's meta-schema, on every action call. That was the largest single cost of a
  message (``scripts/profile_message.py``: about a third of Rasa's time per message). The schema is
  checked once here; each answer is validated as before, with Rasa's error message. Each event is
  checked against its own type's branch of the schema's ``oneOf`` only: the branches are told apart
  by a constant ``event`` name, so an event can only ever match its own, and the answer is valid
  exactly when Rasa's check finds it valid. Trying all twenty branches per event cost about a
  millisecond per action call; an invalid answer still gets Rasa's full check and error.
- **event classes looked up once**: rebuilding a conversation turns every stored event into its
  class with ``Event.resolve_by_type``, which walks the whole tree of ``Event`` subclasses (and
  asks ``inspect.isabstract`` of each) for every event: a sixth of Rasa's CPU per message in a
  profile. A found class is remembered by its type name; unknown names go to Rasa's own lookup.
- **connections to the action server kept open**: Rasa opens a new HTTP session, and so a new TCP
  connection that the action server must accept, for every action call (two to four per message).
  Each endpoint now keeps one session per event loop. Idle connections are dropped after
  ``IDLE_CONNECTION_SECONDS``, before the action server (Sanic, 5 s) would close them under a request.
  The request body (the conversation) is encoded with ``ujson`` (which Rasa and Sanic require),
  about three times faster than ``json``: encoding it was 4% of Rasa's CPU per message.
- **action calls spread over several action servers** (``civil_affairs.ops.action_failover``), when
  ``ACTION_REPLICA_URLS`` (set by the launcher) lists more than one: in turn, skipping a server that
  refuses the connection, never repeating a call that was sent.
- **the model's graph run without dask** (``servers.rasa_graph``): the same nodes with the same inputs, in an
  order planned once per set of targets, instead of a dask graph built, ordered and scheduled for
  every parse and prediction.
- **deep copies for debug lines only when debug lines are written**: Rasa's message handling, forms
  and RulePolicy deep-copy events, messages and states for every ``structlogger.debug`` call
  (``copy.deepcopy`` is evaluated before structlog drops the line), several per message. Those three
  modules use ``copy`` for nothing else (tested); their ``copy`` is now ``DebugOnlyCopy``, which
  copies when structlog's level lets debug lines through (Rasa's anonymiser then edits the copy) and
  hands the value over unchanged when the line is dropped anyway.
- **a lighter action call** (``action_call_format``): Rasa sends every action call the whole domain
  and, in every past resident message, the model's ranking of all intents; encoding it was a few
  percent of Rasa's CPU and decoding it an eighth of an action server's. The domain now goes only to
  the actions that read it (rasa-sdk's form validation, ``validate_*`` and
  ``action_validate_slot_mappings``; rasa-sdk hands the others ``{}``, which they never look at,
  tested), and past messages keep their top intent without ``intent_ranking``. The latest message,
  which the FAQ action reads whole, is sent as before. The tracker's state is built as Rasa builds
  it, without deep-copying the active form's starting message for a body encoded at once.
- **slots copied directly, the empty domain built once**: every tracker Rasa makes (each prediction
  replays the conversation on a new one, each action runs on a copy, forms build temporary ones)
  copies the domain's 25 slots with ``copy.copy``, which goes through ``__reduce_ex__`` and copyreg;
  ``slot_copy`` makes the same shallow copy (a new object of the class with the same attribute
  dict) in a third of the time. ``Domain.is_empty``, asked for every parsed message, built a whole
  empty ``Domain`` to compare with; its dict is now made once (``empty_domain_dict``).
- **one action call per form turn** (``servers.rasa_form_questions``): the form validation actions
  send the question Rasa asks next, and Rasa takes it instead of calling the ask action; the domain
  sent to ``validate_*`` actions carries ``RASA_TAKES_QUESTIONS_KEY`` to say so.
- **applied events without repeated ``isinstance``** (``servers.rasa_applied_events``): the replay of
  a conversation's events that every prediction and session check does classifies each event class
  once instead of asking ``ABCMeta`` up to nine times per event.

Everything else is Rasa's: arguments, logging, channels, endpoints.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import dataclasses
import functools
import importlib
import os
import warnings
from collections.abc import Mapping
from typing import Any

import aiohttp
import ujson

from actions.asking import RASA_TAKES_QUESTIONS_KEY
from civil_affairs.conversations.rasa_client import IDLE_CONNECTION_SECONDS
from civil_affairs.ops.action_failover import ActionFailover
from servers import rasa_applied_events, rasa_form_questions, rasa_graph

_INSTALLED = False
_KEPT_SESSIONS: list[aiohttp.ClientSession] = []


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """A validator for Rasa's action-server answer schema; the schema itself is checked once, here."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.lru_cache(maxsize=1)
def event_type_validators() -> tuple[Any, dict[str, Any]]:
    """A validator of the answer without the events' ``oneOf``, and one per event type for its branch.

    Raises ValueError if Rasa's schema stops telling its branches apart by a constant event name:
    then this shortcut would no longer be exact, and it must not be used.
    """
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    items = schema["properties"]["events"]["items"]
    branches = items.pop("oneOf")
    names = [branch["properties"]["event"]["const"] for branch in branches]
    if "event" not in items.get("required", ()) or len(set(names)) != len(names):
        raise ValueError("Rasa's event schema is no longer one branch per constant event name")
    cls = validator_for(schema)
    return cls(schema), {name: cls(branch) for name, branch in zip(names, branches, strict=True)}


def answer_is_valid(result: Any) -> bool:
    """What Rasa's full check says of an action answer, checking each event against its own branch."""
    outer, by_type = event_type_validators()
    if not outer.is_valid(result):
        return False
    events = result.get("events") or []
    return all(event["event"] in by_type and by_type[event["event"]].is_valid(event) for event in events)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with prebuilt validators (same verdicts and errors as Rasa's)."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    if answer_is_valid(result):
        return True
    error = best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def debug_lines_on() -> bool:
    """Whether structlog writes debug lines (Rasa's filtering logger has a no-op ``debug`` above DEBUG)."""
    import structlog
    from structlog._native import _nop

    wrapper = structlog.get_config().get("wrapper_class")
    return getattr(wrapper, "debug", None) is not _nop


class DebugOnlyCopy:
    """The ``copy`` module for Rasa modules that deep-copy only the arguments of their debug lines."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return copy.deepcopy(value, memo) if debug_lines_on() else value


# Rasa modules whose every use of ``copy`` is an argument of a ``structlogger.debug`` call (tested).
DEBUG_COPY_MODULES = ("rasa.core.processor", "rasa.core.actions.forms", "rasa.core.policies.rule_policy")


_RASA_ACTION_CALL_FORMAT: Any = None  # Rasa's own ``RemoteAction._action_call_format`` (tests compare with it)


def action_needs_domain(action_name: str) -> bool:
    """Whether an action reads the domain: rasa-sdk's validation actions (forms' ``validate_<form>``, slot mappings)."""
    return action_name.startswith("validate_") or action_name == "action_validate_slot_mappings"


def without_past_rankings(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` (serialised) with each resident message's ``intent_ranking`` left out (new dicts, not edited)."""
    lighter = []
    for event in events:
        parse_data = event.get("parse_data") if event.get("event") == "user" else None
        if isinstance(parse_data, dict) and "intent_ranking" in parse_data:
            event = {**event, "parse_data": {k: v for k, v in parse_data.items() if k != "intent_ranking"}}
        lighter.append(event)
    return lighter


def tracker_state_for_action(tracker: Any) -> dict[str, Any]:
    """``tracker.current_state(EventVerbosity.ALL)`` as Rasa 3.6 builds it, for a request body.

    Two differences that the encoded body does not show: the active loop's fields are not deep-copied
    (``dataclasses.asdict`` copied the whole message that started the form, on every call; the body
    is encoded at once and never edited), and past messages leave out their ``intent_ranking``.
    """
    loop = tracker.active_loop
    return {
        "sender_id": tracker.sender_id,
        "slots": tracker.current_slot_values(),
        "latest_message": tracker._latest_message_data(),
        "latest_event_time": tracker.events[-1].timestamp if len(tracker.events) > 0 else None,
        "followup_action": tracker.followup_action,
        "paused": tracker.is_paused(),
        "events": without_past_rankings([event.as_dict() for event in tracker.events]),
        "latest_input_channel": tracker.get_latest_input_channel(),
        "active_loop": {field.name: getattr(loop, field.name) for field in dataclasses.fields(loop)} if loop else {},
        "latest_action": tracker.latest_action,
        "latest_action_name": tracker.latest_action_name,
    }


def action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """``RemoteAction._action_call_format`` without what no action reads: see the module's docstring."""
    import rasa

    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state_for_action(tracker),
        "version": rasa.__version__,
    }
    rasa_sends_domain = not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        self.name()
    )
    if rasa_sends_domain and action_needs_domain(self.name()):
        result["domain"] = domain.as_dict()
        if rasa_form_questions.installed() and self.name().startswith("validate_"):
            result["domain"] = {**result["domain"], RASA_TAKES_QUESTIONS_KEY: True}
    return result


def slot_copy(self: Any) -> Any:
    """``copy.copy`` of a slot, as copyreg makes it (slots keep their attributes in ``__dict__``)."""
    cls = type(self)
    new = cls.__new__(cls)  # type: ignore[call-overload]  # as copyreg.__newobj__ does
    new.__dict__.update(self.__dict__)
    return new


@functools.lru_cache(maxsize=1)
def empty_domain_dict() -> dict[str, Any]:
    """``Domain.empty().as_dict()``, which is the same every time."""
    from rasa.shared.core.domain import Domain

    return Domain.empty().as_dict()


def domain_is_empty(self: Any) -> bool:
    """``Domain.is_empty`` without building an empty domain per call."""
    return bool(self.as_dict() == empty_domain_dict())


_EVENT_CLASSES: dict[str, Any] = {}
_RASA_RESOLVE_BY_TYPE: Any = None  # Rasa's own lookup, kept by ``install``


def resolve_event_type(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type``, remembering each class it finds (the event classes never change)."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    found = _EVENT_CLASSES.get(type_name)
    if found is not None:
        return found
    for cls in all_subclasses(Event):
        if cls.type_name == type_name:
            _EVENT_CLASSES[type_name] = cls
            return cls
    return _RASA_RESOLVE_BY_TYPE(type_name, default)  # Rasa's answer for unknown names (or an error)


class _KeptSession:
    """An endpoint's session for ``async with``, which leaves it open for the next call."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def endpoint_session(self: Any) -> _KeptSession:
    """``EndpointConfig.session``, but one session per endpoint and event loop, reused."""
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    kept_loop, kept = getattr(self, "_kept_session", (None, None))
    if kept is None or kept.closed or kept_loop is not loop:
        if kept is not None:
            _drop(kept)  # its loop is gone (tests run several loops); nothing can await its close
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        kept = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS),
            json_serialize=ujson.dumps,
        )
        self._kept_session = (loop, kept)
        _KEPT_SESSIONS.append(kept)
    return _KeptSession(kept)


def _drop(session: aiohttp.ClientSession) -> None:
    """Close a kept session's connections without an event loop (aiohttp would warn at exit)."""
    connector = session.connector
    session.detach()
    if connector is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "close() is a coroutine": closed already
            connector.close()
    if session in _KEPT_SESSIONS:
        _KEPT_SESSIONS.remove(session)


def close_kept_sessions() -> None:
    """Registered with ``atexit`` by ``install``."""
    for session in list(_KEPT_SESSIONS):
        _drop(session)


_RASA_REQUEST: Any = None  # Rasa's own ``EndpointConfig.request``, kept by ``install``
_FAILOVER: ActionFailover | None = None


async def endpoint_request(self: Any, *args: Any, **kwargs: Any) -> Any:
    """``EndpointConfig.request``; action calls go through the failover when there are several servers."""
    if _FAILOVER is not None and _FAILOVER.serves(self):
        return await _FAILOVER.request(self, _RASA_REQUEST, *args, **kwargs)
    return await _RASA_REQUEST(self, *args, **kwargs)


def action_failover(environ: Mapping[str, str]) -> ActionFailover | None:
    """The failover over ``ACTION_REPLICA_URLS`` (None for one action server)."""
    urls = [url.strip() for url in environ.get("ACTION_REPLICA_URLS", "").split(",") if url.strip()]
    return ActionFailover(urls) if len(urls) > 1 else None


def install() -> None:
    """Install the fixes into Rasa (idempotent). ``scripts/profile_message.py`` uses it too."""
    global _INSTALLED, _RASA_RESOLVE_BY_TYPE, _RASA_REQUEST, _FAILOVER, _RASA_ACTION_CALL_FORMAT
    if _INSTALLED:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.slots import Slot
    from rasa.utils.endpoints import EndpointConfig

    RemoteAction._validate_action_result = _validate_action_result
    if RemoteAction._action_call_format is not action_call_format:  # not Rasa's own when installed before
        _RASA_ACTION_CALL_FORMAT = RemoteAction._action_call_format
    RemoteAction._action_call_format = action_call_format
    EndpointConfig.session = endpoint_session
    _RASA_REQUEST = EndpointConfig.request
    _FAILOVER = action_failover(os.environ)
    EndpointConfig.request = endpoint_request
    atexit.register(close_kept_sessions)
    _RASA_RESOLVE_BY_TYPE = Event.resolve_by_type
    Event.resolve_by_type = staticmethod(resolve_event_type)
    DaskGraphRunner.run = rasa_graph.run_graph
    rasa_applied_events.install()
    rasa_form_questions.install()
    Slot.__copy__ = slot_copy
    Domain.is_empty = domain_is_empty
    for module_name in DEBUG_COPY_MODULES:
        importlib.import_module(module_name).copy = DebugOnlyCopy  # type: ignore[attr-defined]
    _INSTALLED = True
