"""The Telegram channel gets the conversation service's safety too (issue 9 item 3 and the burst).

"我不想活了，药都准备好了" after 转人工 got nothing on Telegram; now the hotlines go out and the handoff
becomes urgent. A flood from one chat is rate limited: Rasa sees at most the burst limit and the
chat is told once, not answered 10,000 times.
"""

from __future__ import annotations

import asyncio

from telegram.ext import Application

from civil_affairs.conversations.handoff import active_handoff, escalate
from civil_affairs.conversations.rate_limit import RATE_LIMITS, ChatRateLimiter
from civil_affairs.conversations.texts import SLOW_DOWN_TEXT
from civil_affairs.conversations.transcripts import record_message
from civil_affairs.models.conversation import PRIORITY_EMERGENCY
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 7007
CRISIS = "我不想活了，药都准备好了"


async def test_crisis_during_a_handoff_gets_the_hotlines_on_telegram(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:  # noqa: ANN001
    sessions = running_bot.bot_data.rasa.sessions
    with sessions.begin() as session:
        record_message(f"tg-{CHAT}", "resident", "转人工", session=session)
        escalate(f"tg-{CHAT}", "requested", session=session)
    telegram_server.push_text(CHAT, CRISIS)
    replies = await telegram_server.wait_for_messages(CHAT, 2, timeout=10)
    shown = "".join(m.text or "" for m in replies)
    assert "110" in shown and "120" in shown and "12356" in shown
    assert fake_rasa.requests == []
    with sessions.begin() as session:
        assert active_handoff(f"tg-{CHAT}", session=session).priority == PRIORITY_EMERGENCY


async def test_crisis_with_rasa_down_gets_the_hotlines_not_busy(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:  # noqa: ANN001
    fake_rasa.stop()
    telegram_server.push_text(CHAT, "我爸喝醉了在家打我妈 往死里打")
    replies = await telegram_server.wait_for_messages(CHAT, 2, timeout=10)
    assert "110" in replies[0].text and not replies[0].text.startswith("系统繁忙")


async def test_a_flood_from_one_chat_is_limited_and_told_once(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:  # noqa: ANN001
    burst = RATE_LIMITS[0][0]
    # A stopped clock: on a loaded machine the flood may take longer than the 10 s window to handle.
    running_bot.bot_data.rasa.limiter = ChatRateLimiter(clock=lambda: 1000.0)
    for _ in range(60):
        telegram_server.push_text(CHAT, "低保怎么申请")
    await telegram_server.wait_for_messages(CHAT, burst + 1, timeout=30)
    await asyncio.sleep(1.0)  # the rest of the flood is handled (and ignored) meanwhile
    texts = [m.text for m in telegram_server.sent_messages(CHAT)]
    assert len(fake_rasa.requests) == burst
    assert texts.count(SLOW_DOWN_TEXT) == 1 and len(texts) == burst + 1
