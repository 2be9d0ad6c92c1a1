"""Checking that a coroutine leaves the event loop free while it waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


async def ticks_while(awaitable: Awaitable[object], interval: float = 0.01) -> int:
    """How often another coroutine of the same event loop ran while ``awaitable`` was awaited."""
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            await asyncio.sleep(interval)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        await awaitable
    finally:
        done = True
        await task
    return ticks
