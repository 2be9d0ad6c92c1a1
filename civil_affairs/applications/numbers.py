"""Application numbers (申请编号): their format, lenient parsing of what residents type, and formatting.

Format: a 2-letter type prefix, the acceptance date as YYYYMMDD and a 4-digit sequence of that type
on that day, e.g. ``DB202610080021`` (低保, accepted on 8 October 2026, the 21st that day). Prefixes:
DB 低保, TK 特困供养, LS 临时救助, GL 高龄津贴, CJ 残疾人两项补贴, GE 孤儿/事实无人抚养儿童基本生活费,
BZ 惠民殡葬补贴 (``civil_affairs.applications.types``). The stored, canonical form has no separators.

Residents copy numbers from paper receipts, so parsing forgives spaces, hyphens and other separators,
lower case, full-width characters (ＤＢ２０２６…), and surrounding words ("我的编号是 db-20261008-0021").
For display, ``format_number`` groups it as ``DB-20261008-0021``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from civil_affairs.applications.types import TYPES_BY_CODE

NUMBER_LENGTH = 14
_SEPARATORS_RE = re.compile(r"[\s\-_—–－.·/\\]+")
_CANONICAL_RE = re.compile(r"([A-Z]{2})(\d{8})(\d{4})")
_EMBEDDED_RE = re.compile(r"(?<![A-Z0-9])([A-Z]{2}\d{12})(?![A-Z0-9])")


class NumberError(ValueError):
    """Text that is not an application number."""


def _compact(text: str) -> str:
    """NFKC (full width to half width), upper case, separators between characters removed."""
    text = unicodedata.normalize("NFKC", text or "").upper()
    return _SEPARATORS_RE.sub("", text)


def _valid(candidate: str) -> bool:
    match = _CANONICAL_RE.fullmatch(candidate)
    if not match or match.group(1) not in TYPES_BY_CODE:
        return False
    digits = match.group(2)
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return match.group(3) != "0000"


def parse_number(text: str) -> str:
    """The canonical number in ``text``; raises NumberError when there is none or it is malformed.

    Args:
        text: what the resident or staff typed, e.g. ``" db 2026-1008-0021 "`` or
            ``"编号ＤＢ２０２６１００８００２１"``.

    Returns:
        The canonical form, e.g. ``DB202610080021``.
    """
    compact = _compact(text)
    if _valid(compact):
        return compact
    # Words around the number ("我的编号是…"): look for one well-formed number inside.
    found = {m for m in _EMBEDDED_RE.findall(compact) if _valid(m)}
    if len(found) == 1:
        return found.pop()
    raise NumberError("不是有效的申请编号")


def try_parse_number(text: str) -> str | None:
    """Like parse_number, but None instead of an error."""
    try:
        return parse_number(text)
    except NumberError:
        return None


def make_number(type_code: str, day: date, sequence: int) -> str:
    """The canonical number of the ``sequence``-th application of ``type_code`` on ``day``."""
    if type_code not in TYPES_BY_CODE:
        raise NumberError(f"未知的业务类型代码 {type_code}")
    if not 1 <= sequence <= 9999:
        raise NumberError("当日序号须在 1–9999 之间")
    return f"{type_code}{day:%Y%m%d}{sequence:04d}"


def format_number(number: str) -> str:
    """``DB202610080021`` → ``DB-20261008-0021`` for printing on receipts and pages."""
    match = _CANONICAL_RE.fullmatch(number)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else number


def number_prefix(type_code: str, day: date) -> str:
    """The common start of every number of ``type_code`` accepted on ``day`` (``DB20261008``)."""
    return f"{type_code}{day:%Y%m%d}"
