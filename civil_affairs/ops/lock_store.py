"""Rasa's per-conversation lock, shared by several Rasa replicas through Redis (``REDIS_URL``).

Rasa takes a ticket lock per conversation before handling a message, so the messages of one
conversation are handled one at a time and in order, whichever replica receives them. Rasa's own
``RedisLockStore`` has three weaknesses when replicas come and go:

- issuing and returning a ticket is read-modify-write without a transaction, so two replicas
  issuing at the same moment can both get ticket 0;
- a replica killed while it holds a ticket blocks the conversation until the ticket expires
  (``TICKET_LOCK_LIFETIME``, 60 s);
- a waiting message looks again only once a second.

This store changes tickets in Redis transactions (WATCH/MULTI), records which process holds each
ticket, lets a waiting replica drop a ticket whose holder's heartbeat key has expired (the holder
died), and looks again every 50 ms. Without ``REDIS_URL`` it keeps locks in memory, which is right
for a single Rasa server. Configured in ``endpoints.yml`` (``lock_store: type: …``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from civil_affairs.config import Settings
from civil_affairs.ops.worker_threads import WorkerThreads

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 0.5
# A holder silent this long is dead: long enough for a replica busy on the CPU to stay alive.
HEARTBEAT_TTL_SECONDS = 3.0
WAIT_SECONDS = 0.05
# Threads that wait for Redis for one Rasa process (conversations taking or returning a lock at once).
REDIS_THREADS = 4

_T = TypeVar("_T")


class ReplicaLockStore(LockStore):
    """Ticket locks in Redis (or in memory) whose holders must stay alive to keep them."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        redis_url: str | None = None,
        key_prefix: str | None = None,
    ) -> None:
        if redis_url is None:
            settings = Settings.from_env()
            redis_url, key_prefix = settings.redis_url, settings.redis_key_prefix
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._prefix = f"{key_prefix or 'civil-affairs'}:rasa-lock:"
        self._memory: dict[str, TicketLock] = {}
        self._redis: redis.Redis | None = None
        self._stopped = threading.Event()
        self._redis_calls = WorkerThreads("lock-redis", REDIS_THREADS)
        if redis_url:
            self._redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
            self._beat()  # fails loudly at start when Redis is unreachable
            threading.Thread(target=self._heartbeat_loop, name="lock-heartbeat", daemon=True).start()
            logger.info("conversation locks in Redis (holder %s)", self.owner)
        super().__init__()

    def close(self) -> None:
        """Stop the heartbeat (the holder then counts as dead once its key expires)."""
        self._stopped.set()

    # --- keys and liveness ------------------------------------------------------------------------

    def _lock_key(self, conversation_id: str) -> str:
        return f"{self._prefix}lock:{conversation_id}"

    def _owners_key(self, conversation_id: str) -> str:
        return f"{self._prefix}owners:{conversation_id}"

    def _alive_key(self, owner: str) -> str:
        return f"{self._prefix}alive:{owner}"

    def _beat(self) -> None:
        assert self._redis is not None
        self._redis.set(self._alive_key(self.owner), "1", px=int(HEARTBEAT_TTL_SECONDS * 1000))

    def _heartbeat_loop(self) -> None:
        while not self._stopped.wait(HEARTBEAT_INTERVAL_SECONDS):
            try:
                self._beat()
            except redis.RedisError as exc:
                logger.warning("lock heartbeat failed: %s", type(exc).__name__)

    # --- LockStore storage ------------------------------------------------------------------------

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's lock, if any ticket is out."""
        if self._redis is None:
            return self._memory.get(conversation_id)
        raw = self._redis.get(self._lock_key(conversation_id))
        return TicketLock.from_dict(_json(raw)) if raw else None

    def save_lock(self, lock: TicketLock) -> None:
        """Store ``lock`` (Rasa's base class calls this outside a transaction only in tests)."""
        if self._redis is None:
            self._memory[lock.conversation_id] = lock
        else:
            self._redis.set(self._lock_key(lock.conversation_id), lock.dumps())

    def delete_lock(self, conversation_id: str) -> None:
        """Forget the conversation's lock and its holders."""
        if self._redis is None:
            self._memory.pop(conversation_id, None)
        else:
            self._redis.delete(self._lock_key(conversation_id), self._owners_key(conversation_id))

    # --- tickets, changed atomically --------------------------------------------------------------

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock, dict[str, str]], int | None],
        lifetime: float = LOCK_LIFETIME,
    ) -> int | None:
        """Apply ``change`` to the lock and its holders in one transaction; returns its result."""
        if self._redis is None:
            lock = self._memory.get(conversation_id) or TicketLock(conversation_id)
            result = change(lock, {})
            if lock.tickets:
                self._memory[conversation_id] = lock
            else:
                self._memory.pop(conversation_id, None)
            return result
        lock_key, owners_key = self._lock_key(conversation_id), self._owners_key(conversation_id)

        def transaction(pipe: redis.client.Pipeline) -> int | None:
            raw = pipe.get(lock_key)
            lock = TicketLock.from_dict(_json(raw)) if raw else TicketLock(conversation_id)
            owners = {_text(k): _text(v) for k, v in pipe.hgetall(owners_key).items()}
            result = change(lock, owners)
            live = {str(t.number) for t in lock.tickets}
            pipe.multi()
            if lock.tickets:
                expiry_ms = int((lifetime + 60) * 1000)
                pipe.set(lock_key, lock.dumps(), px=expiry_ms)
                stale = [k for k in owners if k not in live]
                if stale:
                    pipe.hdel(owners_key, *stale)
                fresh = {k: v for k, v in owners.items() if k in live}
                if fresh:
                    pipe.hset(owners_key, mapping=fresh)
                    pipe.pexpire(owners_key, expiry_ms)
            else:
                pipe.delete(lock_key, owners_key)
            return result

        return self._redis.transaction(transaction, lock_key, owners_key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for this process, queued behind the tickets already out."""

        def issue(lock: TicketLock, owners: dict[str, str]) -> int:
            number = lock.issue_ticket(lifetime)
            owners[str(number)] = self.owner
            return number

        try:
            ticket = self._change(conversation_id, issue, lifetime)
        except redis.RedisError as exc:
            raise LockError(f"Error while acquiring lock: {type(exc).__name__}") from exc
        assert ticket is not None
        return ticket

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return the ticket; the lock disappears with its last ticket."""

        def release(lock: TicketLock, owners: dict[str, str]) -> None:
            lock.remove_ticket_for(ticket_number)
            owners.pop(str(ticket_number), None)

        try:
            self._change(conversation_id, release)
        except redis.RedisError:
            logger.warning("could not return ticket %s; it expires by itself", ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets and the tickets of holders whose heartbeat stopped (they died)."""
        if self._redis is None:
            return
        raw = self._redis.hgetall(self._owners_key(conversation_id))
        holders = {_text(k): _text(v) for k, v in raw.items()}
        dead = {number for number, owner in holders.items() if not self._redis.exists(self._alive_key(owner))}
        if not dead:
            return

        def drop(lock: TicketLock, owners: dict[str, str]) -> None:
            for number in dead:
                if number in owners:
                    logger.warning("dropping ticket %s of %s: its holder stopped", number, owners[number])
                    lock.remove_ticket_for(int(number))

        self._change(conversation_id, drop)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock, with Redis's round trips made from a worker thread.

        Rasa enters the lock from its event loop; Redis answered synchronously there stalls every
        other conversation of the replica meanwhile (a tenth of its time under load).
        """
        ticket = await self._in_thread(self.issue_ticket, conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            # Returned even when the message was cancelled: the thread finishes on its own.
            await self._in_thread(self.cleanup, conversation_id, ticket)

    async def _in_thread(self, function: Callable[..., _T], *args: Any) -> _T:
        if self._redis is None:  # memory: nothing to wait for
            return function(*args)
        return await self._redis_calls.run(function, *args)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Wait until ``ticket`` is served; a ticket that disappeared (expired) is an error."""
        wait = min(wait_time_in_seconds, WAIT_SECONDS)
        while True:
            lock = await self._in_thread(self.get_lock, conversation_id)
            if lock is None or all(t.number != ticket for t in lock.tickets):
                break
            if not lock.is_locked(ticket):
                return lock
            await self._in_thread(self.update_lock, conversation_id)
            await asyncio.sleep(wait)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _json(raw: bytes | str) -> dict[str, Any]:
    return json.loads(_text(raw))
