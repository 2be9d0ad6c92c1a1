"""Rasa's ``DialogueStateTracker.applied_events`` with each event's class looked at once.

Rasa replays a conversation's events (``applied_events``) for every prediction (``past_states``
through ``generate_all_prior_trackers``), for the session check of every message and for every
``get_last_event_for``. Its loop asks ``isinstance`` of each event against up to nine event classes,
and for every execution of an active form again of each earlier event; ``Event`` is an ``ABC``, so
each of those checks runs ``ABCMeta.__instancecheck__`` in Python. In a profile of a replica under
load that was 5% of Rasa's CPU on its own, and ``applied_events`` with its helpers 10%.

Here each event's type is classified once per class (``_kind``, the same ``isinstance`` answers,
remembered by type) and the loop branches on those flags; the steps and their order are Rasa's
(``rasa/shared/core/trackers.py``, Rasa 3.6), so the applied events are the same objects in the same
order (``tests/servers/test_rasa_applied_events.py`` compares both on many generated conversations).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any, NamedTuple

from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

# Rasa's own methods (tests compare against them; ``install`` replaces them on the class).
RASA_APPLIED_EVENTS = DialogueStateTracker.applied_events
RASA_GENERATE_ALL_PRIOR_TRACKERS = DialogueStateTracker.generate_all_prior_trackers


class _Kind(NamedTuple):
    """The ``isinstance`` answers ``applied_events`` needs about one event class."""

    resets: bool  # Restarted or SessionStarted
    action_reverted: bool
    utterance_reverted: bool
    action: bool  # ActionExecuted
    user: bool  # UserUttered
    loop: bool  # ActiveLoop
    rejected: bool  # ActionExecutionRejected
    featurized: bool  # ActionExecuted, UserUttered or DefinePrevUserUtteredFeaturization


_KINDS: dict[type, _Kind] = {}


def _kind(event: Event) -> _Kind:
    """The flags of ``event``'s class, from ``isinstance`` the first time a class is seen."""
    kind = _KINDS.get(type(event))
    if kind is None:
        kind = _Kind(
            resets=isinstance(event, (Restarted, SessionStarted)),
            action_reverted=isinstance(event, ActionReverted),
            utterance_reverted=isinstance(event, UserUtteranceReverted),
            action=isinstance(event, ActionExecuted),
            user=isinstance(event, UserUttered),
            loop=isinstance(event, ActiveLoop),
            rejected=isinstance(event, ActionExecutionRejected),
            featurized=isinstance(event, (ActionExecuted, UserUttered, DefinePrevUserUtteredFeaturization)),
        )
        _KINDS[type(event)] = kind
    return kind


def _undo_till_previous(flag: int, done: list[Event]) -> None:
    """Rasa's ``_undo_till_previous``: drop the events from the last one of a kind (flag index) on."""
    for index in range(len(done) - 1, -1, -1):
        if _kind(done[index])[flag]:
            del done[index:]
            return
    del done[:]


_ACTION = _Kind._fields.index("action")
_USER = _Kind._fields.index("user")


def _first_loop_execution_or_unhappy_path(loop_action_name: str, applied: list[Event]) -> bool:
    """Rasa's ``_first_loop_execution_or_unhappy_path`` (with ``_is_within_unhappy_path``)."""
    next_action: str | None = None
    for event in reversed(applied):
        kind = _kind(event)
        if kind.loop and event.name is None:
            return True
        if kind.rejected and event.action_name == loop_action_name:
            return True
        if kind.user and next_action is not None and next_action != loop_action_name:
            return True
        if kind.action:
            if event.action_name == loop_action_name:
                return False
            next_action = event.action_name
    return True


def _undo_till_previous_loop_execution(loop_action_name: str, done: list[Event]) -> None:
    """Rasa's ``_undo_till_previous_loop_execution``: after the loop's last run, keep only unfeaturized events."""
    start = 0
    for index in range(len(done) - 1, -1, -1):
        event = done[index]
        if _kind(event).action and event.action_name == loop_action_name:
            start = index + 1
            break
    done[start:] = [event for event in done[start:] if not _kind(event).featurized]


def applied_events_of(events: Iterable[Event]) -> list[Event]:
    """The events that apply (without reverted ones), as Rasa's ``applied_events`` gives them."""
    events = list(events)
    loop_names = {event.name for event in events if _kind(event).loop and event.name}
    applied: list[Event] = []
    for event in events:
        kind = _kind(event)
        if kind.resets:
            applied = []
        elif kind.action_reverted:
            _undo_till_previous(_ACTION, applied)
        elif kind.utterance_reverted:
            _undo_till_previous(_USER, applied)
            _undo_till_previous(_ACTION, applied)
        elif (
            kind.action
            and event.action_name in loop_names
            and not _first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            _undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


def applied_events(self: Any) -> list[Event]:
    """``DialogueStateTracker.applied_events``."""
    return applied_events_of(self.events)


def generate_all_prior_trackers(self: Any) -> Generator[tuple[Any, bool], None, None]:
    """``DialogueStateTracker.generate_all_prior_trackers``, classifying each event once."""
    tracker = self.init_copy()
    for event in self.applied_events():
        if _kind(event).action:
            yield tracker, event.hide_rule_turn
        tracker.update(event)
    yield tracker, False


def install() -> None:
    """Replace the two tracker methods (``servers.rasa_fixes.install`` calls this)."""
    DialogueStateTracker.applied_events = applied_events
    DialogueStateTracker.generate_all_prior_trackers = generate_all_prior_trackers
