"""Conversation locks shared by Rasa replicas: atomic tickets, order kept, dead holders dropped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from civil_affairs.ops import lock_store as lock_module
from civil_affairs.ops.lock_store import ReplicaLockStore
from tests.conftest import REDIS_URL
from tests.helpers.event_loop import ticks_while


@pytest.fixture
def replicas(redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ReplicaLockStore]]:
    """Two lock stores on one Redis, standing for two Rasa replicas (short heartbeats for the test)."""
    monkeypatch.setattr(lock_module, "HEARTBEAT_INTERVAL_SECONDS", 0.1)
    monkeypatch.setattr(lock_module, "HEARTBEAT_TTL_SECONDS", 0.5)
    stores = [ReplicaLockStore(redis_url=REDIS_URL, key_prefix=redis_prefix) for _ in range(2)]
    yield stores
    for store in stores:
        store.close()


def test_tickets_issued_at_the_same_moment_by_two_replicas_are_distinct(replicas: list[ReplicaLockStore]) -> None:
    with ThreadPoolExecutor(8) as pool:
        tickets = list(pool.map(lambda i: replicas[i % 2].issue_ticket("tg-1", 30), range(40)))
    assert sorted(tickets) == list(range(40))


async def test_one_conversation_is_served_in_ticket_order_across_replicas(replicas: list[ReplicaLockStore]) -> None:
    served: list[int] = []

    async def handle(number: int) -> None:
        async with replicas[number % 2].lock("web-abc", wait_time_in_seconds=1):
            served.append(number)
            await asyncio.sleep(0.02)

    tasks = []
    for number in range(6):
        tasks.append(asyncio.create_task(handle(number)))
        await asyncio.sleep(0.005)  # issue tickets in this order
    started = time.monotonic()
    await asyncio.gather(*tasks)
    assert served == list(range(6))
    # Waiters look again every 50 ms, not once a second as Rasa's own store does.
    assert time.monotonic() - started < 2.0
    assert replicas[0].get_lock("web-abc") is None  # the last ticket took the lock with it


async def test_the_ticket_of_a_replica_that_died_is_dropped_once_its_heartbeat_stops(
    replicas: list[ReplicaLockStore],
) -> None:
    dying, survivor = replicas
    dying.issue_ticket("tg-7", 60)  # held, never returned: the process is killed
    dying.close()
    started = time.monotonic()
    async with survivor.lock("tg-7"):
        waited = time.monotonic() - started
    assert waited < 3.0  # not the 60 s of the ticket's lifetime


async def test_a_live_holder_keeps_its_ticket(replicas: list[ReplicaLockStore]) -> None:
    holder, other = replicas
    holder.issue_ticket("tg-8", 60)

    async def take() -> None:
        async with other.lock("tg-8"):
            pass

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(take(), timeout=1.5)


async def test_without_redis_locks_are_kept_in_memory() -> None:
    store = ReplicaLockStore(redis_url="", key_prefix="x")
    async with store.lock("web-1"):
        assert store.get_lock("web-1") is not None
    assert store.get_lock("web-1") is None


async def test_waiting_for_redis_does_not_stall_other_conversations(
    replicas: list[ReplicaLockStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = replicas[0]
    issue, cleanup = store.issue_ticket, store.cleanup

    def slow_issue(conversation_id: str, lifetime: float = 60) -> int:
        time.sleep(0.2)  # a Redis far away, or busy
        return issue(conversation_id, lifetime)

    def slow_cleanup(conversation_id: str, ticket: int) -> None:
        time.sleep(0.2)
        cleanup(conversation_id, ticket)

    monkeypatch.setattr(store, "issue_ticket", slow_issue)
    monkeypatch.setattr(store, "cleanup", slow_cleanup)

    async def handle() -> None:
        async with store.lock("web-slow"):
            pass

    # Blocking calls on the event loop would leave the ticker no turn for 0.4 s.
    assert await ticks_while(handle()) >= 15
    assert store.get_lock("web-slow") is None
