"""The per-chat flood limit both channels share: a polite "slow down" once per window, silence after,
and the hotlines still once per window for danger words."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from civil_affairs.config import Settings
from civil_affairs.conversations.rasa_client import RasaMessage

RATE_LIMITS: tuple[tuple[int, float], ...] = Settings.chat_rate_limit


class RateLimited(Exception):
    """The chat sent too many messages; ``reply`` is what to show (empty: stay quiet)."""

    def __init__(self, reply: list[RasaMessage]) -> None:
        super().__init__("rate limited")
        self.reply = reply


class ChatRateLimiter:
    """Sliding-window limits per chat, kept in this process's memory.

    A chat over a limit is told once per window to slow down and is otherwise ignored until the
    window has room again, so a burst of 10,000 identical messages costs neither Rasa calls nor
    database rows. Words of danger are still answered with the hotlines, at most once per window.
    """

    MAX_CHATS = 50_000  # forget idle chats beyond this many, so memory stays bounded

    def __init__(
        self, limits: tuple[tuple[int, float], ...] = RATE_LIMITS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self.clock = clock
        self._window = max(seconds for _count, seconds in limits)
        self._seen: dict[str, deque[float]] = {}
        self._told: dict[str, float] = {}
        self._hotline: dict[str, float] = {}

    def check(self, sender_id: str) -> str:
        """``ok`` (counted), ``notify`` (over the limit, tell the resident) or ``quiet`` (over, told already)."""
        now = self.clock()
        seen = self._seen.get(sender_id)
        if seen is None:
            if len(self._seen) >= self.MAX_CHATS:
                self._forget_idle(now)
            seen = self._seen[sender_id] = deque()
        while seen and now - seen[0] > self._window:
            seen.popleft()
        for count, seconds in self.limits:
            if sum(1 for t in seen if now - t <= seconds) >= count:
                if self._told.get(sender_id, float("-inf")) > now:
                    return "quiet"
                self._told[sender_id] = now + seconds
                return "notify"
        seen.append(now)
        return "ok"

    def hotline_due(self, sender_id: str) -> bool:
        """True at most once per window: a limited chat that writes words of danger gets the hotlines."""
        now = self.clock()
        if self._hotline.get(sender_id, float("-inf")) > now:
            return False
        self._hotline[sender_id] = now + self.limits[0][1]
        return True

    def _forget_idle(self, now: float) -> None:
        for sender_id in [s for s, seen in self._seen.items() if not seen or now - seen[-1] > self._window]:
            self._seen.pop(sender_id, None)
            self._told.pop(sender_id, None)
            self._hotline.pop(sender_id, None)
