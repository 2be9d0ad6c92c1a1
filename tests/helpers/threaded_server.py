"""An aiohttp server run in its own thread and event loop, for the fake servers of the tests.

Subclasses implement ``_serve()`` (start listening) and may extend ``_cleanup()``; ``start()``
returns once the port listens and re-raises a failure to start, ``stop()`` ends loop and thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TypeVar

T = TypeVar("T", bound="ThreadedServer")


class ThreadedServer:
    """Background-thread lifecycle shared by the fake Telegram and fake Rasa servers."""

    thread_name = "test-server"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self: T) -> T:
        """Start serving in a background thread; return self once the port is listening."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # surfaced to start()'s caller
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{self.thread_name} did not start")
        if errors:
            raise RuntimeError(f"{self.thread_name} failed to start") from errors[0]
        return self

    def stop(self) -> None:
        """Stop serving: further connections are refused."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def _serve(self) -> None:
        raise NotImplementedError

    async def _cleanup(self) -> None:
        """Cancel what is still running so the loop can close."""
        current = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
