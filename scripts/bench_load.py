"""`make bench-load`: residents talking to the whole service at once, on loopback, in one run.

Each simulated resident runs a realistic conversation: a greeting, policy questions, a marriage-
registration booking (date and slot buttons, names, ID numbers, phone, confirm), an application
status lookup, one more question and thanks. The service is started as `make run` starts it (the
launcher, as ``tests/helpers/stacks.py`` configures it) on

- the embedded default (SQLite, one Rasa, one action server, one console worker), and
- the replica topology (PostgreSQL + Redis, ``RASA_REPLICAS=2 ACTION_REPLICAS=2 CONSOLE_WORKERS=2``;
  skipped with a note when PostgreSQL or Redis is unreachable at ``TEST_POSTGRES_URL`` /
  ``TEST_REDIS_URL``),

and driven through three paths, each at 1, 10 and 50 concurrent conversations (closed loop: a
resident sends its next message when the answer to the previous one has arrived):

- ``rest``: Rasa's REST channel alone (``/webhooks/rest/webhook`` with the launcher's
  ``RASA_REST_TOKEN``, spread over the replicas as the channels spread them),
- ``web``: the whole web-chat path (console → conversation service → Rasa → actions → database),
- ``telegram``: the whole Telegram path, through a local fake Bot API (``tests/helpers``) that the
  bot long-polls; an answer is complete when as many Telegram messages arrived as Rasa REST and
  the web chat gave for the same step of the same conversation.

It prints messages/s, p50/p95/p99 latency, errors and each process's memory, and writes a JSON
report and a PNG plot of latency and throughput against load (``bench/`` by default). ``--quick``
runs a short conversation at 1 and 2 concurrent conversations on the default topology only (the
smoke test uses it). Also measured: one conversation asking the same question many times over
Rasa REST (``growth``), median latency per block of turns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

from bot import texts as bot_texts
from civil_affairs.applications.records import check_application, create_application
from civil_affairs.config import Settings
from civil_affairs.conversations.rasa_client import REST_WEBHOOK_PATH
from civil_affairs.conversations.texts import BUSY_TEXT, HANDED_OVER_REPLY, HANDOFF_ACKNOWLEDGEMENT, RESEND_TEXT
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.ops.run_files import read_rest_token
from civil_affairs.ops.supervisor_status import read_status
from civil_affairs.privacy import mask_personal_data
from civil_affairs.rasa_model import ensure_model
from civil_affairs.tokens import REST_TOKEN_HEADER
from launcher.processes import all_processes
from tests.helpers.applications import fictitious_id
from tests.helpers.booking_factory import make_id
from tests.helpers.fake_telegram import SEND_METHODS, FakeTelegramServer, SentMessage
from tests.helpers.stacks import forget_redis_keys, replicas_unavailable, stack_environment
from tests.helpers.telegram_fixtures import TEST_TOKEN

ROOT = Path(__file__).resolve().parent.parent

PATHS = ("rest", "web", "telegram")
TOPOLOGIES = ("default", "replicas")
CONCURRENCY = (1, 10, 50)
QUICK_CONCURRENCY = (1, 2)
# Conversations each resident runs one after the other: enough turns for percentiles at low load.
MIN_TURNS_PER_RUN = 500  # per run (path x concurrency): 150 gave p95s that moved by 200 ms between runs
APPLICATIONS = 50  # fictitious applications the residents look up
TELEGRAM_SETTLE = 1.0  # when fewer messages than expected arrive, the answer is over after this quiet
START_TIMEOUT = 900.0
TURN_TIMEOUT = 60.0
SHARED_SERVERS = {"postgresql (whole server)": ("postgres",), "redis (whole server)": ("redis-server",)}
WARM_UP_CONVERSATIONS = 4  # per path before the measured runs: reaches every replica of the replica topology
FAILED_TEXTS = {BUSY_TEXT, RESEND_TEXT, bot_texts.RESEND, bot_texts.RESEND_AFTER_RESTART}
GROWTH_QUESTION = "低保怎么申请"
# Targets of issue 11 (whole path = web chat; ratios to Rasa REST alone are reported beside them).
TARGET_REPLICAS_MPS_AT_10 = 40.0
TARGET_REPLICAS_P95_AT_10_MS = 300.0
TARGET_ALONE_P50_MS = 60.0


# --------------------------------------------------------------------------- the conversation


@dataclass(frozen=True)
class Step:
    """One resident message: a text, or a press of a button of the last answer (title contains ``value``)."""

    kind: str  # "text" or "button"
    value: str


def policy_questions() -> list[str]:
    """The FAQ's own questions (seed/faq), the kind residents ask; never the held-out sets."""
    questions: list[str] = []
    for path in sorted((ROOT / "seed" / "faq").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data.get("entries", data) if isinstance(data, dict) else data
        questions += [str(e["question"]) for e in entries or [] if isinstance(e, dict) and e.get("question")]
    return questions or ["低保怎么申请", "高龄津贴怎么领", "结婚登记要带什么"]


@dataclass(frozen=True)
class Resident:
    """Who a simulated resident is: unique ID numbers for the booking, an application to look up."""

    number: int  # unique in the run: the couple's ID numbers
    application: str
    application_last6: str
    variant: int = 0  # which questions: the same for the same conversation slot on every path


def script(resident: Resident, questions: list[str], quick: bool) -> list[Step]:
    """The resident's conversation."""
    n = resident.number
    q = [questions[(resident.variant * 3 + i) % len(questions)] for i in range(3)]
    area = f"36{(n // 100) % 10000:04d}"
    groom = make_id(date(1990, 3, 3), male=True, area=area, serial=n % 100)
    bride = make_id(date(1993, 4, 4), male=False, area=area, serial=n % 100)
    booking = [
        Step("text", "我想预约结婚登记"),
        Step("button", ""),
        Step("button", ""),
        Step("text", "王强"),
        Step("text", groom),
        Step("text", "赵敏"),
        Step("text", bride),
        Step("text", "13979310077"),
        Step("button", "确认"),
    ]
    lookup = [
        Step("text", "查一下办件进度"),
        Step("text", resident.application),
        Step("text", resident.application_last6),
    ]
    if quick:
        return [Step("text", "你好"), Step("text", q[0])] + booking + lookup
    return (
        [Step("text", "你好"), Step("text", q[0]), Step("text", q[1])]
        + booking
        + lookup
        + [Step("text", q[2]), Step("text", "谢谢")]
    )


@dataclass
class Answer:
    """What came back for one message."""

    ok: bool
    seconds: float
    messages: int = 0  # Telegram messages this answer makes (text/buttons, image, document)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, payload or callback data)
    error: str = ""
    settled: bool = False  # Telegram: fewer messages than the web chat showed; ended by quiet
    handed_over: bool = False  # the bot handed the conversation to staff and goes quiet in it


def handed_over(texts: list[str]) -> bool:
    """The conversation went to staff (a complaint, words of danger): the bot says no more in it."""
    return any(HANDOFF_ACKNOWLEDGEMENT in t or HANDED_OVER_REPLY in t for t in texts)


def telegram_count(messages: list[dict[str, Any]]) -> int:
    """How many Telegram messages the bot sends for these REST/web-chat messages (bot/rendering.py)."""
    count = 0
    for m in messages:
        custom = m.get("custom") if isinstance(m.get("custom"), dict) else {}
        count += bool(m.get("text") or m.get("buttons")) + bool(m.get("image"))
        count += bool(m.get("document") or custom.get("document"))
    return count


def json_answer(messages: list[dict[str, Any]], started: float) -> Answer:
    texts = [m.get("text") for m in messages if m.get("text")]
    buttons = [(str(b.get("title", "")), str(b.get("payload", ""))) for m in messages for b in m.get("buttons") or []]
    if not messages:
        return Answer(False, time.perf_counter() - started, error="no answer")
    if any(t in FAILED_TEXTS for t in texts):
        return Answer(False, time.perf_counter() - started, error="busy or resend")
    return Answer(
        True, time.perf_counter() - started, telegram_count(messages), buttons, handed_over=handed_over(texts)
    )


def choose(buttons: list[tuple[str, str]], title_part: str) -> str | None:
    return next((payload for title, payload in buttons if title_part in title), None)


# --------------------------------------------------------------------------- the three paths


# The residents' HTTP clients are aiohttp's: httpx spent 1.9 ms of CPU per request here against
# aiohttp's 0.35, CPU taken from the two cores the service under test runs on.


class RestPath:
    """Rasa's REST channel alone, each conversation on one replica by its sender id."""

    def __init__(self, rasa_urls: list[str], timeout: float, rest_token: str) -> None:
        self.urls = [u.rstrip("/") + REST_WEBHOOK_PATH for u in rasa_urls]
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout),
            connector=aiohttp.TCPConnector(limit=200),
            headers={REST_TOKEN_HEADER: rest_token},
        )

    def open(self, sender: str) -> RestChat:
        return RestChat(self, sender)

    async def aclose(self) -> None:
        await self.http.close()


class RestChat:
    def __init__(self, path: RestPath, sender: str) -> None:
        self.path, self.sender = path, sender
        self.url = path.urls[zlib.crc32(sender.encode("utf-8")) % len(path.urls)]

    async def say(self, text: str) -> Answer:
        started = time.perf_counter()
        try:
            async with self.path.http.post(self.url, json={"sender": self.sender, "message": text}) as response:
                if response.status != 200:
                    return Answer(False, time.perf_counter() - started, error=f"HTTP {response.status}")
                return json_answer(await response.json(), started)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return Answer(False, time.perf_counter() - started, error=type(exc).__name__)

    async def press(self, payload: str) -> Answer:
        return await self.say(payload)

    async def aclose(self) -> None:
        return None


class WebPath:
    """The resident web chat of the console (one browser, i.e. one cookie, per resident)."""

    def __init__(self, console_url: str, timeout: float) -> None:
        self.console_url, self.timeout = console_url, timeout

    def open(self, sender: str) -> WebChat:
        return WebChat(
            aiohttp.ClientSession(
                base_url=self.console_url,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                cookie_jar=aiohttp.CookieJar(unsafe=True),  # the console's cookie, on 127.0.0.1
            )
        )

    async def aclose(self) -> None:
        return None


class WebChat:
    def __init__(self, browser: aiohttp.ClientSession) -> None:
        self.browser = browser

    async def say(self, text: str) -> Answer:
        started = time.perf_counter()
        try:
            async with self.browser.post("/api/chat", json={"message": text}) as response:
                if response.status != 200:
                    return Answer(False, time.perf_counter() - started, error=f"HTTP {response.status}")
                return json_answer((await response.json()).get("messages", []), started)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return Answer(False, time.perf_counter() - started, error=type(exc).__name__)

    async def press(self, payload: str) -> Answer:
        return await self.say(payload)

    async def aclose(self) -> None:
        await self.browser.close()


class BenchTelegram(FakeTelegramServer):
    """The tests' fake Bot API, telling waiting residents at once when the bot sends to their chat.

    The base class keeps every call in one list that its helpers copy on each look; residents here
    are woken per chat instead, so that the load generator does not eat the CPU it measures.
    """

    def __init__(self) -> None:
        super().__init__(token_check=TEST_TOKEN)
        self._seen_calls = 0
        self.inbox: dict[int, list[SentMessage]] = {}
        self.waiters: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._inbox_lock = threading.Lock()

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        with self._lock:
            new, self._seen_calls = self._calls[self._seen_calls :], len(self._calls)
        for call in new:
            if call.method in SEND_METHODS and call.ok and isinstance(call.params.get("chat_id"), int):
                chat_id = call.params["chat_id"]
                with self._inbox_lock:
                    self.inbox.setdefault(chat_id, []).append(self._as_sent(call))
                    waiter = self.waiters.get(chat_id)
                if waiter is not None:
                    waiter[0].call_soon_threadsafe(waiter[1].set)
        return response


class TelegramPath:
    """The Telegram bot, long-polling the local fake Bot API."""

    def __init__(self, server: BenchTelegram, expected: dict[int, list[int]]) -> None:
        self.server, self.expected = server, expected
        self._chat_ids = iter(range(10_000_000, 99_000_000))

    def open(self, sender: str) -> TelegramChat:
        return TelegramChat(self, next(self._chat_ids))

    async def aclose(self) -> None:
        return None


class TelegramChat:
    def __init__(self, path: TelegramPath, chat_id: int) -> None:
        self.path, self.chat_id, self.seen, self.step, self.variant = path, chat_id, 0, 0, 0
        self.event = asyncio.Event()
        self.last_message_id: int | None = None
        with path.server._inbox_lock:
            path.server.waiters[chat_id] = (asyncio.get_running_loop(), self.event)

    def _inbox(self) -> list[SentMessage]:
        with self.path.server._inbox_lock:
            return list(self.path.server.inbox.get(self.chat_id, []))

    async def _answer(self, started: float, started_mono: float) -> Answer:
        """Wait for the answer: the count the web chat gave for this step, or quiet after the first."""
        counts = self.path.expected.get((self.variant, self.step)) or []
        expected = max(set(counts), key=counts.count) if counts else 0
        deadline = time.monotonic() + TURN_TIMEOUT
        while True:
            got = self._inbox()[self.seen :]
            if got and expected and len(got) >= expected:
                break
            timeout = deadline - time.monotonic()
            if got:
                timeout = min(timeout, TELEGRAM_SETTLE - (time.monotonic() - got[-1].at))
            if timeout <= 0:
                break
            self.event.clear()
            if len(self._inbox()) - self.seen != len(got):
                continue
            try:
                await asyncio.wait_for(self.event.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        got = self._inbox()[self.seen :]
        self.seen += len(got)
        if not got:
            return Answer(False, time.perf_counter() - started, error="silence")
        seconds = got[-1].at - started_mono
        texts = [m.text or m.caption or "" for m in got]
        if any(t.startswith((bot_texts.RESEND, bot_texts.RESEND_AFTER_RESTART, bot_texts.BUSY)) for t in texts):
            return Answer(False, seconds, error="busy or resend")
        with_buttons = [m for m in got if m.button_list]
        if with_buttons:
            self.last_message_id = with_buttons[-1].message_id
        buttons = [(title, data or "") for m in got for title, data in m.button_list]
        return Answer(True, seconds, len(got), buttons, settled=len(got) != expected, handed_over=handed_over(texts))

    async def say(self, text: str) -> Answer:
        started, started_mono = time.perf_counter(), time.monotonic()
        self.path.server.push_text(self.chat_id, text)
        return await self._answer(started, started_mono)

    async def press(self, payload: str) -> Answer:
        started, started_mono = time.perf_counter(), time.monotonic()
        self.path.server.push_callback(self.chat_id, payload, message_id=self.last_message_id)
        return await self._answer(started, started_mono)

    async def aclose(self) -> None:
        with self.path.server._inbox_lock:
            self.path.server.waiters.pop(self.chat_id, None)


# --------------------------------------------------------------------------- running residents


@dataclass
class RunResult:
    """One path at one concurrency on one topology."""

    topology: str
    path: str
    concurrency: int
    conversations: int
    turns: int
    errors: int
    error_kinds: dict[str, int]
    notes: dict[str, int]
    seconds: float
    messages_per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    load_before: float
    load_after: float
    # CPU time all the service's processes spent per answered message, and what that allows on
    # this machine's cores when nothing else runs (a figure the other work on the machine does not
    # inflate the way it inflates latency).
    cpu_ms_per_message: float | None = None
    capacity_messages_per_second: float | None = None
    load_generator_cpu_ms_per_message: float | None = None
    cpu_ms_per_message_by_process: dict[str, float] = field(default_factory=dict)
    p50_ms_by_step: dict[str, float | None] = field(default_factory=dict)  # "03 text 低保…": median ms


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def converse(
    chat: Any,
    resident: Resident,
    steps: list[Step],
    latencies: list[float],
    errors: dict[str, int],
    counts: dict[tuple[int, int], list[int]] | None,
    notes: dict[str, int],
    by_step: dict[int, list[float]] | None = None,
) -> None:
    """One resident's conversation; a failed step is counted and the conversation goes on."""
    buttons: list[tuple[str, str]] = []
    if hasattr(chat, "variant"):
        chat.variant = resident.variant
    try:
        for index, step in enumerate(steps):
            if hasattr(chat, "step"):
                chat.step = index  # the Telegram chat expects as many messages as the web chat got here
            if step.kind == "button":
                payload = choose(buttons, step.value)
                if payload is None:
                    errors["expected button missing"] = errors.get("expected button missing", 0) + 1
                    continue
                answer = await chat.press(payload)
            else:
                answer = await chat.say(step.value)
            if answer.settled:
                notes["telegram answers ended by quiet"] = notes.get("telegram answers ended by quiet", 0) + 1
            if answer.ok:
                latencies.append(answer.seconds)
                if by_step is not None:
                    by_step.setdefault(index, []).append(answer.seconds)
                buttons = answer.buttons
                if counts is not None:
                    counts.setdefault((resident.variant, index), []).append(answer.messages)
                if answer.handed_over:
                    # A resident handed to staff waits for a person; typing on would meet silence.
                    notes["conversations handed to staff (ended there)"] = (
                        notes.get("conversations handed to staff (ended there)", 0) + 1
                    )
                    break
            else:
                errors[answer.error] = errors.get(answer.error, 0) + 1
                buttons = []
    finally:
        await chat.aclose()


async def run_load(
    path_name: str,
    path: Any,
    topology: str,
    concurrency: int,
    residents: list[Resident],
    questions: list[str],
    quick: bool,
    counts: dict[tuple[int, int], list[int]] | None,
    run_tag: str,
) -> RunResult:
    """``concurrency`` residents at once, each running conversations until the run has enough turns."""
    rounds = max(1, len(residents) // concurrency)  # conversations each simulated resident runs in turn
    latencies: list[float] = []
    errors: dict[str, int] = {}
    notes: dict[str, int] = {}
    by_step: dict[int, list[float]] = {}
    load_before = os.getloadavg()[0]
    pool = iter(residents)

    async def resident_loop(slot: int) -> None:
        for round_ in range(rounds):
            resident = next(pool)
            resident = Resident(
                resident.number, resident.application, resident.application_last6, variant=slot * rounds + round_
            )
            chat = path.open(f"bench-{run_tag}-{path_name}-{concurrency}-{slot}-{round_}")
            steps = script(resident, questions, quick)
            await converse(chat, resident, steps, latencies, errors, counts, notes, by_step)

    started = time.perf_counter()
    await asyncio.gather(*(resident_loop(slot) for slot in range(concurrency)))
    seconds = time.perf_counter() - started
    turns = len(latencies) + sum(errors.values())
    ms = [s * 1000 for s in latencies]
    steps = script(residents[0], questions, quick)
    step_ms = {
        f"{index + 1:02d} {steps[index].kind} {mask_personal_data(steps[index].value)[:12]}": _round(
            percentile([s * 1000 for s in v], 50)
        )
        for index, v in sorted(by_step.items())
    }
    return RunResult(
        topology,
        path_name,
        concurrency,
        concurrency * rounds,
        turns,
        sum(errors.values()),
        errors,
        notes,
        round(seconds, 2),
        round(len(latencies) / seconds, 2) if seconds else 0.0,
        _round(percentile(ms, 50)),
        _round(percentile(ms, 95)),
        _round(percentile(ms, 99)),
        _round(statistics.fmean(ms) if ms else None),
        load_before,
        os.getloadavg()[0],
        p50_ms_by_step=step_ms,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def growth(
    rasa_url: str, rest_token: str, turns: int, block: int, timeout: float, run_tag: str
) -> dict[str, Any]:
    """One conversation asking the same question ``turns`` times over Rasa REST: median per block.

    Each turn is followed by the same question as the first message of a fresh conversation, so a
    change of the machine's load shows in both series, and only the conversation's length in the
    first one.
    """
    path = RestPath([rasa_url], timeout, rest_token)
    chat = RestChat(path, f"bench-{run_tag}-growth")
    long_ms: list[float] = []
    fresh_ms: list[float] = []
    try:
        # The first message of a fresh Rasa loads lazily built parts; not part of the conversation.
        await RestChat(path, f"bench-{run_tag}-warm-up").say(GROWTH_QUESTION)
        for turn in range(turns):
            answer = await chat.say(GROWTH_QUESTION)
            long_ms.append(answer.seconds * 1000 if answer.ok else float("nan"))
            fresh = await RestChat(path, f"bench-{run_tag}-fresh-{turn}").say(GROWTH_QUESTION)
            fresh_ms.append(fresh.seconds * 1000 if fresh.ok else float("nan"))
    finally:
        await path.aclose()

    def medians(values: list[float]) -> list[float]:
        return [round(statistics.median(values[i : i + block]), 1) for i in range(0, turns, block)]

    return {
        "question": GROWTH_QUESTION,
        "turns": turns,
        "block": block,
        "median_ms_per_block": medians(long_ms),
        "fresh_conversation_median_ms_per_block": medians(fresh_ms),
    }


# --------------------------------------------------------------------------- the service


@dataclass
class Service:
    """The launcher running one topology, and how to reach it."""

    topology: str
    popen: subprocess.Popen
    settings: Settings
    env: dict[str, str]
    output: Path

    def processes(self) -> list[Any]:
        status = read_status(self.settings.data_dir / "run" / "supervisor.json")
        return status.processes if status else []

    def cpu_seconds(self) -> float:
        """CPU time used so far by the launcher and every process it runs."""
        return _proc_cpu_seconds(self.popen.pid) + sum(_proc_cpu_seconds(p.pid) for p in self.processes() if p.pid)

    def cpu_seconds_by_process(self) -> dict[str, float]:
        """CPU time used so far by each process (the launcher's name: ``launcher``), and by the whole
        PostgreSQL and Redis servers of the machine (shared: other work on them counts too)."""
        used = {"launcher": _proc_cpu_seconds(self.popen.pid)}
        for process in self.processes():
            if process.pid:
                used[process.name] = _proc_cpu_seconds(process.pid)
        if self.topology == "replicas":
            for server, commands in SHARED_SERVERS.items():
                used[server] = sum(_proc_cpu_seconds(pid, reaped_children=True) for pid in _pids_of(commands))
        return used

    def memory(self) -> dict[str, dict[str, float | None]]:
        """Resident and peak memory (MB) of each process, from /proc."""
        memory = {"load-generator (this process)": _proc_memory(os.getpid()), "launcher": _proc_memory(self.popen.pid)}
        for process in self.processes():
            if process.pid:
                memory[process.name] = _proc_memory(process.pid)
        return memory


def _proc_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU time of a process (0 when it is gone); with ``reaped_children``, plus that of
    its children that have exited (PostgreSQL's backends end with their connections)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _pids_of(commands: tuple[str, ...]) -> list[int]:
    """Processes whose command name is one of ``commands`` (PostgreSQL's backends, Redis)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in commands:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _proc_memory(pid: int) -> dict[str, float | None]:
    values: dict[str, float | None] = {"rss_mb": None, "peak_mb": None}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                values["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                values["peak_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return values


def start_service(tmp: Path, topology: str, model: Path, telegram: FakeTelegramServer, rasa_timeout: float) -> Service:
    """`make run` (the launcher) with the topology's settings, the bot on the fake Bot API."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = stack_environment(
        tmp,
        topology,
        telegram,
        database_suffix="bench",
        RUN_ROLES="actions,rasa,console,bot",
        TELEGRAM_MODE="polling",
        MODEL_DIR=str(model.parent),
        RASA_TIMEOUT_SECONDS=str(rasa_timeout),
        BOOKING_REMINDERS="off",
        RETENTION_INTERVAL_SECONDS="0",
        # A simulated resident sends its 17 messages within a second or two, faster than any person:
        # the per-chat flood limit (15 in 10 s by default) would answer the last ones "slow down".
        CHAT_RATE_LIMIT="1000/10,6000/60",
    )
    output = tmp / f"launcher-{topology}.out"
    with output.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "launcher"],
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service(topology, popen, Settings.from_env(env, dotenv=None), env, output)
    expected = len(all_processes(service.settings, model))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"the launcher exited:\n{output.read_text()[-3000:]}")
        states = [p.state for p in service.processes()]
        if len(states) >= expected and all(s == "running" for s in states):
            return service
        time.sleep(0.5)
    stop_service(service)
    raise RuntimeError(f"the {topology} topology did not start in time:\n{output.read_text()[-3000:]}")


def stop_service(service: Service) -> None:
    if service.popen.poll() is None:
        service.popen.send_signal(signal.SIGTERM)
        try:
            service.popen.wait(timeout=180)
        except subprocess.TimeoutExpired:
            service.popen.kill()
    if "REDIS_KEY_PREFIX" in service.env:
        forget_redis_keys(service.env["REDIS_KEY_PREFIX"])


def add_applications(settings: Settings, count: int) -> list[tuple[str, str]]:
    """Fictitious applications (region 999999) to look up: (number, last 6 of the ID number)."""
    engine = make_engine(settings.database_url)
    found = []
    try:
        with make_session_factory(engine).begin() as session:
            for sequence in range(1, count + 1):
                data = check_application(
                    type_name="低保",
                    applicant_name="测试用户",
                    id_number=fictitious_id(sequence),
                    phone=None,
                    office="测试镇",
                    secret_key=settings.secret_key,
                )
                found.append((create_application(data, session=session).number, fictitious_id(sequence)[-6:]))
    finally:
        engine.dispose()
    return found


# --------------------------------------------------------------------------- the run


async def bench_topology(
    topology: str,
    tmp: Path,
    model: Path,
    args: argparse.Namespace,
    questions: list[str],
    counter: list[int],
    run_tag: str,
) -> dict[str, Any]:
    telegram = BenchTelegram().start()
    service = start_service(tmp / topology, topology, model, telegram, args.rasa_timeout)
    results: list[RunResult] = []
    try:
        applications = add_applications(service.settings, APPLICATIONS)

        def residents(count: int) -> list[Resident]:
            made = []
            for _ in range(count):
                counter[0] += 1
                number, last6 = applications[counter[0] % len(applications)]
                made.append(Resident(counter[0], number, last6))
            return made

        expected: dict[tuple[int, int], list[int]] = {}
        paths = {
            # The token the launcher generated and left in $DATA_DIR/run.
            "rest": RestPath(list(service.settings.rasa_urls), TURN_TIMEOUT, read_rest_token(service.settings)),
            "web": WebPath(f"http://127.0.0.1:{service.settings.console_port}", TURN_TIMEOUT),
            "telegram": TelegramPath(telegram, expected),
        }
        growth_result = None
        try:
            if args.growth_turns:
                growth_result = await growth(
                    service.settings.rasa_urls[0],
                    read_rest_token(service.settings),
                    args.growth_turns,
                    max(1, args.growth_turns // 4),
                    TURN_TIMEOUT,
                    run_tag,
                )
                print(
                    f"[{topology}] growth over {args.growth_turns} turns, median per block: "
                    f"{growth_result['median_ms_per_block']} ms; a fresh conversation's first message "
                    f"meanwhile: {growth_result['fresh_conversation_median_ms_per_block']} ms",
                    flush=True,
                )
            # Warm every process and replica (jieba, the FAQ ranker, each path's connections) outside the
            # figures: the first messages after a start otherwise stall for up to seconds.
            for path_name in args.paths:
                await run_load(
                    path_name,
                    paths[path_name],
                    topology,
                    WARM_UP_CONVERSATIONS,
                    residents(WARM_UP_CONVERSATIONS),
                    questions,
                    True,  # one short conversation each (a policy question, a booking, a lookup)
                    None if path_name == "telegram" else expected,
                    f"{run_tag}-warm-up",
                )
            for concurrency in args.concurrency:
                for path_name in args.paths:
                    steps = len(script(Resident(0, "", ""), questions, args.quick))
                    rounds = 1 if args.quick else max(1, -(-args.min_turns // (steps * concurrency)))
                    cpu_before, own_before = service.cpu_seconds(), _proc_cpu_seconds(os.getpid())
                    by_process_before = service.cpu_seconds_by_process()
                    result = await run_load(
                        path_name,
                        paths[path_name],
                        topology,
                        concurrency,
                        residents(concurrency * rounds),
                        questions,
                        args.quick,
                        None if path_name == "telegram" else expected,
                        run_tag,
                    )
                    answered = result.turns - result.errors
                    if answered:
                        cpu_ms = (service.cpu_seconds() - cpu_before) * 1000 / answered
                        result.cpu_ms_per_message = round(cpu_ms, 1)
                        result.capacity_messages_per_second = round((os.cpu_count() or 1) * 1000 / cpu_ms, 1)
                        result.load_generator_cpu_ms_per_message = round(
                            (_proc_cpu_seconds(os.getpid()) - own_before) * 1000 / answered, 1
                        )
                        result.cpu_ms_per_message_by_process = {
                            name: round((used - by_process_before.get(name, 0.0)) * 1000 / answered, 1)
                            for name, used in service.cpu_seconds_by_process().items()
                        }
                    results.append(result)
                    print(format_result(result), flush=True)
        finally:
            for path in paths.values():
                await path.aclose()
        memory = service.memory()
    finally:
        stop_service(service)
        telegram.stop()
    return {"runs": [asdict(r) for r in results], "memory": memory, "growth": growth_result}


def format_result(r: RunResult) -> str:
    errors = f"{r.errors} errors {r.error_kinds}" if r.errors else "0 errors"
    errors += f" {r.notes}" if r.notes else ""
    return (
        f"[{r.topology}] {r.path:8s} x{r.concurrency:<3d} {r.turns:5d} messages in {r.seconds:6.1f} s: "
        f"{r.messages_per_second:6.1f} msg/s  p50 {r.p50_ms} ms  p95 {r.p95_ms} ms  p99 {r.p99_ms} ms  "
        f"CPU {r.cpu_ms_per_message} ms/msg (idle-machine capacity {r.capacity_messages_per_second} msg/s)  "
        f"load {r.load_before:.1f}  {errors}"
        + (
            "\n      CPU ms/msg by process: "
            + ", ".join(f"{name} {ms}" for name, ms in r.cpu_ms_per_message_by_process.items())
            if r.cpu_ms_per_message_by_process
            else ""
        )
    )


def ratios(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each whole path against Rasa REST alone, same topology and concurrency, same run."""
    rest = {(r["topology"], r["concurrency"]): r for r in runs if r["path"] == "rest"}
    out = []
    for r in runs:
        base = rest.get((r["topology"], r["concurrency"]))
        if r["path"] == "rest" or base is None or not base["messages_per_second"]:
            continue
        out.append(
            {
                "topology": r["topology"],
                "path": r["path"],
                "concurrency": r["concurrency"],
                "throughput_vs_rest": round(r["messages_per_second"] / base["messages_per_second"], 2),
                "p95_vs_rest": round(r["p95_ms"] / base["p95_ms"], 2) if r["p95_ms"] and base["p95_ms"] else None,
            }
        )
    return out


def targets(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 11's targets on the whole path (web chat)."""

    def run(topology: str, path: str, concurrency: int) -> dict[str, Any] | None:
        return next(
            (r for r in runs if (r["topology"], r["path"], r["concurrency"]) == (topology, path, concurrency)), None
        )

    found: dict[str, Any] = {}
    at10 = run("replicas", "web", 10)
    if at10:
        found["replicas_web_x10"] = {
            "messages_per_second": at10["messages_per_second"],
            "p95_ms": at10["p95_ms"],
            "met": at10["messages_per_second"] >= TARGET_REPLICAS_MPS_AT_10
            and (at10["p95_ms"] or 1e9) < TARGET_REPLICAS_P95_AT_10_MS,
        }
    for topology in TOPOLOGIES:
        alone = run(topology, "web", 1)
        if alone:
            found[f"{topology}_web_alone"] = {
                "p50_ms": alone["p50_ms"],
                "met": (alone["p50_ms"] or 1e9) < TARGET_ALONE_P50_MS,
            }
    return found


def plot(report: dict[str, Any], path: Path) -> None:
    """Latency (p50 and p95) and throughput against concurrent conversations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = report["runs"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    styles = {"rest": "tab:gray", "web": "tab:blue", "telegram": "tab:green"}
    for topology in TOPOLOGIES:
        for path_name in PATHS:
            rows = sorted(
                (r for r in runs if r["topology"] == topology and r["path"] == path_name),
                key=lambda r: r["concurrency"],
            )
            if not rows:
                continue
            x = [r["concurrency"] for r in rows]
            dash = "-" if topology == "replicas" else "--"
            label = f"{path_name} ({topology})"
            left.plot(x, [r["p95_ms"] for r in rows], dash, marker="o", color=styles[path_name], label=f"{label} p95")
            left.plot(
                x,
                [r["p50_ms"] for r in rows],
                dash,
                marker=".",
                color=styles[path_name],
                alpha=0.45,
                label=f"{label} p50",
            )
            right.plot(
                x, [r["messages_per_second"] for r in rows], dash, marker="o", color=styles[path_name], label=label
            )
    left.axhline(TARGET_REPLICAS_P95_AT_10_MS, color="tab:red", linewidth=0.8, linestyle=":")
    right.axhline(TARGET_REPLICAS_MPS_AT_10, color="tab:red", linewidth=0.8, linestyle=":")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xlabel("concurrent conversations")
        axis.grid(True, which="both", alpha=0.3)
    left.set_yscale("log")
    left.set_ylabel("latency per message (ms)")
    right.set_ylabel("messages / s")
    left.set_title("latency: p95 (large markers), p50 (small, faint)")
    right.set_title("throughput (closed loop); dashed: default, solid: replicas")
    right.legend(fontsize=7)
    left.legend(fontsize=6, ncol=2)
    machine = report["machine"]
    fig.suptitle(
        f"make bench-load, {report['date']} — {machine['cpus']} CPUs, load {machine['load_before']}"
        f" → {machine['load_after']}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short conversation at 1 and 2 concurrent conversations, default topology only",
    )
    parser.add_argument("--topologies", default=None, help="comma-separated: default,replicas")
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated: rest,web,telegram")
    parser.add_argument("--concurrency", default=None, help="comma-separated numbers of conversations")
    parser.add_argument(
        "--growth-turns",
        type=int,
        default=None,
        help="one conversation asking one question this often over Rasa REST (0: skip)",
    )
    parser.add_argument(
        "--rasa-timeout",
        type=float,
        default=None,
        help="RASA_TIMEOUT_SECONDS of the channels (default: the service's 4; --quick: 20)",
    )
    parser.add_argument(
        "--min-turns", type=int, default=MIN_TURNS_PER_RUN, help="messages per run at least (whole conversations)"
    )
    parser.add_argument("--model", type=Path, default=None, help="a trained model (default: train or reuse models/)")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "bench")
    args = parser.parse_args(argv)
    args.topologies = (args.topologies or ("default" if args.quick else ",".join(TOPOLOGIES))).split(",")
    args.paths = [p for p in args.paths.split(",") if p]
    args.concurrency = (
        [int(c) for c in args.concurrency.split(",")]
        if args.concurrency
        else list(QUICK_CONCURRENCY if args.quick else CONCURRENCY)
    )
    if args.growth_turns is None:
        args.growth_turns = 8 if args.quick else 80
    if args.rasa_timeout is None:
        args.rasa_timeout = 20.0 if args.quick else 4.0
    for name in args.topologies:
        if name not in TOPOLOGIES:
            parser.error(f"unknown topology {name!r}")
    for name in args.paths:
        if name not in PATHS:
            parser.error(f"unknown path {name!r}")
    if "telegram" in args.paths:
        # Telegram answers are complete when the count REST / the web chat gave for the step arrived.
        args.paths = [p for p in args.paths if p != "telegram"] + ["telegram"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model = args.model or ensure_model(Settings.from_env().model_dir)
    questions = policy_questions()
    run_tag = datetime.now().strftime("%H%M%S")
    report: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "model": model.name,
        "machine": {"cpus": os.cpu_count(), "load_before": round(os.getloadavg()[0], 2)},
        "conversation_steps": len(script(Resident(0, "", ""), questions, args.quick)),
        "runs": [],
        "memory": {},
        "growth": {},
        "skipped": {},
    }
    counter = [0]
    args.output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for topology in args.topologies:
            if topology == "replicas" and (why := replicas_unavailable()):
                print(f"[replicas] skipped: {why}", flush=True)
                report["skipped"][topology] = why
                continue
            print(f"[{topology}] starting the service ...", flush=True)
            try:
                found = asyncio.run(bench_topology(topology, Path(tmp), model, args, questions, counter, run_tag))
            except Exception as exc:  # one topology failing must not lose the other's figures
                print(f"[{topology}] failed: {type(exc).__name__}: {exc}", flush=True)
                report["skipped"][topology] = f"failed: {type(exc).__name__}: {str(exc)[:500]}"
                continue
            report["runs"] += found["runs"]
            report["memory"][topology] = found["memory"]
            report["growth"][topology] = found["growth"]
            for name, mem in found["memory"].items():
                print(f"[{topology}] memory {name}: {mem['rss_mb']} MB (peak {mem['peak_mb']} MB)", flush=True)
    report["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    report["ratios"] = ratios(report["runs"])
    report["targets"] = targets(report["runs"])
    for ratio in report["ratios"]:
        print(
            f"[{ratio['topology']}] {ratio['path']} x{ratio['concurrency']}: "
            f"{ratio['throughput_vs_rest']} x the throughput of Rasa REST alone, p95 {ratio['p95_vs_rest']} x",
            flush=True,
        )
    for name, target in report["targets"].items():
        print(f"target {name}: {target}", flush=True)
    json_path = args.output_dir / "bench-load.json"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    png_path = args.output_dir / "bench-load.png"
    plot(report, png_path)
    print(f"report: {json_path}\nplot: {png_path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
