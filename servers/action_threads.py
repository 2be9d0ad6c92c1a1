"""Actions run on worker threads, each with its own event loop, so one action's database wait does
not hold up the others.

rasa-sdk awaits every action on the action server's single event loop, and the actions query the
database synchronously (SQLAlchemy sessions): while one waited for PostgreSQL, no other call of any
conversation was served (a fifth of an action server's time under load). ``install`` makes
rasa-sdk's ``ActionExecutor.run`` hand each call to a small pool of threads; each thread keeps one
event loop for all the calls it runs. Rasa's conversation lock still serialises one conversation's
calls; the shared services (FAQ searcher, session factory, metrics) are thread-safe, and
``Delivery`` keeps an HTTP client per event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

# Action calls served at once by one action server; more would only queue on the two cores.
ACTION_THREADS = 4

_T = TypeVar("_T")


class ActionThreads:
    """A pool of threads, each running coroutines to completion on its own event loop."""

    def __init__(self, workers: int = ACTION_THREADS) -> None:
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="action", initializer=self._start_loop)

    def _start_loop(self) -> None:
        self._local.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._local.loop)

    def _complete(self, function: Callable[..., Coroutine[Any, Any, _T]], args: tuple[Any, ...]) -> _T:
        loop: asyncio.AbstractEventLoop = self._local.loop
        return loop.run_until_complete(function(*args))

    async def run(self, function: Callable[..., Coroutine[Any, Any, _T]], *args: Any) -> _T:
        """``await function(*args)`` on a worker thread; its result or exception comes back here."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._complete, function, args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


_installed: ActionThreads | None = None


def install() -> ActionThreads:
    """Make rasa-sdk's executor run every action call on worker threads (once per process)."""
    global _installed
    if _installed is not None:
        return _installed
    from rasa_sdk.executor import ActionExecutor

    on_event_loop = ActionExecutor.run
    pool = ActionThreads()

    async def run(self: ActionExecutor, action_call: Any) -> Any:
        return await pool.run(on_event_loop, self, action_call)

    ActionExecutor.run = run
    _installed = pool
    return pool
