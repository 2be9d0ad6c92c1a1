"""Blocking calls (database, Redis) made from an event loop without stalling it.

Rasa awaits its tracker and lock stores from its one event loop; a synchronous round trip there
holds up every other conversation of the process until the server answers. The stores hand such
calls to a few threads of their own instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")


class WorkerThreads:
    """A small pool of threads that run blocking calls for coroutines."""

    def __init__(self, name: str, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    async def run(self, function: Callable[..., _T], *args: Any) -> _T:
        """``function(*args)`` on one of the threads; the event loop serves others meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
