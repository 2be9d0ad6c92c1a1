"""Update processor: different chats concurrently, the updates of one chat strictly in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.update_ledger import UpdateLedger

logger = logging.getLogger(__name__)

# PTB's own semaphore is taken *before* do_process_update. On Python 3.10 asyncio.Semaphore is not
# FIFO under contention, so a later update of a chat could overtake an earlier one there. We keep
# that semaphore effectively open and apply the real limit after the per-chat lock instead.
_OUTER_LIMIT = 1_000_000


@dataclass
class _ChatSlot:
    """The lock of one chat and how many updates hold or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat one after another."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates=_OUTER_LIMIT)
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        self._limit = max_concurrent_updates
        self._running: asyncio.Semaphore | None = None
        self._slots: dict[Hashable, _ChatSlot] = {}
        # Set once the database is open (post_init): each update is then claimed and marked answered.
        self.ledger: UpdateLedger | None = None

    @property
    def active_chats(self) -> int:
        """How many chats currently have an update running or waiting."""
        return len(self._slots)

    async def initialize(self) -> None:
        """Create the global concurrency limit inside the running event loop."""
        self._running = asyncio.Semaphore(self._limit)

    async def shutdown(self) -> None:
        """Forget the per-chat locks."""
        self._slots.clear()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await ``coroutine`` once the chat's earlier updates are done and a slot is free."""
        if self._running is None:
            self._running = asyncio.Semaphore(self._limit)
        key = _ordering_key(update)
        if key is None:
            async with self._running:
                await self._handle_once(update, coroutine)
            return
        slot = self._slots.setdefault(key, _ChatSlot())
        slot.users += 1
        try:
            # asyncio.Lock wakes waiters first-in first-out, and tasks reach this point in the
            # order PTB took the updates from its queue, so one chat's updates keep their order.
            async with slot.lock:
                async with self._running:
                    await self._handle_once(update, coroutine)
        finally:
            slot.users -= 1
            if slot.users == 0 and self._slots.get(key) is slot:
                del self._slots[key]

    async def _handle_once(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers unless another run of the bot already handled this update."""
        ledger = self.ledger
        if ledger is None or not isinstance(update, Update):
            await coroutine
            return
        if not await ledger.claim(update):
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # never awaited: the update was handled already
            return
        await coroutine
        # Only a completed handler counts: one cut short (shutdown) is recovered by the next run.
        await ledger.finish(update.update_id)


def _ordering_key(update: object) -> Hashable | None:
    """The chat (or, lacking one, the user) whose updates must stay in order."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None
