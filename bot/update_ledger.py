"""Each Telegram update handled once, and none left silent, across bot restarts (polling and webhook).

``LedgerQueue`` is the Application's update queue. The Updater (polling) and the webhook route put
each update on it, and it records the update in the database before the put returns, i.e. before
the next ``getUpdates`` confirms it to Telegram or the webhook call is answered. A redelivered
update that was already answered is dropped there. ``PerChatUpdateProcessor`` claims an update
before its handler runs and marks it answered afterwards (bot/update_processor.py).

When a bot process dies, its unfinished updates are recovered by the next run: an update that
Telegram delivers again is simply handled (with Rasa's stored answer replayed if Rasa already
handled it); one that does not come back within a few seconds gets Rasa's stored answer if there
is one, otherwise a polite "please send it again".
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot import texts
from bot.callback_payloads import CallbackPayloadStore
from bot.rendering import send_rasa_messages
from civil_affairs.conversations.service import ConversationService
from civil_affairs.models.base import utcnow
from civil_affairs.ops import metrics
from civil_affairs.ops import telegram_updates as ledger_db

logger = logging.getLogger(__name__)

# Unfinished updates of another bot instance are taken over after this long (it is presumed dead).
STALE_AFTER = timedelta(seconds=60)
SWEEP_INTERVAL_SECONDS = 5.0
# After a restart, Telegram gets this long to deliver unconfirmed updates again before recovery.
STARTUP_GRACE_SECONDS = 3.0


def bot_id_of(token: str) -> int:
    """The bot's numeric id, the part of its token before the colon."""
    head = token.split(":", 1)[0]
    return int(head) if head.isdecimal() else 0


class UpdateLedger:
    """The bot process's view of the ``telegram_update`` table."""

    def __init__(self, sessions: sessionmaker, bot_id: int, instance: str) -> None:
        self.sessions = sessions
        self.bot_id = bot_id
        self.owner = ledger_db.owner_name(instance, uuid.uuid4().hex[:12])
        self._maybe_seen: set[int] = set()

    def maybe_seen(self, update_id: int) -> bool:
        """An earlier run was handling this update when it died (Rasa may have answered it)."""
        return update_id in self._maybe_seen

    async def received(self, update: Update) -> bool:
        """Record an incoming update; True when it should be handled."""
        chat_id = update.effective_chat.id if update.effective_chat else None

        def record() -> ledger_db.Received:
            with self.sessions.begin() as session:
                return ledger_db.record_received(self.bot_id, update.update_id, chat_id, self.owner, session=session)

        try:
            result = await asyncio.to_thread(record)
        except SQLAlchemyError:
            # Without the database an update is still answered (only a redelivery could be twice).
            logger.exception("update %s could not be recorded; handling it anyway", update.update_id)
            return True
        metrics.TELEGRAM_UPDATES.labels(outcome=result.outcome).inc()
        if result.outcome == "duplicate":
            logger.info("update %s delivered again (%s); not handled twice", update.update_id, result.previous_state)
        elif result.outcome == "taken_over" and result.previous_state == "processing":
            self._maybe_seen.add(update.update_id)
        return result.queue

    async def claim(self, update: Update) -> bool:
        """Start handling the update; False when it is not ours to handle."""

        def run() -> bool:
            with self.sessions.begin() as session:
                return ledger_db.claim(self.bot_id, update.update_id, self.owner, session=session)

        try:
            return await asyncio.to_thread(run)
        except SQLAlchemyError:
            logger.exception("update %s could not be claimed; handling it anyway", update.update_id)
            return True

    async def finish(self, update_id: int, state: str = "answered") -> None:
        """Mark the update handled."""

        def run() -> None:
            with self.sessions.begin() as session:
                ledger_db.finish(self.bot_id, update_id, self.owner, state, session=session)

        try:
            await asyncio.to_thread(run)
        except SQLAlchemyError:
            logger.exception("update %s could not be marked %s", update_id, state)
        self._maybe_seen.discard(update_id)

    async def recover(
        self, application: Application, service: ConversationService, payloads: CallbackPayloadStore
    ) -> int:
        """Answer the updates earlier runs left unfinished; returns how many were recovered."""

        def take() -> list[tuple[int, int | None, str]]:
            with self.sessions.begin() as session:
                rows = ledger_db.orphans(self.bot_id, self.owner, stale_before=utcnow() - STALE_AFTER, session=session)
                return [
                    (row.update_id, row.chat_id, row.state)
                    for row in rows
                    if ledger_db.take_orphan(row, self.owner, session=session)
                ]

        recovered = 0
        for update_id, chat_id, state in await asyncio.to_thread(take):
            outcome = "resend_asked"
            if chat_id is not None:
                outcome = await self._answer_orphan(application, service, payloads, update_id, chat_id, state)
            await self.finish(update_id, outcome)
            metrics.TELEGRAM_UPDATES.labels(outcome=f"recovered_{outcome}").inc()
            recovered += 1
        return recovered

    async def _answer_orphan(
        self,
        application: Application,
        service: ConversationService,
        payloads: CallbackPayloadStore,
        update_id: int,
        chat_id: int,
        state: str,
    ) -> str:
        """Rasa's stored answer when Rasa handled the update, else a request to send it again."""
        stored = None
        if state == "processing":
            stored = await service.replay(f"tg-{chat_id}", f"tg-update:{update_id}")
        try:
            if stored:
                await send_rasa_messages(application.bot, chat_id, stored, payloads)
                logger.info("chat %s: update %s answered from Rasa's stored answer", chat_id, update_id)
                return "replayed"
            await application.bot.send_message(chat_id=chat_id, text=texts.RESEND_AFTER_RESTART)
            logger.info("chat %s: update %s was not finished; asked to send it again", chat_id, update_id)
        except TelegramError as exc:
            logger.warning("chat %s: recovery message failed: %s", chat_id, type(exc).__name__)
        return "resend_asked"


class LedgerQueue(asyncio.Queue[object]):
    """The Application's update queue; records each update before the put returns."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger: UpdateLedger | None = None

    async def put(self, item: object) -> None:
        """Queue ``item``, unless it is an update already answered (Telegram delivered it again)."""
        if isinstance(item, Update) and self.ledger is not None and not await self.ledger.received(item):
            return
        await super().put(item)
