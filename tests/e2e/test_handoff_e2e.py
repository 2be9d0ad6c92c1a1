"""转人工 end to end: a resident asks for a person, staff answer from the console in a real browser.

The real stack (Rasa with the trained model, the action server, the console as processes) and, for
Telegram, the real bot in-process; the bot and the stack's console and action server all talk to
the same fake Telegram Bot API (``stack.telegram``). Staff use headless Chromium (Debian package).
Afterwards no log file of the stack may hold the fictitious ID or phone number sent on the way.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from telegram.ext import Application

from civil_affairs.config import Settings
from civil_affairs.conversations.handoff import active_handoff
from civil_affairs.conversations.texts import RATING_REQUEST
from civil_affairs.conversations.transcripts import web_sender_id
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.staff_accounts import ensure_user
from tests.e2e.conftest import STAFF_CHAT_ID, Stack
from tests.helpers.fake_telegram import FakeTelegramServer

playwright_api = pytest.importorskip("playwright.async_api")
async_playwright, expect = playwright_api.async_playwright, playwright_api.expect

pytestmark = [pytest.mark.model, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHAT = 880001
WAIT = 30.0  # seconds: a real-model answer can take a few seconds on a loaded 2-core machine
WAIT_MS = int(WAIT * 1000)
STAFF_USER, STAFF_PASSWORD = "e2e-agent", "correct-horse-battery"
# Fictitious numbers (not a real person's): they must show only masked anywhere but the resident's chat.
FAKE_ID, FAKE_ID_MASKED = "110101199003071234", "110***********1234"
FAKE_PHONE, FAKE_PHONE_MASKED = "13912345678", "139****5678"
ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

StartBot = Callable[[Settings], Awaitable[Application]]


@pytest.fixture
def telegram_server(stack: Stack) -> FakeTelegramServer:
    """The in-process bot uses the stack's fake Telegram, where the console sends staff replies."""
    assert stack.telegram is not None
    stack.telegram.clear()
    return stack.telegram


@pytest.fixture(scope="module")
def staff_account(stack: Stack) -> tuple[str, str]:
    """A staff member in the stack's database (created once)."""
    engine = make_engine(stack.settings.database_url)
    with make_session_factory(engine).begin() as session:
        ensure_user(STAFF_USER, STAFF_PASSWORD, session=session, role="agent", display_name="小王")
    engine.dispose()
    return STAFF_USER, STAFF_PASSWORD


def active_handoff_id(stack: Stack, sender_id: str) -> int | None:
    """The id of the resident's open or assigned handoff, read from the stack's database."""
    engine = make_engine(stack.settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            handoff = active_handoff(sender_id, session=session)
            return handoff.id if handoff else None
    finally:
        engine.dispose()


async def wait_for_handoff(stack: Stack, sender_id: str) -> int:
    for _ in range(int(WAIT * 10)):
        found = await asyncio.to_thread(active_handoff_id, stack, sender_id)
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no handoff for {sender_id}")


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[object]:
    """Headless Debian Chromium driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-wqy-zenhei)")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


async def staff_queue_page(browser: object, stack: Stack, account: tuple[str, str]) -> object:
    """A logged-in staff member looking at the open queue."""
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{stack.console_url}/staff/handoffs")  # redirects to the login form
    await page.fill('input[name="username"]', account[0])
    await page.fill('input[name="password"]', account[1])
    await page.click('button[type="submit"]')
    await page.wait_for_url("**/staff/handoffs")
    await expect(page.locator("h1")).to_have_text("转人工队列")
    return page


async def next_message(server: FakeTelegramServer, chat_id: int, seen: int) -> tuple[object, int]:
    """The first message to ``chat_id`` after the ``seen`` ones, and how many have been sent now."""
    messages = await server.wait_for_messages(chat_id, seen + 1, timeout=WAIT)
    await asyncio.sleep(0.3)  # let a multi-part answer finish before counting
    return messages[seen], len(server.sent_messages(chat_id))


async def open_from_queue(page: object, handoff_id: int) -> None:
    """The new row appears without a reload (polling); open it."""
    row = page.locator(f'#queue tr[data-id="{handoff_id}"]')
    await expect(row).to_be_visible(timeout=WAIT_MS)
    await row.get_by_role("link").click()
    await page.wait_for_url(f"**/staff/handoffs/{handoff_id}")


async def test_telegram_resident_is_served_by_staff_then_by_the_bot_again(
    stack: Stack,
    start_bot: StartBot,
    bot_env: dict[str, str],
    telegram_server: FakeTelegramServer,
    browser: object,
    staff_account: tuple[str, str],
) -> None:
    await start_bot(
        Settings.from_env(
            {
                **bot_env,
                **stack.rasa_env,
                "DATABASE_URL": stack.settings.database_url,
                "RASA_TIMEOUT_SECONDS": "20",
            },
            dotenv=None,
        )
    )
    page = await staff_queue_page(browser, stack, staff_account)

    telegram_server.push_text(CHAT, "转人工")
    ack, seen = await next_message(telegram_server, CHAT, 0)
    assert "转接工作人员" in ack.text
    handoff_id = await wait_for_handoff(stack, f"tg-{CHAT}")
    alerts = await telegram_server.wait_for_messages(STAFF_CHAT_ID, 1, timeout=WAIT)
    assert any(f"#{handoff_id}" in m.text for m in telegram_server.sent_messages(STAFF_CHAT_ID)), alerts

    await open_from_queue(page, handoff_id)
    transcript = page.locator("#transcript")
    await expect(transcript).to_contain_text("转人工")
    await expect(transcript).to_contain_text("转接工作人员")  # the bot's part is in the transcript

    reply = "您好，我是区民政局的工作人员小王，请问有什么可以帮您？"
    await page.fill("#reply-form textarea", reply)
    await page.click("#reply-form button")
    delivered, seen = await next_message(telegram_server, CHAT, seen)
    assert delivered.text == reply
    await expect(transcript).to_contain_text(reply)

    # The resident writes again: staff see it at once (masked); the bot says nothing.
    telegram_server.push_text(CHAT, f"我身份证号{FAKE_ID}，电话{FAKE_PHONE}，想问低保复核的事")
    await expect(transcript).to_contain_text(f"我身份证号{FAKE_ID_MASKED}，电话{FAKE_PHONE_MASKED}", timeout=WAIT_MS)
    html = await page.content()
    assert FAKE_ID not in html and FAKE_PHONE not in html
    await asyncio.sleep(1.5)
    assert len(telegram_server.sent_messages(CHAT)) == seen, [m.text for m in telegram_server.sent_messages(CHAT)]

    await page.click("#resolve-form button")
    await expect(page.locator("#handoff-status")).to_have_text("已结束")
    rating, seen = await next_message(telegram_server, CHAT, seen)
    assert rating.text == RATING_REQUEST and ("5分 非常满意", "/rate_service:5") in rating.button_list

    telegram_server.push_callback(CHAT, "/rate_service:5", message_id=rating.message_id)
    thanks, seen = await next_message(telegram_server, CHAT, seen)
    assert "感谢您的评价" in thanks.text
    telegram_server.push_text(CHAT, "结婚登记要带什么")
    answer, seen = await next_message(telegram_server, CHAT, seen)
    assert "身份证" in answer.text  # the bot answers again


async def test_web_chat_resident_is_served_by_staff(
    stack: Stack, browser: object, staff_account: tuple[str, str]
) -> None:
    staff = await staff_queue_page(browser, stack, staff_account)
    resident_context = await browser.new_context(locale="zh-CN")
    resident = await resident_context.new_page()
    await resident.goto(f"{stack.console_url}/chat")
    log = resident.locator("#log")
    await expect(log).to_contain_text("您好", timeout=WAIT_MS)  # the greeting

    async def say(text: str) -> None:
        await resident.fill("#message", text)
        await resident.click("#send")

    # Personal numbers on the way through Rasa and the action server (checked in the logs below).
    await say(f"我电话{FAKE_PHONE}，身份证{FAKE_ID}，低保怎么申请")
    await expect(resident.locator("#send")).to_be_enabled(timeout=WAIT_MS)  # the bot has answered
    await say("转人工")
    await expect(log).to_contain_text("转接工作人员", timeout=WAIT_MS)
    cookie = next(c["value"] for c in await resident_context.cookies() if c["name"] == "webchat_id")
    handoff_id = await wait_for_handoff(stack, web_sender_id(cookie))

    await open_from_queue(staff, handoff_id)
    transcript = staff.locator("#transcript")
    await expect(transcript).to_contain_text(f"我电话{FAKE_PHONE_MASKED}")  # before the escalation
    reply = "您好，低保申请请带户口簿和身份证到户籍所在地乡镇（街道）办理。"
    await staff.fill("#reply-form textarea", reply)
    await staff.click("#reply-form button")
    await expect(log).to_contain_text("工作人员：" + reply, timeout=WAIT_MS)

    await say("好的，谢谢您")
    await expect(transcript).to_contain_text("好的，谢谢您", timeout=WAIT_MS)
    await staff.fill("#note-form textarea", "已解答低保材料，待居民确认")
    await staff.click("#note-form button")
    await expect(staff.locator("#notes")).to_contain_text("已解答低保材料")

    await staff.click("#resolve-form button")
    await expect(staff.locator("#handoff-status")).to_have_text("已结束")
    rate = resident.get_by_role("button", name="5分 非常满意")
    await expect(rate).to_be_visible(timeout=WAIT_MS)
    await expect(log).to_contain_text(RATING_REQUEST)
    await rate.click()
    await expect(log).to_contain_text("感谢您的评价", timeout=WAIT_MS)
    await say("结婚登记要带什么")
    await expect(log).to_contain_text("签字声明", timeout=WAIT_MS)  # the bot's FAQ answer
    assert "已解答低保材料" not in await resident.content()  # internal notes never reach the resident
    await resident_context.close()


def test_no_log_file_holds_a_personal_number_unmasked(stack: Stack) -> None:
    """Runs after the flows above; sends the numbers once more itself so it also holds when run alone."""
    with httpx.Client(base_url=stack.console_url, timeout=30) as web:
        web.post("/api/chat", json={"message": f"手机{FAKE_PHONE} 身份证{FAKE_ID} 特困供养怎么申请"})
    stack.say("e2e-log-check", f"我的身份证是{FAKE_ID}，电话{FAKE_PHONE}")
    logs = sorted(p for p in stack.log_dir.rglob("*") if p.is_file())
    assert logs, f"no log files in {stack.log_dir}"
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert FAKE_ID not in text and FAKE_PHONE not in text, path.name
        assert not ID_RE.search(text), f"{path.name}: {ID_RE.search(text).group(0)[:4]}…"
        assert not MOBILE_RE.search(text), f"{path.name}: {MOBILE_RE.search(text).group(0)[:3]}…"
