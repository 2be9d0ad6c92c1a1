"""Masking of personal numbers (PIPL): ID numbers and phone numbers never appear in full in logs,
transcripts, the unanswered-question list or the console.
"""

from __future__ import annotations

import logging
import re

_ID18_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_ID15_RE = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
# Mainland mobile numbers, optionally with +86 and spaces/hyphens; landlines with an area code.
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def _mask_id(match: re.Match[str]) -> str:
    value = match.group(0)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return digits[-11:-8] + "****" + digits[-4:] if len(digits) >= 11 else "*" * len(digits)


def mask_personal_data(text: str) -> str:
    """Replace ID and phone numbers in ``text`` by masked forms (110***********1234, 138****5678)."""
    if not text:
        return text
    text = text.translate(_FULLWIDTH_DIGITS)
    text = _ID18_RE.sub(_mask_id, text)
    text = _ID15_RE.sub(_mask_id, text)
    text = _MOBILE_RE.sub(_mask_phone, text)
    return _LANDLINE_RE.sub(lambda m: m.group(0)[:4] + "****" + m.group(0)[-2:], text)


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, for showing applicants without revealing them."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class MaskingFilter(logging.Filter):
    """Masks personal numbers in every log record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            return True
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(level: str = "INFO") -> None:
    """Configure root logging once per process with masking on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
