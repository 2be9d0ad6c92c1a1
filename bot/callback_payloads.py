"""Callback data of inline buttons: Rasa payloads that fit Telegram's 64 bytes, short ids otherwise.

Telegram limits ``callback_data`` to ``InlineKeyboardButtonLimit.MAX_CALLBACK_DATA`` bytes. Rasa
payloads such as ``/choose_faq{"faq_id": 17}`` usually fit and are sent as they are; a longer one
is kept in memory per chat and the button carries ``SHORT_ID_PREFIX`` plus a short id instead.
Ids are lost when the bot restarts, so a stale button gets a polite "please ask again".
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

from telegram.constants import InlineKeyboardButtonLimit

# Rasa payloads start with "/" or are plain words; this prefix marks a short id.
SHORT_ID_PREFIX = "~p:"


class CallbackPayloadStore:
    """Per-chat mapping from short ids to long payloads, keeping the most recent ones."""

    def __init__(self, max_per_chat: int = 200, max_chats: int = 10_000) -> None:
        self._max_per_chat = max_per_chat
        self._max_chats = max_chats
        self._by_chat: OrderedDict[int, OrderedDict[str, str]] = OrderedDict()
        self._counter = itertools.count(1)

    def encode(self, chat_id: int, payload: str) -> str:
        """Return callback data for ``payload``: itself if it fits, else a stored short id."""
        if len(payload.encode("utf-8")) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA and not payload.startswith(
            SHORT_ID_PREFIX
        ):
            return payload
        chat_map = self._by_chat.setdefault(chat_id, OrderedDict())
        self._by_chat.move_to_end(chat_id)
        while len(self._by_chat) > self._max_chats:
            self._by_chat.popitem(last=False)
        for short_id, known in chat_map.items():
            if known == payload:
                chat_map.move_to_end(short_id)
                return SHORT_ID_PREFIX + short_id
        short_id = format(next(self._counter), "x")
        chat_map[short_id] = payload
        while len(chat_map) > self._max_per_chat:
            chat_map.popitem(last=False)
        return SHORT_ID_PREFIX + short_id

    def decode(self, chat_id: int, data: str) -> str | None:
        """Return the payload behind ``data``, or None when a short id is unknown or expired."""
        if not data.startswith(SHORT_ID_PREFIX):
            return data
        chat_map = self._by_chat.get(chat_id)
        return chat_map.get(data[len(SHORT_ID_PREFIX) :]) if chat_map is not None else None
