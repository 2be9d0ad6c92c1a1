"""Typed shared state of the running bot (``context.bot_data``) and the handlers' context type."""

from __future__ import annotations

import asyncio
import contextlib

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.callback_payloads import CallbackPayloadStore
from bot.update_ledger import UpdateLedger
from civil_affairs.config import Settings
from civil_affairs.conversations.service import ConversationService


class BotState:
    """Resources shared by all handlers; the Rasa client exists between post_init and post_shutdown."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._rasa: ConversationService | None = None
        self.payloads = CallbackPayloadStore()
        self.ledger: UpdateLedger | None = None
        # Heartbeat and recovery loops, cancelled at shutdown.
        self.tasks: list[asyncio.Task[None]] = []

    @property
    def settings(self) -> Settings:
        """The settings the application was built with."""
        if self._settings is None:
            raise RuntimeError("BotState.settings used before build_application() set it")
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value

    @property
    def rasa(self) -> ConversationService:
        """The conversation service (Rasa with transcripts and handoff) opened in post_init."""
        if self._rasa is None:
            raise RuntimeError("Rasa client used outside post_init/post_shutdown")
        return self._rasa

    @rasa.setter
    def rasa(self, value: ConversationService) -> None:
        self._rasa = value

    async def close(self) -> None:
        """Stop the background loops and close the conversation service if it is open."""
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        if self._rasa is not None:
            await self._rasa.aclose()
            self._rasa = None


BotContext = CallbackContext[ExtBot[None], dict, dict, BotState]

CONTEXT_TYPES = ContextTypes(bot_data=BotState)
