"""Applicants' ID numbers (居民身份证号码) and phones: checksum, keyed hash, last 6, masking.

Only what the feature needs is kept: the keyed hash lets staff find an application by a full ID
number, the last 6 characters let a resident prove a lookup, and the phone is kept masked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from civil_affairs.identity import check_digit  # noqa: F401  (GB 11643, shared with booking)
from civil_affairs.privacy import mask_personal_data

_ID_RE = re.compile(r"\d{17}[\dX]")
_LAST6_RE = re.compile(r"(?<![0-9X])(\d{5}[\dX])(?![0-9X])")
_MOBILE_RE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_LANDLINE_RE = re.compile(r"0\d{2,3}\d{7,8}")


class IdentityError(ValueError):
    """An ID number or phone number that cannot be accepted; the message is Chinese for staff."""


def _compact(text: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text or "").upper())


def normalize_id_number(text: str) -> str:
    """The 18-character ID number in canonical form; raises IdentityError when it is not valid."""
    value = _compact(text)
    if not _ID_RE.fullmatch(value):
        raise IdentityError("身份证号须为18位（最后一位可以是X）")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdentityError("身份证号中的出生日期不存在") from exc
    if check_digit(value[:17]) != value[17]:
        raise IdentityError("身份证号校验位不对，请核对")
    return value


def keyed_hash(value: str, secret_key: str) -> str:
    """HMAC-SHA256 of ``value`` under the service's secret key, as hex (no key, no rainbow table)."""
    return hmac.new(secret_key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def id_hash(id_number: str, secret_key: str) -> str:
    """The stored hash of a canonical ID number."""
    return keyed_hash("id:" + id_number, secret_key)


def last6_from_text(text: str) -> str | None:
    """The 6 characters a resident sent as the end of the ID ("36117X", a whole ID, "后六位是 12345x")."""
    value = _compact(text)
    if _ID_RE.fullmatch(value):
        return value[-6:]
    found = _LAST6_RE.findall(value)
    return found[-1] if len(found) == 1 else None


def mask_phone(text: str) -> str | None:
    """A mobile or landline number masked for storage (138****5678); None for empty input."""
    value = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", text or ""))
    if not value:
        return None
    mobile = _MOBILE_RE.fullmatch(value)
    if mobile:
        digits = mobile.group(1)
        return digits[:3] + "****" + digits[-4:]
    if _LANDLINE_RE.fullmatch(value):
        return mask_personal_data(value[:4] + "-" + value[4:])
    raise IdentityError("电话号码格式不对")
