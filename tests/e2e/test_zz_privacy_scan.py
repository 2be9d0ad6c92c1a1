"""Last end-to-end check (the file sorts last): no log and no database text holds a personal number or a token.

It scans every log file of the end-to-end tests' data folders (the stack's process logs, the
launcher's output, the in-process bots' folders) and every text column of their databases for ID
numbers, phone numbers and secrets written in any spacing (``320102 19800101 1238``,
``139-8765-4321``, full-width digits), and finds none. The detector is independent of
civil_affairs.privacy: ID numbers are found by their GB 11643 checksum and birth date in any
window of digits, phone numbers by their shape, tokens by their known values and by shape.

So that it proves something when run alone, it first sends such numbers itself, through the web
chat, Rasa's REST channel, a handoff (which announces itself in the staff Telegram chat, i.e. an
HTTP call with the bot token in its URL), a staff search (audited), note and reply.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Engine

from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.staff_accounts import ensure_user
from tests.e2e.conftest import Stack
from tests.helpers.telegram_fixtures import TEST_TOKEN

pytestmark = pytest.mark.model

# Fictitious, checksum-valid numbers, typed the ways residents type them.
PLANTED_ID = "320102198001011238"
PLANTED_PHONE = "13987654321"
ID_SPELLINGS = ["320102 19800101 1238", "320102-19800101-1238", "３２０１０２１９８００１０１１２３８"]
PHONE_SPELLINGS = ["139 8765 4321", "139-8765-4321", "+86 139 8765 4321"]
STAFF_USER, STAFF_PASSWORD = "privacy-scan", "scan-the-logs-please"
# Columns that hold a personal number on purpose, and which kind. The phone number a resident gives
# when booking is kept so the registry office can call about the appointment (shown masked in the
# console; in full only in the CSV export a supervisor asks for). Nothing else may hold one.
DELIBERATE = {("appointment", "phone"): {"mobile number"}}

_SEPARATORS = "[ \t\u00a0\u3000\\-\u2010-\u2015]"
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
# Digits possibly separated by up to three separator characters: one "number as typed".
_SPACED_DIGITS = re.compile(rf"[0-9Xx](?:{_SEPARATORS}{{0,3}}[0-9Xx])*")
# Hashes and sealed values: long letter-and-digit tokens without separators.
_OPAQUE = re.compile(r"(?=[A-Za-z0-9_+/=:]*[A-Za-z])[A-Za-z0-9_+/=:]{32,}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_id(candidate: str) -> bool:
    """GB 11643: 17 digits, a check character and a real birth date."""
    if not re.fullmatch(r"\d{17}[\dX]", candidate.upper()):
        return False
    check = "10X98765432"[sum(int(d) * w for d, w in zip(candidate, _ID_WEIGHTS, strict=False)) % 11]
    if candidate[-1].upper() != check:
        return False
    try:
        born = date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2030


def personal_numbers(text: str) -> list[str]:
    """Kinds of unmasked personal numbers in ``text`` (never the numbers themselves)."""
    found = []
    text = _OPAQUE.sub(" ", text.translate(_FULLWIDTH))
    for match in _SPACED_DIGITS.finditer(text):
        digits = re.sub(r"[^0-9Xx]", "", match.group(0))
        if PLANTED_ID in digits.upper() or PLANTED_PHONE in digits:
            found.append("planted number")
        # Any 18-character window of the run that is a valid ID number.
        if any(_valid_id(digits[i : i + 18]) for i in range(0, max(0, len(digits) - 17))):
            found.append("ID number")
        bare = digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
        if re.fullmatch(r"1[3-9]\d{9}", bare):
            found.append("mobile number")
    return found


def secrets_in(text: str, tokens: list[str]) -> list[str]:
    """Kinds of secrets in ``text``."""
    found = [f"token #{i}" for i, token in enumerate(tokens) if token and token in text]
    if re.search(r"bot\d{3,}(?::|%3A)(?!\*\*\*)[A-Za-z0-9_\-]{8,}", text, re.I):
        found.append("bot token in a URL")
    if re.search(r"[?&]token=(?!\*\*\*)[^&\s'\"]{8,}", text):
        found.append("token= parameter")
    return found


def test_the_detector_finds_numbers_in_any_spacing_and_ignores_masked_ones() -> None:
    for spelling in ID_SPELLINGS + ["身份证110101199003071233", "11010519491231002x"]:
        assert "ID number" in personal_numbers(f"说：{spelling}。"), spelling
    for spelling in PHONE_SPELLINGS + ["电话13812345678"]:
        assert "mobile number" in personal_numbers(f"电话{spelling}，"), spelling
    for clean in [
        "320***********1238",
        "139****4321",
        "DB202610080021",
        "2026-12-08 09:00-09:30",
        "a3f0" + "1398765432113987654321" + "b" * 40,
        "热线 12345 110 120",
    ]:
        assert personal_numbers(clean) == [], clean
    assert secrets_in(f"POST https://x/bot{TEST_TOKEN}/sendMessage", []) == ["bot token in a URL"]
    assert secrets_in("https://x/bot123456789:***/sendMessage", []) == []


# --- driving sensitive traffic through the running service --------------------------------------------


def _wait_for(check, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out")


def drive_sensitive_traffic(stack: Stack) -> None:
    """Residents type ID and phone numbers in odd spellings; a handoff, a search, a note and a reply follow."""
    engine = make_engine(stack.settings.database_url)
    with make_session_factory(engine).begin() as session:
        ensure_user(STAFF_USER, STAFF_PASSWORD, session=session, role="supervisor", display_name="审查")
    engine.dispose()
    for spelling in ID_SPELLINGS:
        stack.say(f"scan-{uuid.uuid4().hex[:6]}", f"我的身份证号是 {spelling}，想问低保")
    for spelling in PHONE_SPELLINGS:
        stack.say(f"scan-{uuid.uuid4().hex[:6]}", f"我电话 {spelling} 请回电")
    with httpx.Client(base_url=stack.console_url, timeout=60) as resident:
        resident.post("/api/chat", json={"message": f"身份证 {ID_SPELLINGS[0]} 电话 {PHONE_SPELLINGS[0]} 低保怎么申请"})
        resident.post("/api/chat", json={"message": f"我要找人工，身份证{ID_SPELLINGS[1]}，手机{PHONE_SPELLINGS[1]}"})
        resident.post("/api/chat", json={"message": "转人工"})
        with httpx.Client(base_url=stack.console_url, timeout=60) as staff:
            login = staff.post("/api/staff/login", json={"username": STAFF_USER, "password": STAFF_PASSWORD})
            assert login.status_code == 200, login.text
            headers = {"X-CSRF-Token": login.json()["csrf_token"]}
            staff.get("/api/staff/conversations", params={"q": ID_SPELLINGS[0]})
            staff.get("/api/staff/conversations", params={"q": PHONE_SPELLINGS[1]})

            def open_web_handoff() -> int | None:
                handoffs = staff.get("/api/staff/handoffs", params={"status": "open"}).json()["handoffs"]
                web = [h for h in handoffs if h["channel"] == "web"]
                return max(h["id"] for h in web) if web else None

            handoff_id = _wait_for(open_web_handoff)
            staff.get(f"/api/staff/handoffs/{handoff_id}")
            staff.post(
                f"/api/staff/handoffs/{handoff_id}/note",
                headers=headers,
                json={"text": f"居民身份证 {ID_SPELLINGS[1]}，电话 {PHONE_SPELLINGS[2]}"},
            )
            staff.post(
                f"/api/staff/handoffs/{handoff_id}/reply",
                headers=headers,
                json={"text": f"已收到，您留的电话是 {PHONE_SPELLINGS[0]} 吗？"},
            )
        resident.post("/api/chat", json={"message": f"对，{PHONE_SPELLINGS[2]}，身份证{ID_SPELLINGS[2]}"})
    if stack.telegram is not None:  # the handoff was announced in the staff chat, through the bot token URL
        _wait_for(lambda: stack.telegram.calls("sendMessage"), timeout=30)


# --- what is scanned ----------------------------------------------------------------------------------


def e2e_folders(request: pytest.FixtureRequest, stack: Stack) -> list[Path]:
    """The stack's folders and the temporary folders of this session's end-to-end tests."""
    base = request.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    prefixes = {
        re.sub(r"[\W]", "_", item.name)[:30]
        for item in request.session.items
        if "tests/e2e/" in str(item.path).replace("\\", "/")
    }
    prefixes |= {"stack", "replicas"}
    folders = {stack.log_dir.parent.resolve(), stack.settings.data_dir.resolve()}
    folders |= {
        path.resolve() for path in base.iterdir() if path.is_dir() and any(path.name.startswith(p) for p in prefixes)
    }
    return sorted(folders)


def log_files(folders: list[Path]) -> list[Path]:
    found: set[Path] = set()
    for folder in folders:
        found |= {
            p.resolve()
            for p in folder.rglob("*")
            if p.is_file() and (p.suffix in (".log", ".out") or p.parent.name == "logs")
        }
    return sorted(found)


def is_sqlite(path: Path) -> bool:
    """A SQLite database file (Prometheus' multiprocess files are called *.db too)."""
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def database_urls(folders: list[Path], stack: Stack) -> list[str]:
    urls = {stack.settings.database_url}
    for folder in folders:
        urls |= {f"sqlite:///{p.resolve()}" for p in folder.rglob("*.db") if p.is_file() and is_sqlite(p)}
    return sorted(urls)


def text_cells(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """(table, column, text) for every non-empty text-like value of every table."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", errors="replace")
                    elif isinstance(value, (dict, list)):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str) and value:
                        yield table.name, column, value


@pytest.fixture(scope="module")
def scanned(stack: Stack, request: pytest.FixtureRequest) -> tuple[list[Path], list[str]]:
    drive_sensitive_traffic(stack)
    time.sleep(2.0)  # let the processes flush their log lines
    folders = e2e_folders(request, stack)
    return log_files(folders), database_urls(folders, stack)


def service_tokens(stack: Stack) -> list[str]:
    """The bot token's secret and the internal tokens, searched for by value."""
    settings = stack.settings
    return [
        TEST_TOKEN.split(":", 1)[1],
        settings.rasa_auth_token,
        settings.action_server_token,
        settings.rasa_rest_token,
    ]


def test_no_log_file_holds_a_personal_number_or_a_token(stack: Stack, scanned: tuple[list[Path], list[str]]) -> None:
    logs, _ = scanned
    assert any(p.name.startswith("rasa") for p in logs) and any(p.name.startswith("actions") for p in logs)
    tokens = service_tokens(stack)
    problems = []
    for path in logs:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            kinds = personal_numbers(line) + secrets_in(line, tokens)
            if kinds:
                problems.append(f"{path.name}:{number}: {', '.join(sorted(set(kinds)))}")
    assert problems == []


def test_no_database_text_holds_a_personal_number_or_a_token(
    stack: Stack, scanned: tuple[list[Path], list[str]]
) -> None:
    _, urls = scanned
    tokens = service_tokens(stack)
    problems = []
    cells = 0
    for url in urls:
        engine = make_engine(url) if url.startswith("postgresql") else create_engine(url)
        try:
            for table, column, text in text_cells(engine):
                cells += 1
                kinds = set(personal_numbers(text) + secrets_in(text, tokens)) - DELIBERATE.get((table, column), set())
                if kinds:
                    problems.append(f"{url.rsplit('/', 1)[-1]} {table}.{column}: {', '.join(sorted(kinds))}")
        finally:
            engine.dispose()
    assert cells > 0
    assert sorted(set(problems)) == []
