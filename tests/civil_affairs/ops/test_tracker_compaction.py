"""A long conversation costs what a short one does: Rasa gets a compacted tracker of the last turns.

The work Rasa does per message is proportional to the events it replays and to the dialogue
states the policies compute from them (``past_states``); both are counted here, not timed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from unittest import mock

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import delete, func, select

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import TrackerEvent
from civil_affairs.ops.tracker_store import KEEP_TURNS, MaskingSQLTrackerStore, compact_rows


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
def store(database_url: str, domain: Domain) -> Iterator[MaskingSQLTrackerStore]:
    store = MaskingSQLTrackerStore(domain=domain, url=database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def sender(database_url: str) -> Iterator[str]:
    sender_id = f"test-{uuid.uuid4().hex}"
    yield sender_id
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        session.execute(delete(TrackerEvent).where(TrackerEvent.sender_id == sender_id))
    engine.dispose()


def stored_count(store: MaskingSQLTrackerStore, sender_id: str) -> int:
    with store.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(TrackerEvent).where(TrackerEvent.sender_id == sender_id))


def user(text: str, intent: str = "ask_benefits") -> UserUttered:
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.9},
        [],
        {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
    )


def session_start() -> list:
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def faq_turn(n: int) -> list:
    """One policy question and its answer, as Rasa stores them."""
    return [
        user(f"低保怎么申请{n}"),
        ActionExecuted("action_answer_faq"),
        BotUttered(f"答案{n}"),
        SlotSet("last_faq_query", f"低保怎么申请{n}"),
        SlotSet("misunderstood_count", float(n % 2)),
        ActionExecuted("action_listen"),
    ]


def form_turn(text: str, slot: str | None = None, value: object = None) -> list:
    events = [user(text, "inform"), ActionExecuted("booking_form")]
    if slot:
        events.append(SlotSet(slot, value))
    return events + [BotUttered("下一步"), ActionExecuted("action_listen")]


async def talk(store: MaskingSQLTrackerStore, sender_id: str, turns: list[list]) -> DialogueStateTracker:
    """Each turn as the processor does it: retrieve, add the turn's events, save."""
    tracker = None
    for events in turns:
        tracker = await store.retrieve(sender_id)
        if tracker is None:
            tracker = DialogueStateTracker(sender_id, store.domain.slots)
        for event in events:
            tracker.update(event)
        await store.save(tracker)
    assert tracker is not None
    return tracker


def states_computed(tracker: DialogueStateTracker, domain: Domain) -> int:
    """Dialogue states one policy prediction computes on this tracker (Domain.get_active_state calls)."""
    with mock.patch.object(Domain, "get_active_state", autospec=True, side_effect=Domain.get_active_state) as counted:
        tracker.past_states(domain)
    return counted.call_count


async def test_work_per_message_stops_growing_with_the_conversation(
    store: MaskingSQLTrackerStore, sender: str, domain: Domain
) -> None:
    await talk(store, sender, [session_start()] + [faq_turn(n) for n in range(20)])
    at_20 = await store.retrieve(sender)
    await talk(store, sender, [faq_turn(n) for n in range(20, 80)])
    at_80 = await store.retrieve(sender)
    assert at_20 is not None and at_80 is not None

    assert stored_count(store, sender) == 3 + 80 * 6  # nothing stored is lost or doubled
    assert len(at_80.events) == len(at_20.events) < 3 + (KEEP_TURNS + 2) * 6
    assert states_computed(at_80, domain) == states_computed(at_20, domain) <= 2 * (KEEP_TURNS + 1)


async def test_compacted_tracker_is_in_the_same_state_as_the_whole_one(
    store: MaskingSQLTrackerStore, sender: str, domain: Domain
) -> None:
    turns = [session_start()] + [faq_turn(n) for n in range(12)]
    turns += [[ConversationPaused()] + faq_turn(12)]
    turns += [faq_turn(n) for n in range(13, 30)]
    await talk(store, sender, turns)

    compacted = await store.retrieve(sender)
    whole = await store.retrieve_full_tracker(sender)
    assert compacted is not None and whole is not None
    assert len(compacted.events) < len(whole.events) / 4
    assert compacted.current_slot_values() == whole.current_slot_values()
    assert compacted.get_slot("last_faq_query") == "低保怎么申请29"
    assert compacted.is_paused() and whole.is_paused()
    assert compacted.latest_message.text == whole.latest_message.text
    assert compacted.latest_action_name == whole.latest_action_name
    # The states the rules look at (the last turns) are the same.
    assert compacted.past_states(domain)[-2 * KEEP_TURNS + 1 :] == whole.past_states(domain)[-2 * KEEP_TURNS + 1 :]


async def test_saving_a_compacted_tracker_appends_only_its_new_events(
    store: MaskingSQLTrackerStore, sender: str
) -> None:
    await talk(store, sender, [session_start()] + [faq_turn(n) for n in range(15)])
    before = stored_count(store, sender)
    tracker = await store.retrieve(sender)
    assert tracker is not None
    for event in faq_turn(99):
        tracker.update(event)
    await store.save(tracker)
    await store.save(tracker)  # saving twice stores nothing twice
    assert stored_count(store, sender) == before + 6
    whole = await store.retrieve_full_tracker(sender)
    assert whole is not None and whole.get_slot("last_faq_query") == "低保怎么申请99"
    assert [e.text for e in whole.events if isinstance(e, UserUttered)][-2:] == ["低保怎么申请14", "低保怎么申请99"]


async def test_a_long_form_is_never_cut(store: MaskingSQLTrackerStore, sender: str) -> None:
    """The booking action identifies a form run by its activation event: it stays in the tracker."""
    turns = [session_start()] + [faq_turn(n) for n in range(10)]
    turns += [
        [
            user("我想预约结婚登记", "book_appointment"),
            ActionExecuted("booking_form"),
            ActiveLoop("booking_form"),
            SlotSet("requested_slot", "booking_kind"),
            BotUttered("办什么？"),
            ActionExecuted("action_listen"),
        ]
    ]
    turns += [form_turn(f"回答{n}", "booking_kind", "marriage") for n in range(2 * KEEP_TURNS)]
    await talk(store, sender, turns)
    tracker = await store.retrieve(sender)
    assert tracker is not None
    assert tracker.active_loop_name == "booking_form"
    assert any(isinstance(e, ActiveLoop) and e.name == "booking_form" for e in tracker.events)
    assert len(tracker.events) < len(list((await store.retrieve_full_tracker(sender)).events))


async def test_slots_reset_before_the_cut_stay_reset(store: MaskingSQLTrackerStore, sender: str) -> None:
    turns = [session_start(), [SlotSet("booking_code", "ABC123")] + faq_turn(0), [AllSlotsReset()] + faq_turn(1)]
    turns += [faq_turn(n) for n in range(2, 20)]
    await talk(store, sender, turns)
    tracker = await store.retrieve(sender)
    whole = await store.retrieve_full_tracker(sender)
    assert tracker is not None and whole is not None
    assert tracker.get_slot("booking_code") is None
    assert tracker.current_slot_values() == whole.current_slot_values()


def test_short_sessions_are_not_compacted() -> None:
    rows = [(1, "action", "action_session_start"), (2, "session_started", None), (3, "action", "action_listen")]
    for turn in range(KEEP_TURNS):
        base = 4 + turn * 3
        rows += [(base, "user", None), (base + 1, "action", "action_answer_faq"), (base + 2, "action", "action_listen")]
    assert compact_rows(rows) is None
    rows += [(100, "user", None), (101, "action", "action_answer_faq"), (102, "action", "action_listen")]
    compaction = compact_rows(rows)
    assert compaction is not None and compaction.head_ids == [2] and compaction.tail_from == 6
