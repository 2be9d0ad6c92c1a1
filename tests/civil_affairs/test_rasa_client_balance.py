"""With several Rasa replicas the channels send each message to the least busy one.

A hash of the sender alone put most conversations on one replica under load while the other
idled; the conversation's own replica still wins among equally busy ones (and when idle).
"""

from __future__ import annotations

import asyncio
import zlib

import httpx

from civil_affairs.conversations.rasa_client import RasaClient


def sender_for(replica: int, skip: int = 0) -> str:
    """A sender id whose own replica (by hash) is ``replica`` of two."""
    found = (f"web-{n}" for n in range(1000) if zlib.crc32(f"web-{n}".encode()) % 2 == replica)
    for _ in range(skip):
        next(found)
    return next(found)


async def test_a_busy_replica_is_passed_over_and_an_idle_client_keeps_the_own_replica() -> None:
    seen: list[tuple[str, str]] = []
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        sender = request.content.decode()
        seen.append((request.url.host, sender))
        if "slow" in sender:
            await release.wait()
        return httpx.Response(200, json=[{"text": "好的"}])

    client = RasaClient(
        ["http://a.test", "http://b.test"],
        5,
        rest_token="t" * 20,
        http=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
    )
    first, second, third = sender_for(0), sender_for(0, skip=1), sender_for(0, skip=2)
    # Idle: the conversation's own replica.
    await client.send(first, "你好")
    assert seen[-1][0] == "a.test"
    # a.test holds a message; the next conversation whose own replica is a.test goes to b.test.
    slow = asyncio.create_task(client.send(second, "slow 低保怎么申请"))
    while len(seen) < 2:
        await asyncio.sleep(0)
    assert seen[-1][0] == "a.test"
    await client.send(third, "高龄津贴")
    assert seen[-1][0] == "b.test"
    release.set()
    await slow
    # Idle again: back to its own replica.
    await client.send(third, "谢谢")
    assert seen[-1][0] == "a.test"
    await client.aclose()
