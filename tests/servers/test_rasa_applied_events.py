"""``servers.rasa_applied_events`` gives exactly Rasa's applied events and prior trackers.

Generated conversations mix everything Rasa's replay treats specially (forms running, rejected and
interrupted, loops deactivated, reverted actions and utterances, restarts and new sessions) and the
answers are compared with Rasa's own methods event by event (the same objects, in the same order),
and the prior trackers by their states.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    FollowupAction,
    LegacyForm,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.slots import AnySlot
from rasa.shared.core.trackers import DialogueStateTracker

from servers import rasa_applied_events
from servers.rasa_applied_events import RASA_APPLIED_EVENTS, RASA_GENERATE_ALL_PRIOR_TRACKERS

LOOPS = ["booking_form", "status_lookup_form"]
ACTIONS = ["action_listen", "booking_form", "status_lookup_form", "action_answer_faq", "utter_greet"]


def random_event(rng: random.Random) -> Event:
    """One event, weighted towards the ones a conversation with forms is made of."""
    roll = rng.random()
    if roll < 0.30:
        return ActionExecuted(rng.choice(ACTIONS), hide_rule_turn=rng.random() < 0.3)
    if roll < 0.45:
        return UserUttered(
            "你好",
            {"name": rng.choice(["greet", "inform", "book"]), "confidence": 1.0},
            [{"entity": "x", "value": "1"}],
        )
    if roll < 0.55:
        return ActiveLoop(rng.choice([*LOOPS, None]))
    if roll < 0.60:
        return LegacyForm(rng.choice([*LOOPS, None]))
    if roll < 0.67:
        return ActionExecutionRejected(rng.choice(LOOPS))
    if roll < 0.72:
        return SlotSet("requested_slot", rng.choice(["a", "b", None]))
    if roll < 0.77:
        return DefinePrevUserUtteredFeaturization(rng.random() < 0.5)
    if roll < 0.81:
        return BotUttered("好的")
    if roll < 0.85:
        return ActionReverted()
    if roll < 0.89:
        return UserUtteranceReverted()
    if roll < 0.92:
        return LoopInterrupted(rng.random() < 0.5)
    if roll < 0.94:
        return FollowupAction("action_answer_faq")
    if roll < 0.97:
        return SessionStarted()
    return Restarted()


def conversation(seed: int) -> list[Event]:
    """A session start, then 1–120 generated events."""
    rng = random.Random(seed)
    return [SessionStarted(), ActionExecuted("action_listen")] + [random_event(rng) for _ in range(rng.randint(1, 120))]


def tracker_of(events: list[Event]) -> DialogueStateTracker:
    tracker = DialogueStateTracker("fuzz", [AnySlot("requested_slot", mappings=[])])
    for event in events:
        tracker.update(event)
    return tracker


def test_kept_rasas_own_methods() -> None:
    """The comparisons below are against Rasa's code, not against the replacement."""
    assert RASA_APPLIED_EVENTS.__module__ == "rasa.shared.core.trackers"
    assert RASA_GENERATE_ALL_PRIOR_TRACKERS.__module__ == "rasa.shared.core.trackers"


@pytest.mark.parametrize("seed", range(400))
def test_applied_events_are_rasas(seed: int) -> None:
    tracker = tracker_of(conversation(seed))
    expected = RASA_APPLIED_EVENTS(tracker)
    got = rasa_applied_events.applied_events(tracker)
    assert [id(event) for event in got] == [id(event) for event in expected]


def prior_states(tracker: DialogueStateTracker, generate: Any) -> list[tuple[Any, bool]]:
    return [
        (prior.current_state(), hidden, len(prior.events), prior.active_loop_name)
        for prior, hidden in generate(tracker)
    ]


@pytest.mark.parametrize("seed", range(0, 400, 7))
def test_prior_trackers_are_rasas(seed: int) -> None:
    tracker = tracker_of(conversation(seed))
    assert prior_states(tracker, rasa_applied_events.generate_all_prior_trackers) == prior_states(
        tracker, RASA_GENERATE_ALL_PRIOR_TRACKERS
    )


def test_forms_are_undone_as_rasa_does() -> None:
    """A form's later run on its happy path is undone with the turn before it (Rasa's loop rule): the
    form's state is what it was after its first run."""
    events = [
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("约", {"name": "book", "confidence": 1.0}),
        ActionExecuted("booking_form"),
        ActiveLoop("booking_form"),
        SlotSet("requested_slot", "booking_date"),
        ActionExecuted("action_listen"),
        UserUttered("明天", {"name": "inform", "confidence": 1.0}),
        DefinePrevUserUtteredFeaturization(False),
        ActionExecuted("booking_form"),
    ]
    tracker = tracker_of(events)
    got = rasa_applied_events.applied_events(tracker)
    assert [id(event) for event in got] == [id(event) for event in RASA_APPLIED_EVENTS(tracker)]
    assert [type(event).__name__ for event in got] == [  # a session start drops what came before it
        "ActionExecuted",
        "UserUttered",
        "ActionExecuted",
        "ActiveLoop",
        "SlotSet",
    ]
