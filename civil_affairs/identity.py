"""Resident identity numbers (居民身份证号, GB 11643-1999): checksum, birth date, sex, age, keyed hashes.

Everything here is a pure function. The booking code never stores a full ID number: it keeps an
HMAC-SHA256 of the normalised number under ``settings.secret_key`` (so one person can be found
again without the number being readable) and the last 6 characters for verification.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from civil_affairs import clock
from civil_affairs.errors import ExplainedError
from civil_affairs.privacy import mask_id, mask_phone

MALE = "male"
FEMALE = "female"

# Legal marriage age (民法典第1047条): men 22, women 20.
MARRIAGE_AGE = {MALE: 22, FEMALE: 20}

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
EARLIEST_BIRTH_YEAR = 1900


class IdNumberError(ExplainedError):
    """An ID number cannot be accepted; ``code`` says why, ``message`` says it kindly in Chinese."""


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-character ID number with what can be read from it."""

    value: str
    birth_date: date
    sex: str

    @property
    def last6(self) -> str:
        return self.value[-6:]

    def masked(self) -> str:
        return mask_id(self.value)


def normalize_id(text: str) -> str:
    """Upper-case, half-width (NFKC), without spaces or hyphens (residents type "3611 2219…" or "…x")."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text or "")).upper()


def check_digit(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=False))
    return _CHECK_CHARS[total % 11]


def find_id_number(text: str) -> str | None:
    """The first 18-character ID-shaped token in free text, normalised; None when there is none."""
    match = re.search(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", unicodedata.normalize("NFKC", text or ""))
    return match.group(0).upper() if match else None


def parse_id_number(text: str, *, today: date | None = None) -> IdNumber:
    """Check an ID number and read its birth date and sex.

    Args:
        text: what the resident typed; spaces, hyphens, full-width digits and a small x are fine.
        today: for refusing birth dates in the future (default: the real today).

    Returns:
        The checked number.

    Raises:
        IdNumberError: with ``code`` one of ``length``, ``characters``, ``birth_date``, ``checksum``.
    """
    value = normalize_id(text)
    if len(value) == 15 and value.isascii() and value.isdigit():
        raise IdNumberError("length", "这是15位的老身份证号，请提供现在使用的18位居民身份证号码。")
    if len(value) != 18:
        raise IdNumberError("length", f"身份证号码应为18位，您输入的是{len(value)}位，请核对后重新输入。")
    if not _ID_RE.match(value):
        raise IdNumberError("characters", "身份证号码前17位应是数字，最后一位是数字或X，请核对后重新输入。")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < EARLIEST_BIRTH_YEAR or birth > (today or clock.local_today()):
        raise IdNumberError("birth_date", "身份证号码中的出生日期不正确，请核对第7到14位后重新输入。")
    if check_digit(value[:17]) != value[17]:
        raise IdNumberError("checksum", "这个身份证号码校验不通过，可能有一位输错了，请仔细核对后重新输入。")
    sex = MALE if int(value[16]) % 2 == 1 else FEMALE
    return IdNumber(value=value, birth_date=birth, sex=sex)


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on ``day`` (a 29 February birthday counts from 1 March in other years)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def marriage_age_problem(person: IdNumber, day: date) -> str | None:
    """A kind explanation when ``person`` is under the legal marriage age on ``day``; else None."""
    minimum = MARRIAGE_AGE[person.sex]
    if age_on(person.birth_date, day) >= minimum:
        return None
    earliest = _birthday_in(person.birth_date, person.birth_date.year + minimum)
    who = "男方" if person.sex == MALE else "女方"
    return (
        f"按照《民法典》规定，结婚年龄男不得早于22周岁、女不得早于20周岁。"
        f"这位{who}（身份证尾号{person.last6[-4:]}）在预约当天还不满{minimum}周岁，"
        f"最早可以在{earliest.year}年{earliest.month}月{earliest.day}日及以后办理结婚登记。"
    )


def _birthday_in(birth: date, year: int) -> date:
    """The birthday in ``year`` (29 February → 1 March in common years)."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def keyed_hash(value: str, secret_key: str) -> str:
    """HMAC-SHA256 of ``value`` under the service's secret key, as hex (no key, no rainbow table)."""
    return hmac.new(secret_key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


# Two hashes of the same ID number exist because rows are stored with each: appointments hash the bare
# number, applications the number with an "id:" prefix. Both are kept so stored hashes stay valid.


def id_hash(id_value: str, secret_key: str) -> str:
    """The appointments' keyed hash of a normalised ID number: findable, not reversible."""
    return hmac.new(secret_key.encode("utf-8"), normalize_id(id_value).encode("ascii"), hashlib.sha256).hexdigest()


_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")


def parse_phone(text: str) -> str | None:
    """A mainland mobile (11 digits) or landline with area code (0793-1234567), normalised; else None."""
    compact = re.sub(r"[\s\u3000]", "", unicodedata.normalize("NFKC", text or ""))
    mobile = _MOBILE_RE.search(compact.replace("-", ""))
    if mobile:
        return mobile.group(1)
    landline = _LANDLINE_RE.search(compact)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    return None


class IdentityError(ValueError):
    """An ID or phone number staff typed or imported that cannot be accepted; the message is Chinese."""


_LAST6_RE = re.compile(r"(?<![0-9X])(\d{5}[\dX])(?![0-9X])")


def normalize_id_number(text: str) -> str:
    """The 18-character ID number in canonical form; raises IdentityError when it is not valid."""
    value = normalize_id(text)
    if not _ID_RE.fullmatch(value):
        raise IdentityError("身份证号须为18位（最后一位可以是X）")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdentityError("身份证号中的出生日期不存在") from exc
    if check_digit(value[:17]) != value[17]:
        raise IdentityError("身份证号校验位不对，请核对")
    return value


def application_id_hash(id_number: str, secret_key: str) -> str:
    """The applications' keyed hash of a canonical ID number (see the note above ``id_hash``)."""
    return keyed_hash("id:" + id_number, secret_key)


def last6_from_text(text: str) -> str | None:
    """The 6 characters a resident sent as the end of the ID ("36117X", a whole ID, "后六位是 12345x")."""
    value = normalize_id(text)
    if _ID_RE.fullmatch(value):
        return value[-6:]
    found = _LAST6_RE.findall(value)
    return found[-1] if len(found) == 1 else None


def phone_for_storage(text: str) -> str | None:
    """A staff-entered phone number checked and masked for storage; None for empty input."""
    if not re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", text or "")):
        return None
    phone = parse_phone(text)
    if phone is None:
        raise IdentityError("电话号码格式不对")
    return mask_phone(phone)
