"""Resident text shown to staff is escaped everywhere, proved in headless Chromium (issue 9 item 13).

A resident types ``<img src=x onerror=…>``. On every page where staff (or the resident) see that
text — the queue (filled by script), the conversation (server-rendered, then polled), search,
transcript, unanswered questions, dashboard — the browser must show the characters, create no
``<img>`` element and run nothing. The check looks at the DOM, not only at the script having run:
the Content-Security-Policy would block the handler anyway, and escaping must not rely on it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from civil_affairs.config import Settings
from civil_affairs.conversations.handoff import escalate
from civil_affairs.conversations.rasa_client import RasaMessage
from civil_affairs.conversations.transcripts import record_message, web_sender_id
from civil_affairs.faq.store import record_unanswered
from civil_affairs.staff_accounts import create_user
from console.app import create_app
from launcher.ports import free_port

playwright_api = pytest.importorskip("playwright.async_api")
async_playwright, expect = playwright_api.async_playwright, playwright_api.expect

pytestmark = pytest.mark.browser

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
PAYLOAD = "<img src=x onerror=\"window.__xss=(window.__xss||0)+1;alert('xss')\">低保"
PASSWORD = "correct-horse-battery"


class EchoRasa:
    """Echoes the resident's text back, so the bot's own answers carry the payload too."""

    async def send(self, sender_id: str, text: str, **_options: object) -> list[RasaMessage]:
        return [RasaMessage(text=f"您说的是：{text}", buttons=[])]

    async def aclose(self) -> None:
        return None


class ConsoleServer:
    """The real console app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on", loop="asyncio"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ConsoleServer:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            threading.Event().wait(0.05)
        raise RuntimeError("console did not start")

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def console(migrated_settings: Settings) -> Iterator[tuple[ConsoleServer, FastAPI]]:
    app = create_app(migrated_settings)
    with ConsoleServer(app) as server:
        app.state.conversations.rasa = EchoRasa()
        with app.state.sessions.begin() as session:
            create_user("boss1", PASSWORD, session=session, role="admin")
        yield server, app


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-wqy-zenhei)")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


async def assert_inert(page: object, where: str) -> None:
    """The payload is shown as text; no element was made from it and nothing ran."""
    await expect(page.get_by_text("<img src=x onerror=").first).to_be_visible(timeout=10_000)
    assert await page.locator("img[src='x']").count() == 0, where
    assert await page.evaluate("window.__xss === undefined"), where


async def test_resident_html_is_text_on_every_page(browser: object, console: tuple[ConsoleServer, FastAPI]) -> None:
    server, app = console
    dialogs: list[str] = []

    resident_context = await browser.new_context(locale="zh-CN")
    resident = await resident_context.new_page()
    resident.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
    await resident.goto(f"{server.url}/chat")
    await resident.fill("#message", PAYLOAD)
    await resident.click("#send")
    await assert_inert(resident, "resident chat")
    cookie = next(c["value"] for c in await resident_context.cookies() if c["name"] == "webchat_id")
    sender = web_sender_id(cookie)
    with app.state.sessions.begin() as session:
        handoff, _ = escalate(sender, "requested", session=session, summary=PAYLOAD)
        handoff_id = handoff.id
        record_unanswered(PAYLOAD, session=session)

    staff_context = await browser.new_context(locale="zh-CN")
    staff = await staff_context.new_page()
    staff.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
    await staff.goto(f"{server.url}/staff/login?next=/staff/handoffs")
    await staff.fill('input[name="username"]', "boss1")
    await staff.fill('input[name="password"]', PASSWORD)
    await staff.click('button[type="submit"]')
    await staff.wait_for_url("**/staff/handoffs")
    await asyncio.sleep(3)  # one refresh of the queue by script (textContent)
    await assert_inert(staff, "queue")

    await staff.goto(f"{server.url}/staff/handoffs/{handoff_id}")
    await assert_inert(staff, "handoff page")
    with app.state.sessions.begin() as session:  # a new line arrives through the page's polling
        record_message(sender, "resident", PAYLOAD.replace("低保", "特困"), session=session)
    await expect(staff.get_by_text("特困").first).to_be_visible(timeout=10_000)
    assert await staff.locator("img[src='x']").count() == 0
    assert await staff.evaluate("window.__xss === undefined")

    for path in ("/staff/conversations?q=onerror", "/staff/unanswered", "/staff/dashboard?period=all"):
        await staff.goto(f"{server.url}{path}")
        await assert_inert(staff, path)
    conversation = staff.locator('a[href^="/staff/conversations/"]').first
    await staff.goto(f"{server.url}/staff/conversations?q=onerror")
    await conversation.click()
    await assert_inert(staff, "transcript")
    assert dialogs == []


async def test_the_policy_stops_an_injected_script_even_so(
    browser: object, console: tuple[ConsoleServer, FastAPI]
) -> None:
    """Defence in depth: had escaping failed, the CSP still forbids inline handlers and scripts."""
    server, _app = console
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{server.url}/chat")
    ran = await page.evaluate("""() => new Promise(resolve => {
        window.__ran = false;
        const img = document.createElement('div');
        img.innerHTML = '<img src=x onerror="window.__ran=true">';
        document.body.appendChild(img);
        const s = document.createElement('script');
        s.textContent = 'window.__ran = true';
        document.body.appendChild(s);
        setTimeout(() => resolve(window.__ran), 500);
    })""")
    assert ran is False


async def test_staff_confirm_buttons_work_without_inline_handlers(
    browser: object, console: tuple[ConsoleServer, FastAPI]
) -> None:
    """The cancel-a-day button asks first (its handler moved to /static/staff.js for the CSP)."""
    server, _app = console
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    await page.goto(f"{server.url}/staff/login?next=/staff/appointments")
    await page.fill('input[name="username"]', "boss1")
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_url("**/staff/appointments")
    asked: list[str] = []

    async def refuse(dialog: object) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", lambda d: asyncio.ensure_future(refuse(d)))
    button = page.locator("button[data-confirm]")
    if await button.count() == 0:
        pytest.skip("no cancel-a-day button on today's page")
    await button.click()
    await asyncio.sleep(0.5)
    assert asked and "取消当天全部预约" in asked[0]
    assert page.url.endswith("/staff/appointments")  # dismissed: nothing was submitted
