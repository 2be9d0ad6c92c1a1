"""The replica topology started by the real launcher (``python -m launcher``), and what it survives.

Two Rasa replicas, two action servers (each Rasa replica calls both), two console workers and the
Telegram bot (against a fake Bot API on loopback), on PostgreSQL and Redis. Under steady load from
web-chat and Telegram residents the test kills (``kill -9``) one Rasa replica, then an action
server, then the bot: every resident message gets exactly one answer or an explicit "请再发一次",
no booking is made twice, and a Telegram update delivered again after the bot's restart is answered
once. Skipped where PostgreSQL or Redis is unreachable.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot import texts as bot_texts
from civil_affairs.config import PROJECT_ROOT, Settings
from civil_affairs.conversations.texts import BUSY_TEXT, RESEND_TEXT
from civil_affairs.conversations.transcripts import web_sender_id
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import Appointment, TelegramUpdate
from civil_affairs.ops.run_files import rasa_token_path, read_rasa_token, read_rest_token, rest_token_path
from civil_affairs.ops.supervisor_status import ProcessStatus, SupervisorStatus, read_status
from civil_affairs.tokens import REST_TOKEN_HEADER
from tests.helpers.booking_factory import make_id
from tests.helpers.fake_telegram import FakeTelegramServer
from tests.helpers.stacks import forget_redis_keys, replicas_unavailable, stack_environment
from tests.helpers.telegram_fixtures import TEST_TOKEN

pytestmark = [pytest.mark.model, pytest.mark.postgres, pytest.mark.redis]

PROCESSES = ["actions-1", "actions-2", "rasa-1", "rasa-2", "console-1", "console-2", "bot"]
QUESTIONS = [
    "低保怎么申请",
    "高龄津贴怎么领",
    "结婚登记要带什么",
    "特困供养有哪些条件",
    "临时救助怎么申请",
    "残疾人两项补贴是什么",
    "离婚登记需要什么材料",
    "惠民殡葬有什么补贴",
]
ANSWER_WAIT = 120.0  # a Telegram answer may wait for the bot's restart on a loaded machine
QUIET = 2.0
RESEND_TEXTS = {RESEND_TEXT, BUSY_TEXT}
TELEGRAM_RESEND = (bot_texts.RESEND, bot_texts.RESEND_AFTER_RESTART, bot_texts.BUSY)


@dataclass
class Launched:
    """The launcher process and what the tests need to reach its processes."""

    popen: subprocess.Popen
    settings: Settings
    env: dict[str, str]
    output: Path
    telegram: FakeTelegramServer

    def status(self) -> SupervisorStatus:
        status = read_status(self.settings.data_dir / "run" / "supervisor.json")
        assert status is not None
        return status

    def process(self, name: str) -> ProcessStatus:
        return next(p for p in self.status().processes if p.name == name)

    def wait(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"the launcher exited:\n{self.output.read_text()[-3000:]}")
            try:
                if check():
                    return
            except (AssertionError, StopIteration):
                pass
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output.read_text()[-3000:]}")

    def all_running(self) -> bool:
        return [(p.name, p.state) for p in self.status().processes] == [(n, "running") for n in PROCESSES]


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[Launched]:
    """`make run` with the replica settings, as an operator starts it; stopped with SIGTERM afterwards."""
    if why := replicas_unavailable():
        pytest.skip(f"replica topology: {why}")
    tmp = tmp_path_factory.mktemp("replicas")
    telegram = FakeTelegramServer(token_check=TEST_TOKEN).start()
    env = stack_environment(
        tmp,
        "replicas",
        telegram,
        database_suffix="kill",
        RUN_ROLES="actions,rasa,console,bot",
        TELEGRAM_MODE="polling",
        RESTART_BACKOFF_MAX_SECONDS="2",
        RESTART_MAX_FAST_FAILURES="50",
        HEALTH_CHECK_INTERVAL_SECONDS="5",
        MODEL_DIR=str(trained_model.parent),
        RASA_TIMEOUT_SECONDS="30",
        # the scripted residents send a message every 0.3 s, far beyond a person
        CHAT_RATE_LIMIT="1000/10",
    )
    output = tmp / "launcher.out"
    with output.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "launcher"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    handle = Launched(popen, Settings.from_env(env, dotenv=None), env, output, telegram)
    try:
        handle.wait(handle.all_running, 1500, "every process to serve")
        yield handle
    finally:
        pids = [p.pid for p in handle.status().processes if p.pid] if popen.poll() is None else []
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout=180)
        except subprocess.TimeoutExpired:
            popen.kill()
        leftovers = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
        telegram.stop()
        forget_redis_keys(env["REDIS_KEY_PREFIX"])
        assert leftovers == [], f"processes outlived the launcher: {leftovers}"


def test_every_process_answers_on_the_ports_of_a_single_machine_install(launched: Launched) -> None:
    settings = launched.settings
    token = read_rasa_token(settings)  # generated by the launcher, left for scripts of its user
    rest_token = read_rest_token(settings)
    assert token and rest_token and token != rest_token
    for path in (rasa_token_path(settings), rest_token_path(settings)):
        assert path.stat().st_mode & 0o777 == 0o600
    for port in (settings.rasa_port, settings.rasa_port + 1):
        assert httpx.get(f"http://127.0.0.1:{port}/status", params={"token": token}, timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/status", timeout=10).status_code == 401
        message = {"sender": f"web-{uuid.uuid4().hex}", "message": "你好"}
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        assert httpx.post(url, json=message, timeout=60).status_code == 401
        assert httpx.post(url, json=message, headers={REST_TOKEN_HEADER: rest_token}, timeout=60).status_code == 200
    for port in (settings.action_port, settings.action_port + 1):
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    for path in ("/healthz", "/readyz"):
        assert httpx.get(f"http://127.0.0.1:{settings.console_port}{path}", timeout=10).status_code == 200


def test_one_conversation_continues_on_either_replica(launched: Launched) -> None:
    """Rasa replicas share the conversation: a form begun on one continues on the other."""
    sender = f"web-{uuid.uuid4().hex}"
    urls = [f"http://127.0.0.1:{launched.settings.rasa_port + i}/webhooks/rest/webhook" for i in (0, 1)]

    def say(replica: int, text: str) -> list[dict]:
        response = httpx.post(
            urls[replica],
            json={"sender": sender, "message": text},
            headers={REST_TOKEN_HEADER: read_rest_token(launched.settings)},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    days = say(0, "我想预约结婚登记")
    slots = say(1, next(m for m in days if m.get("buttons"))["buttons"][0]["payload"])
    asked = say(0, next(m for m in slots if m.get("buttons"))["buttons"][0]["payload"])
    assert "男方的姓名" in " ".join(m.get("text") or "" for m in asked)
    assert "身份证" in " ".join(m.get("text") or "" for m in say(1, "张伟"))


# --- steady load with kills ---------------------------------------------------------------------------


@dataclass
class Log:
    """What happened to every resident message."""

    answered: int = 0
    resend: int = 0
    problems: list[str] = field(default_factory=list)


async def web_resident(base_url: str, questions: list[str], stop: asyncio.Event, log: Log) -> None:
    """A web-chat resident asking one question after another."""
    async with httpx.AsyncClient(base_url=base_url, timeout=90) as browser:
        turn = 0
        while not stop.is_set():
            question = questions[turn % len(questions)]
            turn += 1
            try:
                response = await browser.post("/api/chat", json={"message": question})
            except httpx.HTTPError as exc:
                log.problems.append(f"web: no answer to {question!r}: {type(exc).__name__}")
                continue
            shown = [m.get("text") for m in response.json().get("messages", [])]
            if response.status_code == 200 and shown and all(shown):
                log.answered += 1
            elif response.status_code == 503 and len(shown) == 1 and shown[0] in RESEND_TEXTS:
                log.resend += 1
            else:
                log.problems.append(f"web: {response.status_code} {shown!r} for {question!r}")
            await asyncio.sleep(0.3)


async def telegram_resident(
    server: FakeTelegramServer,
    chat_id: int,
    questions: list[str],
    stop: asyncio.Event,
    log: Log,
    sent_updates: list[int],
) -> None:
    """A Telegram resident: sends, waits for the whole answer, then sends the next message."""
    turn = 0
    while not stop.is_set():
        question = questions[turn % len(questions)]
        turn += 1
        before = len(server.sent_messages(chat_id))
        sent_updates.append(server.push_text(chat_id, question)["update_id"])
        deadline = time.monotonic() + ANSWER_WAIT
        while len(server.sent_messages(chat_id)) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if len(server.sent_messages(chat_id)) == before:
            log.problems.append(f"telegram {chat_id}: silence after {question!r}")
            continue
        # The answer is complete when nothing more arrives for a while (an answer may be two
        # messages: the FAQ entry, then "您可能还想问" buttons); a second answer would show here.
        count, quiet_since = len(server.sent_messages(chat_id)), time.monotonic()
        while time.monotonic() - quiet_since < QUIET:
            await asyncio.sleep(0.1)
            if len(server.sent_messages(chat_id)) != count:
                count, quiet_since = len(server.sent_messages(chat_id)), time.monotonic()
        shown = [m.text or m.caption or m.method for m in server.sent_messages(chat_id)[before:count]]
        log.problems.extend(judge(f"telegram {chat_id}", question, shown))
        if shown[0].startswith(TELEGRAM_RESEND):
            log.resend += 1
        else:
            log.answered += 1


def judge(who: str, question: str, shown: list[str]) -> list[str]:
    """Problems with the bot's messages for one resident message: one answer, or one request to resend."""
    resends = [text for text in shown if text.startswith(TELEGRAM_RESEND)]
    if resends and len(shown) != 1:
        return [f"{who}: a request to resend plus other messages for {question!r}: {shown}"]
    if len(set(shown)) != len(shown):
        return [f"{who}: a message repeated in the answer to {question!r}: {shown}"]
    return []


async def web_booking(base_url: str, log: Log, codes: list[str]) -> str:
    """A resident books through the web chat, sending again whatever the bot asks to be sent again."""
    async with httpx.AsyncClient(base_url=base_url, timeout=90) as browser:

        async def say(text: str) -> list[dict]:
            for _ in range(6):
                response = await browser.post("/api/chat", json={"message": text})
                messages = response.json().get("messages", [])
                if response.status_code == 200:
                    log.answered += 1
                    return messages
                log.resend += 1
                await asyncio.sleep(1.0)
            raise AssertionError(f"no answer to {text!r} after six tries")

        def payload(messages: list[dict]) -> str:
            return next(m for m in messages if m.get("buttons"))["buttons"][0]["payload"]

        days = await say("我想预约结婚登记")
        slots = await say(payload(days))
        await say(payload(slots))
        await say("王强")
        await say(make_id(date(1990, 3, 3), male=True, area="360103", serial=71))
        await say("赵敏")
        await say(make_id(date(1993, 4, 4), male=False, area="360103", serial=72))
        await say("13979310077")
        done = await say("/affirm")
        codes.extend(m["text"] for m in done if m.get("text") and "预约码" in m["text"])
        return browser.cookies.get("webchat_id") or ""


def kill(launched: Launched, name: str) -> int:
    """kill -9 one process; returns how many restarts it had before."""
    process = launched.process(name)
    assert process.pid
    os.kill(process.pid, signal.SIGKILL)
    return process.restarts


async def test_nothing_lost_and_nothing_twice_while_rasa_actions_and_bot_are_killed(launched: Launched) -> None:
    settings, server = launched.settings, launched.telegram
    console = f"http://127.0.0.1:{settings.console_port}"
    stop, web_log, telegram_log = asyncio.Event(), Log(), Log()
    sent_updates: list[int] = []
    codes: list[str] = []
    residents = [
        asyncio.create_task(web_resident(console, QUESTIONS[i:] + QUESTIONS[:i], stop, web_log)) for i in range(3)
    ]
    residents += [
        asyncio.create_task(
            telegram_resident(
                server, 990_000 + i, QUESTIONS[i + 3 :] + QUESTIONS[: i + 3], stop, telegram_log, sent_updates
            )
        )
        for i in range(3)
    ]
    booking = asyncio.create_task(web_booking(console, web_log, codes))

    await asyncio.sleep(8)
    kill(launched, "rasa-1")
    await asyncio.sleep(12)
    actions_restarts = kill(launched, "actions-1")
    await asyncio.sleep(12)
    bot_restarts = kill(launched, "bot")
    await asyncio.to_thread(
        launched.wait,
        lambda: launched.process("bot").restarts > bot_restarts and launched.process("bot").state == "running",
        300,
        "the bot's restart",
    )
    await asyncio.sleep(10)
    stop.set()
    webchat_id = await asyncio.wait_for(booking, timeout=600)
    await asyncio.wait_for(asyncio.gather(*residents), timeout=2 * ANSWER_WAIT)

    print(
        f"\nweb: {web_log.answered} answered, {web_log.resend} asked to send again; "
        f"telegram: {telegram_log.answered} answered, {telegram_log.resend} asked to send again"
    )
    assert web_log.problems == [], "\n".join(web_log.problems)
    assert telegram_log.problems == [], "\n".join(telegram_log.problems)
    assert web_log.answered > 10 and telegram_log.answered > 5
    # The supervisor restarted what was killed (Rasa may still be loading its model).
    assert launched.process("actions-1").restarts > actions_restarts
    assert launched.process("rasa-1").restarts >= 1

    # Telegram delivers an answered update again after the bot's restart: no second answer.
    chat = 990_000
    before = len(server.sent_messages(chat))
    server.push_update(
        {
            "update_id": sent_updates[0],
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "text": QUESTIONS[0],
                "chat": {"id": chat, "type": "private", "first_name": "居民"},
                "from": {"id": chat, "is_bot": False, "first_name": "居民"},
            },
        }
    )
    await asyncio.sleep(5)
    assert len(server.sent_messages(chat)) == before

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            booked = session.scalars(
                select(Appointment).where(Appointment.sender_id == web_sender_id(webchat_id))
            ).all()
            unfinished = session.scalars(
                select(TelegramUpdate).where(
                    TelegramUpdate.update_id.in_(sent_updates), TelegramUpdate.state.in_(("received", "processing"))
                )
            ).all()
    finally:
        engine.dispose()
    assert len(booked) == 1 and codes and booked[0].code in codes[-1]
    assert unfinished == []
