"""One path for every resident message, whatever the channel (Telegram bot or web chat).

It records the message in the transcript, keeps the bot silent while staff hold the conversation,
hands sensitive messages straight to staff, takes the 1–5 rating after a handoff, and otherwise
asks Rasa and records its answers. It offers the same ``send`` as ``RasaClient``, so a channel
swaps one for the other.

Safety comes first, before any of that: words of danger are checked here, before the paused branch
and before Rasa, so a resident in crisis always gets the hotlines (110/120/12356) even while staff
hold the conversation or Rasa is down, and an open handoff becomes urgent. Each chat is rate limited
here too, so both channels share one limit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from civil_affairs.config import Settings
from civil_affairs.conversations import texts
from civil_affairs.conversations.delivery import Delivery
from civil_affairs.conversations.emergency import hotline_reply, is_self_harm, looks_urgent
from civil_affairs.conversations.handoff import (
    acknowledgement,
    escalate,
    rate_last_resolved,
    record_resident_line,
    staff_alert,
)
from civil_affairs.conversations.rasa_client import (
    MessageLost,
    RasaClient,
    RasaMaybeProcessed,
    RasaMessage,
    RasaUnavailable,
)
from civil_affairs.conversations.rate_limit import ChatRateLimiter, RateLimited
from civil_affairs.conversations.transcripts import (
    append_lines,
    channel_of,
    clean_text,
    record_lines,
    stored_line,
)
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import Handoff
from civil_affairs.models.conversation import PRIORITY_EMERGENCY
from civil_affairs.ops import metrics
from civil_affairs.ops.tracker_events import answered_turn
from civil_affairs.text import normalize

logger = logging.getLogger(__name__)

# A replica that died holding a conversation's lock loses it within the lock store's heartbeat TTL.
LOCK_TAKEOVER_SECONDS = 4.0
RATING_PREFIX = "/rate_service:"
RATING_BUTTONS = [{"title": texts.RATING_BUTTON_TITLES[n], "payload": f"{RATING_PREFIX}{n}"} for n in range(5, 0, -1)]
# Per chat: at most 15 messages in 10 seconds and 60 in a minute (a person typing or pressing buttons
# stays well below; a script flooding one chat does not). CHAT_RATE_LIMIT changes it.
# Petitions, corruption reports, media threats and abuse aimed at staff go to a person at once.
SENSITIVE_RE = re.compile(
    r"上访|信访|举报.{0,6}(干部|领导|贪|腐|受贿|吃拿卡要)|贪污|腐败|受贿|行贿|吃拿卡要|曝光|找记者|找媒体|上新闻"
    r"|到网上发|起诉你们|告你们|杀了你|弄死你|炸了"
)


def parse_rating(text: str) -> int | None:
    """The score of a rating button payload, if ``text`` is one."""
    score = text[len(RATING_PREFIX) :]
    if text.startswith(RATING_PREFIX) and score.isascii() and score.isdigit() and len(score) <= 2:
        return int(score)
    return None


def is_sensitive(text: str) -> bool:
    """Content that a person, not the bot, should answer (traditional and full-width forms folded
    first, as for the danger words: 舉報村幹部 is 举报村干部)."""
    return bool(SENSITIVE_RE.search(normalize(text)))


def _shown(answer: RasaMessage) -> str:
    """What the transcript shows of one answer: its text, else its image, else the document's name."""
    if answer.text or answer.image:
        return answer.text or answer.image or ""
    return texts.DOCUMENT_LINE.format(filename=answer.document.get("filename", "")) if answer.document else ""


class ConversationService:
    """The channels' gateway to Rasa, with transcripts and handoff pause."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker,
        rasa: RasaClient,
        delivery: Delivery,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.rasa = rasa
        self.delivery = delivery
        self._engine = engine
        self.limiter = ChatRateLimiter(settings.chat_rate_limit)

    @classmethod
    def open(cls, settings: Settings) -> ConversationService:
        """A service with its own database engine and HTTP clients; close it with ``aclose``."""
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        return cls(
            settings,
            sessions,
            RasaClient.for_settings(settings),
            Delivery(settings, sessions),
            engine,
        )

    async def aclose(self) -> None:
        await self.rasa.aclose()
        await self.delivery.aclose()
        if self._engine is not None:
            self._engine.dispose()

    async def send(
        self,
        sender_id: str,
        text: str,
        *,
        message_id: str | None = None,
        maybe_seen: bool = False,
        expect_answer: bool = True,
        raise_when_limited: bool = False,
    ) -> list[RasaMessage]:
        """Handle one resident message; returns what the bot says (nothing while staff hold it).

        ``message_id`` identifies the message across retries (a Telegram update id; a fresh id
        otherwise). ``maybe_seen`` says an earlier attempt may already have reached Rasa: its stored
        answer is then replayed rather than asking Rasa twice. Raises RasaUnavailable (or its
        MessageLost) when the resident must be told to try again. A chat over its rate limit gets
        the slow-down notice once and then nothing; with ``raise_when_limited`` (the web chat, which
        answers every request) RateLimited is raised instead, carrying the notice.
        """
        started = time.monotonic()
        channel = channel_of(sender_id)
        text = clean_text(text)
        if not maybe_seen:  # a redelivery of a message already counted is not counted twice
            verdict = self.limiter.check(sender_id)
            if verdict != "ok":
                metrics.MESSAGES.labels(channel=channel, outcome="limited").inc()
                reply = self._limited_reply(sender_id, text, verdict)
                if raise_when_limited:
                    raise RateLimited(reply or [RasaMessage(text=texts.SLOW_DOWN_TEXT)])
                return reply
        try:
            answers = await self._send(sender_id, text, message_id or uuid.uuid4().hex, maybe_seen, expect_answer)
        except MessageLost:
            metrics.MESSAGES.labels(channel=channel, outcome="lost").inc()
            raise
        except RasaUnavailable:
            metrics.MESSAGES.labels(channel=channel, outcome="unavailable").inc()
            raise
        metrics.MESSAGES.labels(channel=channel, outcome="answered" if answers else "silent").inc()
        metrics.MESSAGE_SECONDS.labels(channel=channel).observe(time.monotonic() - started)
        return answers

    def _limited_reply(self, sender_id: str, text: str, verdict: str) -> list[RasaMessage]:
        """What a rate-limited chat is told: the hotlines for danger words, else slow down once."""
        if looks_urgent(text) and self.limiter.hotline_due(sender_id):
            logger.warning("%s: rate limited, but words of danger: hotlines sent", sender_id)
            return [RasaMessage(text=self._hotlines(text))]
        if verdict == "notify":
            logger.info("%s: rate limited", sender_id)
            return [RasaMessage(text=texts.SLOW_DOWN_TEXT)]
        return []

    def _hotlines(self, text: str) -> str:
        bureau = self.settings.bureau
        return hotline_reply(text, hotline=bureau.hotline, bureau=bureau.name)

    async def _send(
        self, sender_id: str, text: str, message_id: str, maybe_seen: bool, expect_answer: bool
    ) -> list[RasaMessage]:
        if maybe_seen:
            stored = await asyncio.to_thread(self._stored_answers, sender_id, message_id)
            if stored is not None:
                logger.info("%s: message %s was answered before a restart; replaying", sender_id, message_id)
                return await self._say(sender_id, stored)
        if not text:
            return [RasaMessage(text=texts.EMPTY_TEXT)]
        try:
            outcome, handoff_id, conversation_id = await asyncio.to_thread(self._before_bot, sender_id, text)
        except SQLAlchemyError:
            if not looks_urgent(text):
                raise
            # Even with the database down, someone in danger is told where to call.
            logger.exception("%s: database failed on a message with words of danger; hotlines sent", sender_id)
            return [RasaMessage(text=self._hotlines(text))]
        if outcome in ("urgent-held", "urgent-raised", "emergency", "emergency-new"):
            # Words of danger: the hotlines go out whoever holds the conversation and whatever Rasa does.
            if handoff_id is not None and outcome in ("urgent-raised", "emergency-new"):
                await self._announce_safely(handoff_id, raised=outcome == "urgent-raised")
            follow_up = texts.URGENT_WHILE_HELD_TEXT if outcome.startswith("urgent") else texts.HANDED_OVER_REPLY
            return await self._say_urgently(
                sender_id, [RasaMessage(text=self._hotlines(text)), RasaMessage(text=follow_up)], conversation_id
            )
        if outcome == "paused":
            logger.info("%s: message kept for staff (handoff %s)", sender_id, handoff_id)
            return []
        if outcome in ("rated", "rated-before"):
            reply = texts.RATING_THANKS if outcome == "rated" else texts.RATING_ALREADY
            return await self._say(sender_id, [RasaMessage(text=reply)], conversation_id)
        if outcome == "sensitive":
            if handoff_id is not None:
                await self.announce(handoff_id)
            reply = await asyncio.to_thread(self._acknowledgement)
            return await self._say(sender_id, [RasaMessage(text=reply)], conversation_id)
        try:
            answers = await self._ask_rasa(sender_id, text, message_id)
            if not answers and expect_answer:
                # Rasa answers every message; none means an action failed (e.g. its server died).
                metrics.ERRORS.labels(component="conversation", kind="no_answer").inc()
                raise MessageLost("Rasa gave no answer")
        except RasaUnavailable:
            if not looks_urgent(text):
                raise
            # Rasa or the action server is down and someone may be in danger: answer without them.
            logger.warning("%s: Rasa unavailable for a message with words of danger; hotlines sent", sender_id)
            try:
                urgent_id, new = await asyncio.to_thread(self._escalate_emergency, sender_id, text)
            except SQLAlchemyError:
                logger.exception("%s: the urgent handoff could not be opened", sender_id)
                urgent_id, new = 0, False
            if new:
                await self._announce_safely(urgent_id)
            return await self._say_urgently(
                sender_id,
                [RasaMessage(text=self._hotlines(text)), RasaMessage(text=texts.HANDED_OVER_REPLY)],
                conversation_id,
            )
        return await self._say(sender_id, answers, conversation_id)

    async def _say_urgently(
        self, sender_id: str, answers: list[RasaMessage], conversation_id: int | None = None
    ) -> list[RasaMessage]:
        """Record the hotline reply if the database lets us; send it in any case."""
        try:
            return await self._say(sender_id, answers, conversation_id)
        except SQLAlchemyError:
            logger.exception("%s: hotline reply sent but not recorded", sender_id)
            return answers

    def _escalate_emergency(self, sender_id: str, text: str) -> tuple[int, bool]:
        with self.sessions.begin() as session:
            handoff, new = escalate(sender_id, "emergency", session=session, summary=text)
            return handoff.id, new

    async def _announce_safely(self, handoff_id: int, *, raised: bool = False) -> None:
        """Tell the staff chat; a failure there must never keep the hotlines from the resident."""
        try:
            await self.announce(handoff_id, raised=raised)
        except Exception:  # the resident's reply matters more than the staff alert
            logger.exception("handoff %s: staff chat alert failed", handoff_id)

    async def _ask_rasa(self, sender_id: str, text: str, message_id: str) -> list[RasaMessage]:
        """Ask Rasa; when a replica died holding the message, replay its stored answer or ask another."""
        try:
            return await self.rasa.send(sender_id, text, message_id=message_id)
        except RasaMaybeProcessed as failure:
            metrics.ERRORS.labels(component="rasa", kind="replica_failed").inc()
            stored = await asyncio.to_thread(self._stored_answers, sender_id, message_id)
            if stored is not None:
                logger.info("%s: Rasa stored the answer before failing; replaying it", sender_id)
                return stored
            if self.rasa.replicas < 2:
                # An error answer (HTTP 5xx) is "busy"; a dropped connection lost the message.
                raise (MessageLost if failure.dropped else RasaUnavailable)(str(failure)) from failure
            # Not stored, so not handled: another replica takes it, once the dead one's lock is gone.
            try:
                return await self.rasa.send(
                    sender_id, text, message_id=message_id, avoid=failure.replica, extra_seconds=LOCK_TAKEOVER_SECONDS
                )
            except RasaMaybeProcessed as again:
                raise MessageLost(str(again)) from again

    async def replay(self, sender_id: str, message_id: str) -> list[RasaMessage] | None:
        """Rasa's stored answer to a message whose channel died before delivering it, recorded again."""
        stored = await asyncio.to_thread(self._stored_answers, sender_id, message_id)
        return None if stored is None else await self._say(sender_id, stored)

    def _stored_answers(self, sender_id: str, message_id: str) -> list[RasaMessage] | None:
        with self.sessions() as session:
            stored = answered_turn(sender_id, message_id, session=session)
        return None if stored is None else [RasaMessage.from_json(item) for item in stored]

    def _before_bot(self, sender_id: str, text: str) -> tuple[str, int | None, int]:
        """Record the resident's message and decide who answers; third value: the conversation's id."""
        with self.sessions.begin() as session:
            conversation_id, active_id, active_priority = record_resident_line(sender_id, text, session=session)
            # Danger first: before the paused branch (staff may be away for the night) and before Rasa.
            if active_id is not None and looks_urgent(text):
                raised = active_priority != PRIORITY_EMERGENCY
                escalate(sender_id, "emergency", session=session, summary=text)
                return ("urgent-raised" if raised else "urgent-held"), active_id, conversation_id
            if active_id is None and is_self_harm(text):
                # Self-harm words always count (civil_affairs.conversations.emergency); other danger words go to
                # Rasa, whose emergency action checks them against the recognised intent.
                handoff, new = escalate(sender_id, "emergency", session=session, summary=text)
                return ("emergency-new" if new else "emergency"), handoff.id, conversation_id
            rating = parse_rating(text)
            if rating is not None:
                rated = rate_last_resolved(sender_id, rating, session=session)
                return ("rated" if rated else "rated-before"), None, conversation_id
            if active_id is not None:
                return "paused", active_id, conversation_id
            if is_sensitive(text):
                handoff, new = escalate(sender_id, "sensitive", session=session, summary=text)
                return "sensitive", handoff.id if new else None, conversation_id
        return "bot", None, conversation_id

    def _acknowledgement(self) -> str:
        with self.sessions.begin() as session:
            return acknowledgement(self.settings, session=session)

    async def _say(
        self, sender_id: str, answers: list[RasaMessage], conversation_id: int | None = None
    ) -> list[RasaMessage]:
        """Record the bot's answers (``conversation_id`` when known: no look-up, no ORM statements)."""

        def record() -> None:
            lines = [
                stored_line("bot", _shown(answer), [{"title": b.title, "payload": b.payload} for b in answer.buttons])
                for answer in answers
            ]
            with self.sessions.begin() as session:
                if conversation_id is None:
                    record_lines(sender_id, lines, session=session)
                else:
                    append_lines(session.connection(), conversation_id, lines)

        await asyncio.to_thread(record)
        return answers

    def _staff_alert_text(self, handoff_id: int, raised: bool) -> str:
        with self.sessions.begin() as session:
            return staff_alert(session.get(Handoff, handoff_id), raised=raised)

    async def announce(self, handoff_id: int, *, raised: bool = False) -> None:
        """Tell the staff Telegram chat about a new handoff, or one raised to urgent (when a chat is set)."""

        text = await asyncio.to_thread(self._staff_alert_text, handoff_id, raised)
        await self.delivery.to_staff_chat(text, f"{self.settings.public_base_url}/staff/handoffs/{handoff_id}")

    async def ask_for_rating(self, sender_id: str) -> None:
        """After staff resolve: hand back to the bot and ask for a 1–5 rating."""
        await self.delivery.to_resident(sender_id, texts.RATING_REQUEST, buttons=RATING_BUTTONS)
