"""Different chats are served concurrently; one chat's updates are handled strictly in order."""

from __future__ import annotations

import asyncio
import time

from telegram import Chat, Message, Update
from telegram.ext import Application

from bot import texts
from bot.update_processor import PerChatUpdateProcessor
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT_A = 5001
CHAT_B = 5002


async def test_slow_rasa_in_one_chat_does_not_delay_another(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on(sender=f"tg-{CHAT_A}", delay=10, reply=[{"text": "A 的回答"}])
    fake_rasa.on(sender=f"tg-{CHAT_B}", reply=[{"text": "B 的回答"}])
    telegram_server.push_text(CHAT_A, "慢的问题")
    await fake_rasa.wait_for_requests(1)
    started = time.monotonic()
    telegram_server.push_text(CHAT_B, "快的问题")

    [reply_b] = await telegram_server.wait_for_messages(CHAT_B, 1, timeout=2)

    assert reply_b.text == "B 的回答"
    assert reply_b.at - started < 1.0
    assert telegram_server.sent_messages(CHAT_A) == []  # A is still waiting for Rasa
    [reply_a] = await telegram_server.wait_for_messages(CHAT_A, 1, timeout=5)
    assert reply_a.text.startswith(texts.BUSY)


async def test_messages_of_one_chat_reach_rasa_and_are_answered_in_order(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on("第一句", delay=0.5, reply=[{"text": "答第一句"}])
    fake_rasa.on("第二句", reply=[{"text": "答第二句"}])
    fake_rasa.on("第三句", reply=[{"text": "答第三句"}])
    telegram_server.push_text(CHAT_A, "第一句")
    telegram_server.push_text(CHAT_A, "第二句")
    telegram_server.push_text(CHAT_A, "第三句")

    replies = await telegram_server.wait_for_messages(CHAT_A, 3)

    assert [r.text for r in replies] == ["答第一句", "答第二句", "答第三句"]
    first, second, third = fake_rasa.requests
    assert [first.message, second.message, third.message] == ["第一句", "第二句", "第三句"]
    # The second message went to Rasa only after the slow first one was answered.
    assert second.at - first.at >= 0.45
    assert replies[0].at <= second.at


def _update(update_id: int, chat_id: int) -> Update:
    """A minimal text update of a private chat."""
    chat = Chat(id=chat_id, type=Chat.PRIVATE)
    message = Message(message_id=update_id, date=None, chat=chat, text="x")  # type: ignore[arg-type]
    return Update(update_id=update_id, message=message)


async def test_processor_orders_per_chat_and_forgets_idle_locks() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=4)
    await processor.initialize()
    log: list[str] = []

    async def work(name: str, delay: float) -> None:
        log.append(f"start {name}")
        await asyncio.sleep(delay)
        log.append(f"end {name}")

    updates = [(_update(1, 1), "a1", 0.05), (_update(2, 1), "a2", 0.0), (_update(3, 2), "b1", 0.0)]
    tasks = [asyncio.create_task(processor.process_update(u, work(n, d))) for u, n, d in updates]
    await asyncio.sleep(0.01)
    assert processor.active_chats == 1  # chat 2 is already done, chat 1 still busy
    await asyncio.gather(*tasks)

    assert log.index("end a1") < log.index("start a2")
    assert log.index("end b1") < log.index("end a1")  # chat 2 did not wait for chat 1
    assert processor.active_chats == 0
    await processor.shutdown()


async def test_processor_limits_total_concurrency() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    await processor.initialize()
    running = 0
    peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    await asyncio.gather(*(processor.process_update(_update(i, i), work()) for i in range(6)))

    assert peak == 2
    await processor.shutdown()
