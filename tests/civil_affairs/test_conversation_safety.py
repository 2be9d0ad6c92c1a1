"""Safety in the conversation service (issue 9 item 3 and the burst of "Bad input").

A resident in crisis got silence while a handoff was open: danger words are now checked before the
paused branch and before Rasa, the hotlines always go out, the open handoff becomes urgent, and the
replies when Rasa is down name 110/120. A burst of 10,000 identical messages from one chat is
rate limited politely, for both channels (the limit lives in the service).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot import texts as bot_texts
from civil_affairs.config import Settings
from civil_affairs.conversations.delivery import Delivery
from civil_affairs.conversations.handoff import active_handoff, escalate
from civil_affairs.conversations.rasa_client import MessageLost, RasaMessage, RasaUnavailable
from civil_affairs.conversations.rate_limit import RATE_LIMITS, ChatRateLimiter, RateLimited
from civil_affairs.conversations.service import ConversationService, is_sensitive
from civil_affairs.conversations.texts import BUSY_TEXT, RESEND_TEXT, SLOW_DOWN_TEXT
from civil_affairs.conversations.transcripts import record_message
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import ConversationMessage, Handoff
from civil_affairs.models.conversation import PRIORITY_EMERGENCY, PRIORITY_NORMAL

CRISIS = "我不想活了，药都准备好了"
VIOLENCE = "我爸喝醉了在家打我妈 往死里打"
SENDER = "web-" + "c" * 64
BURST, BURST_SECONDS = RATE_LIMITS[0]  # 15 in 10 s
PER_MINUTE = RATE_LIMITS[1][0]  # 60


class FakeRasa:
    """Rasa's REST channel: answers, or is down (``failure`` is raised)."""

    replicas = 1

    def __init__(self) -> None:
        self.received: list[str] = []
        self.failure: Exception | None = None

    async def send(self, sender_id: str, text: str, **_options: object) -> list[RasaMessage]:
        self.received.append(text)
        if self.failure is not None:
            raise self.failure
        return [RasaMessage(text=f"回答：{text}")]

    async def aclose(self) -> None:
        return None


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def service(migrated_settings: Settings) -> AsyncIterator[ConversationService]:
    engine = make_engine(migrated_settings.database_url)
    sessions = make_session_factory(engine)
    service = ConversationService(migrated_settings, sessions, FakeRasa(), Delivery(migrated_settings, sessions))
    service.alerts = []

    async def to_staff_chat(text: str, link: str) -> bool:
        service.alerts.append(text)
        return True

    service.delivery.to_staff_chat = to_staff_chat
    yield service
    await service.aclose()
    engine.dispose()


def open_handoff(service: ConversationService, reason: str = "requested") -> int:
    with service.sessions.begin() as session:
        record_message(SENDER, "resident", "转人工", session=session)
        handoff, _ = escalate(SENDER, reason, session=session, summary="转人工")
        return handoff.id


def handoff_state(service: ConversationService, handoff_id: int) -> tuple[int, str, str]:
    with service.sessions.begin() as session:
        handoff = session.get(Handoff, handoff_id)
        return handoff.priority, handoff.reason, handoff.status


def stored_lines(service: ConversationService, author: str = "resident") -> list[str]:
    with service.sessions.begin() as session:
        return list(
            session.scalars(
                select(ConversationMessage.text)
                .where(ConversationMessage.author == author)
                .order_by(ConversationMessage.id)
            )
        )


def assert_hotlines(texts: list[str], *numbers: str) -> None:
    joined = "".join(texts)
    for number in numbers or ("110", "120"):
        assert number in joined, (number, joined)


# --- danger words while staff hold the conversation ------------------------------------------------------


async def test_crisis_while_a_handoff_is_open_gets_the_hotlines_and_raises_priority(
    service: ConversationService,
) -> None:
    handoff_id = open_handoff(service)
    assert handoff_state(service, handoff_id)[0] == PRIORITY_NORMAL
    answers = await service.send(SENDER, CRISIS)
    assert_hotlines([a.text for a in answers], "110", "120", "12356")
    assert handoff_state(service, handoff_id) == (PRIORITY_EMERGENCY, "emergency", "open")
    assert service.rasa.received == []  # staff still hold the conversation
    assert CRISIS in stored_lines(service)  # staff see the message
    assert [alert for alert in service.alerts if "升为紧急" in alert and f"#{handoff_id}" in alert]  # staff chat told


async def test_other_danger_while_held_also_gets_the_hotlines(service: ConversationService) -> None:
    handoff_id = open_handoff(service)
    answers = await service.send(SENDER, VIOLENCE)
    assert_hotlines([a.text for a in answers])
    assert handoff_state(service, handoff_id)[0] == PRIORITY_EMERGENCY


async def test_an_ordinary_message_while_held_stays_with_staff(service: ConversationService) -> None:
    handoff_id = open_handoff(service)
    assert await service.send(SENDER, "我想问一下低保的进度") == []
    assert handoff_state(service, handoff_id)[0] == PRIORITY_NORMAL and service.rasa.received == []


async def test_a_second_crisis_message_does_not_alert_staff_again(service: ConversationService) -> None:
    open_handoff(service)
    await service.send(SENDER, CRISIS)
    answers = await service.send(SENDER, "真的撑不下去了")
    assert_hotlines([a.text for a in answers], "12356")
    assert len(service.alerts) == 1


# --- danger words before Rasa ------------------------------------------------------------------------


async def test_self_harm_is_answered_before_rasa_and_handed_to_staff(service: ConversationService) -> None:
    answers = await service.send(SENDER, CRISIS)
    assert_hotlines([a.text for a in answers], "110", "120", "12356")
    assert service.rasa.received == []
    with service.sessions.begin() as session:
        handoff = active_handoff(SENDER, session=session)
        assert handoff is not None and handoff.priority == PRIORITY_EMERGENCY
    assert len(service.alerts) == 1


@pytest.mark.parametrize("failure", [RasaUnavailable("down"), MessageLost("action server died")])
async def test_danger_words_get_the_hotlines_when_rasa_or_actions_are_down(
    service: ConversationService, failure: Exception
) -> None:
    service.rasa.failure = failure
    answers = await service.send(SENDER, VIOLENCE)
    assert_hotlines([a.text for a in answers])
    with service.sessions.begin() as session:
        assert active_handoff(SENDER, session=session).priority == PRIORITY_EMERGENCY


async def test_the_hotlines_go_out_even_with_the_database_down(service: ConversationService) -> None:
    from sqlalchemy.exc import OperationalError

    class BrokenSessions:
        def begin(self) -> None:
            raise OperationalError("select 1", {}, Exception("database is down"))

        __call__ = begin

    service.sessions = BrokenSessions()
    service.rasa.failure = RasaUnavailable("down")
    answers = await service.send(SENDER, CRISIS)
    assert_hotlines([a.text for a in answers], "110", "120", "12356")
    with pytest.raises(OperationalError):
        await service.send(SENDER, "低保怎么申请")


async def test_ordinary_message_when_rasa_is_down_is_busy(service: ConversationService) -> None:
    service.rasa.failure = RasaUnavailable("down")
    with pytest.raises(RasaUnavailable):
        await service.send(SENDER, "低保怎么申请")


def test_every_busy_reply_names_110_and_120() -> None:
    for text in (BUSY_TEXT, RESEND_TEXT, bot_texts.busy_message("12345"), bot_texts.RESEND, SLOW_DOWN_TEXT):
        assert "110" in text and "120" in text, text


async def test_policy_questions_about_the_homeless_still_reach_rasa(service: ConversationService) -> None:
    """Only self-harm pre-empts Rasa; other danger words need the model's emergency intent too."""
    answers = await service.send(SENDER, "流浪乞讨人员救助政策是什么")
    assert [a.text for a in answers] == ["回答：流浪乞讨人员救助政策是什么"]


# --- control characters --------------------------------------------------------------------------------


async def test_control_and_bidi_characters_never_reach_rasa_or_the_transcript(service: ConversationService) -> None:
    answers = await service.send(SENDER, "\x00低保\u202e怎么\ud800申请\x1b 😀")
    assert service.rasa.received == ["低保怎么申请 😀"]
    assert stored_lines(service) == ["低保怎么申请 😀"] and answers


# --- the burst ---------------------------------------------------------------------------------------


async def test_ten_thousand_identical_messages_are_rate_limited_politely(service: ConversationService) -> None:
    clock = Clock()
    service.limiter = ChatRateLimiter(clock=clock)
    replies = [await service.send(SENDER, "低保怎么申请") for _ in range(10_000)]
    answered = [r for r in replies if r and r[0].text.startswith("回答")]
    told = [r for r in replies if r and r[0].text == SLOW_DOWN_TEXT]
    assert len(answered) == BURST and len(service.rasa.received) == BURST
    assert len(told) == 1  # told once, then quiet: a Telegram chat is not flooded with notices
    assert sum(1 for r in replies if not r) == 10_000 - BURST - 1
    with service.sessions.begin() as session:
        assert session.scalar(select(func.count(ConversationMessage.id))) <= 2 * BURST  # no 10,000 rows
    clock.now += BURST_SECONDS + 1  # the window has room again: the resident is answered normally
    assert (await service.send(SENDER, "低保怎么申请"))[0].text.startswith("回答")


async def test_the_minute_limit_holds_for_a_steady_flood(service: ConversationService) -> None:
    clock = Clock()
    service.limiter = ChatRateLimiter(clock=clock)
    answered_at: list[float] = []
    for _ in range(160):  # one message every 0.75 s for two minutes: under 15 per 10 s, over 60 a minute
        before = len(service.rasa.received)
        await service.send(SENDER, "你好")
        if len(service.rasa.received) > before:
            answered_at.append(clock.now)
        clock.now += 0.75
    assert PER_MINUTE <= len(answered_at) < 160
    for start in answered_at:  # no minute holds more than 60 answered messages
        assert sum(1 for t in answered_at if start <= t < start + 60) <= PER_MINUTE


async def test_the_web_chat_is_told_on_every_limited_request(service: ConversationService) -> None:
    service.limiter = ChatRateLimiter(clock=Clock())
    for _ in range(BURST):
        await service.send(SENDER, "你好", raise_when_limited=True)
    for _ in range(3):
        with pytest.raises(RateLimited) as limited:
            await service.send(SENDER, "你好", raise_when_limited=True)
        assert [m.text for m in limited.value.reply] == [SLOW_DOWN_TEXT]


async def test_a_limited_chat_still_gets_the_hotlines_once(service: ConversationService) -> None:
    service.limiter = ChatRateLimiter(clock=Clock())
    for _ in range(BURST + 1):
        await service.send(SENDER, "你好")
    first = await service.send(SENDER, CRISIS)
    assert_hotlines([a.text for a in first], "12356")
    assert await service.send(SENDER, CRISIS) == []


async def test_other_chats_are_not_limited_by_one_flood(service: ConversationService) -> None:
    service.limiter = ChatRateLimiter(clock=Clock())
    for _ in range(50):
        await service.send(SENDER, "你好")
    other = await service.send("tg-424242", "低保怎么申请")
    assert other[0].text == "回答：低保怎么申请"


def test_the_limit_is_a_setting(tmp_path) -> None:  # noqa: ANN001
    from civil_affairs.config import ConfigError
    from tests.conftest import make_settings

    assert make_settings(tmp_path).chat_rate_limit == RATE_LIMITS
    assert make_settings(tmp_path, CHAT_RATE_LIMIT="5/1,100/3600").chat_rate_limit == ((5, 1.0), (100, 3600.0))
    for bad in ("x", "0/10", "5/0", "5"):
        with pytest.raises(ConfigError, match="CHAT_RATE_LIMIT"):
            make_settings(tmp_path, CHAT_RATE_LIMIT=bad)


@pytest.mark.parametrize(
    "text",
    ["我要举报村干部违规办低保", "我要舉報村幹部違規辦低保", "找記者曝光你們", "ＸＸ局长受贿"],
)
def test_sensitive_content_is_recognised_in_traditional_and_full_width_forms(text: str) -> None:
    assert is_sensitive(text)


@pytest.mark.parametrize("text", ["低保怎么申请", "結婚登記要帶什麼", "怎么查低保审批进度"])
def test_policy_questions_are_not_sensitive(text: str) -> None:
    assert not is_sensitive(text)
