"""With several Rasa replicas the channels send each message to the least busy one.

A hash of the sender alone put most conversations on one replica under load while the other
idled; the conversation's own replica still wins among equally busy ones (and when idle).
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web

from civil_affairs.conversations.rasa_client import RasaClient
from tests.fake_rasa_rest import Handler, fake_rasa


def sender_for(replica: int, skip: int = 0) -> str:
    """A sender id whose own replica (by hash) is ``replica`` of two."""
    found = (f"web-{n}" for n in range(1000) if zlib.crc32(f"web-{n}".encode()) % 2 == replica)
    for _ in range(skip):
        next(found)
    return next(found)


async def test_a_busy_replica_is_passed_over_and_an_idle_client_keeps_the_own_replica() -> None:
    seen: list[str] = []
    release = asyncio.Event()

    def replica(name: str) -> Handler:
        async def answer(request: web.Request) -> web.Response:
            body = await request.json()
            seen.append(name)
            if body["message"].startswith("slow"):
                await release.wait()
            return web.json_response([{"text": "好的"}])

        return answer

    async with fake_rasa(replica("a")) as a, fake_rasa(replica("b")) as b:
        client = RasaClient([a, b], 5, rest_token="t" * 20)
        first, second, third = sender_for(0), sender_for(0, skip=1), sender_for(0, skip=2)
        # Idle: the conversation's own replica.
        await client.send(first, "你好")
        assert seen[-1] == "a"
        # a holds a message; the next conversation whose own replica is a goes to b.
        slow = asyncio.create_task(client.send(second, "slow 低保怎么申请"))
        while len(seen) < 2:
            await asyncio.sleep(0.01)
        assert seen[-1] == "a"
        await client.send(third, "高龄津贴")
        assert seen[-1] == "b"
        release.set()
        await slow
        # Idle again: back to its own replica.
        await client.send(third, "谢谢")
        assert seen[-1] == "a"
        await client.aclose()
