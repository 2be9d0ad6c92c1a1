"""Rasa's conversations in the application database: masked when stored, rebuilt when read back."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from sqlalchemy import delete, select

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import TrackerEvent
from civil_affairs.ops.tracker_events import MESSAGE_ID_KEY, answered_turn, mask_event
from civil_affairs.ops.tracker_store import MaskingSQLTrackerStore
from civil_affairs.sealing import seal
from tests.helpers.event_loop import ticks_while

ID_NUMBER = "361122199001011230"
PHONE = "13979312456"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
def store(database_url: str, domain: Domain) -> Iterator[MaskingSQLTrackerStore]:
    """The store on the suite's database (SQLite, and PostgreSQL when reachable)."""
    store = MaskingSQLTrackerStore(domain=domain, url=database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def sender(database_url: str) -> Iterator[str]:
    """A sender id of this test; its events are removed afterwards."""
    sender_id = f"test-{uuid.uuid4().hex}"
    yield sender_id
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        session.execute(delete(TrackerEvent).where(TrackerEvent.sender_id == sender_id))
    engine.dispose()


def stored_rows(store: MaskingSQLTrackerStore, sender_id: str) -> list[TrackerEvent]:
    with store.sessionmaker() as session:
        return list(
            session.scalars(select(TrackerEvent).where(TrackerEvent.sender_id == sender_id).order_by(TrackerEvent.id))
        )


def user_says(text: str, message_id: str = "") -> UserUttered:
    parse_data = {
        "text": text,
        "intent": {"name": "inform", "confidence": 0.9},
        "entities": [{"entity": "id_number", "value": ID_NUMBER, "start": 0, "end": 18}],
    }
    return UserUttered(
        text,
        parse_data["intent"],
        parse_data["entities"],
        parse_data,
        metadata={MESSAGE_ID_KEY: message_id} if message_id else None,
    )


async def test_personal_numbers_are_masked_before_they_are_stored(store: MaskingSQLTrackerStore, sender: str) -> None:
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(user_says(f"我的身份证号是{ID_NUMBER}，电话{PHONE}"))
    tracker.update(SlotSet("party1_name", "张伟"))
    tracker.update(SlotSet("party1_id", ID_NUMBER))  # a slot that should never hold one
    tracker.update(SlotSet("booking_phone", {"numbers": [PHONE]}))
    tracker.update(BotUttered(f"您填写的号码是{ID_NUMBER}", {"buttons": [{"title": PHONE, "payload": "/x"}]}))
    await store.save(tracker)

    raw = " ".join(row.data for row in stored_rows(store, sender))
    assert ID_NUMBER not in raw and PHONE not in raw
    assert "361***********1230" in raw and "139****2456" in raw
    restored = await store.retrieve(sender)
    assert restored is not None
    assert restored.get_slot("party1_id") == "361***********1230"
    assert restored.get_slot("booking_phone") == {"numbers": ["139****2456"]}
    assert restored.get_slot("party1_name") == "张伟"
    assert restored.latest_message.text == "我的身份证号是361***********1230，电话139****2456"


async def test_a_restored_tracker_continues_with_only_new_events_appended(
    store: MaskingSQLTrackerStore, sender: str, domain: Domain
) -> None:
    sealed = seal(ID_NUMBER, "test-secret")
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(user_says("我想预约结婚登记"))
    tracker.update(SlotSet("party1_id", sealed))
    await store.save(tracker)
    count = len(stored_rows(store, sender))

    # A different store object stands for a restarted Rasa or another replica.
    other = MaskingSQLTrackerStore(domain=domain, url=str(store.engine.url.render_as_string(False)))
    try:
        restored = await other.retrieve(sender)
        assert restored is not None and restored.get_slot("party1_id") == sealed  # sealed values survive
        restored.update(user_says("确认"))
        await other.save(restored)
    finally:
        other.engine.dispose()
    rows = stored_rows(store, sender)
    assert len(rows) == count + 1 and rows[-1].type_name == "user"


async def test_the_answer_to_a_tagged_message_can_be_found_again(store: MaskingSQLTrackerStore, sender: str) -> None:
    tracker = await store.get_or_create_tracker(sender)
    for message_id, answer in (("m-1", "第一个回答"), ("m-2", "第二个回答")):
        tracker.update(user_says("问题", message_id))
        tracker.update(ActionExecuted("action_answer_faq"))
        tracker.update(BotUttered(answer, {"buttons": [{"title": "转人工", "payload": "/request_human"}]}))
        tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)

    with store.sessionmaker() as session:
        assert answered_turn(sender, "m-1", session=session) == [
            {"text": "第一个回答", "buttons": [{"title": "转人工", "payload": "/request_human"}]}
        ]
        assert answered_turn(sender, "m-2", session=session)[0]["text"] == "第二个回答"
        assert answered_turn(sender, "m-3", session=session) is None


def test_masking_leaves_names_timestamps_and_opaque_tokens_alone() -> None:
    token = seal(PHONE, "k")
    event = mask_event({"event": "slot", "timestamp": 1.5, "name": "booking_phone", "value": token})
    assert event == {"event": "slot", "timestamp": 1.5, "name": "booking_phone", "value": token}
    hashed = "ab13912345678cd" + "0" * 50  # a keyed hash whose hex digits look like a phone number
    assert mask_event({"event": "slot", "name": "id_hash", "value": hashed})["value"] == hashed
    user = mask_event(json.loads(json.dumps(SessionStarted().as_dict())))
    assert user["event"] == "session_started"


def test_token_like_resident_text_is_masked_all_the_same() -> None:
    """Only hashes and sealed values are exempt: long hyphenated text once passed as an "opaque token"."""
    typed = "110105-19491231-002X-13812345678-please"
    event = mask_event({"event": "user", "text": typed, "parse_data": {"text": typed, "entities": []}})
    assert "19491231" not in json.dumps(event) and "12345678" not in json.dumps(event)
    assert event["text"] == "110***********002X-138****5678-please"
    slot = mask_event({"event": "slot", "name": "note", "value": "A" * 20 + "_13812345678_" + "B" * 20})
    assert "13812345678" not in slot["value"]


async def test_only_the_current_session_is_read_back_as_rasas_own_query_reads_it(
    store: MaskingSQLTrackerStore, sender: str, domain: Domain
) -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, domain.slots)
    for event in [
        ActionExecuted("action_session_start", timestamp=100.0),
        SessionStarted(timestamp=100.5),
        ActionExecuted("action_listen", timestamp=101.0),
        UserUttered("第一次", timestamp=102.0),
        ActionExecuted("action_session_start", timestamp=200.0),
        SessionStarted(timestamp=200.5),
        SlotSet("last_faq_key", "dibao-apply", timestamp=200.5),
        ActionExecuted("action_listen", timestamp=201.0),
        UserUttered("第二次", timestamp=202.0),
    ]:
        tracker.update(event)
    await store.save(tracker)
    restored = await store.retrieve(sender)
    assert restored is not None
    with store.sessionmaker() as session:
        rasas = [
            json.loads(row.data) for row in store._event_query(session, sender, fetch_events_from_all_sessions=False)
        ]
    assert [e.as_dict() for e in restored.events] == [
        e.as_dict() for e in DialogueStateTracker.from_dict(sender, rasas, domain.slots).events
    ]
    assert [getattr(e, "text", None) for e in restored.events if isinstance(e, UserUttered)] == ["第二次"]
    assert restored.get_slot("last_faq_key") == "dibao-apply"


async def test_waiting_for_the_database_does_not_stall_other_conversations(
    store: MaskingSQLTrackerStore, sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = store.init_tracker(sender)
    tracker.update(user_says("你好"))
    read, append = store._read_current_session, store._append

    def slow_read(sender_id: str) -> object:
        time.sleep(0.2)  # a database far away, or busy
        return read(sender_id)

    def slow_append(rows: list) -> None:
        time.sleep(0.2)
        append(rows)

    monkeypatch.setattr(store, "_read_current_session", slow_read)
    monkeypatch.setattr(store, "_append", slow_append)
    await store.save(tracker)  # not retrieved here: compared with the table

    async def round_trip() -> None:
        restored = await store.retrieve(sender)
        assert restored is not None
        restored.update(user_says("低保怎么申请"))
        await store.save(restored)

    assert await ticks_while(round_trip()) >= 15
    assert [row.type_name for row in stored_rows(store, sender)].count("user") == 2
