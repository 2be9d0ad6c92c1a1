"""Issue 9, bad input: the parsers of what residents and staff type never raise anything but their
explained error, whatever the text (control characters, right-to-left marks, emoji, full-width
digits, huge numbers). Property-based with Hypothesis."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from actions.booking import ManageFormBase, clean_name, match_slot
from civil_affairs import booking
from civil_affairs import identity as app_identity
from civil_affairs.applications.numbers import NumberError, format_number, parse_number, try_parse_number
from civil_affairs.booking.date_parsing import cn_number, describe_date, parse_date
from civil_affairs.identity import IdNumberError, check_digit, find_id_number, parse_id_number, parse_phone
from civil_affairs.privacy import mask_id, mask_phone
from tests.helpers.booking_factory import make_id

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What residents actually type, plus what an attacker would: separators, full width, RTL/zero-width
# marks, control characters, emoji, CJK numerals and date words.
_TYPED = (
    "0123456789Xx０１２３４５６７８９ＸＤＢYYyy-－—_ .·/\\:：年月日号初腊正闰下周星期一二三四五六日天"
    "十廿卅百千万两半点上午下午明后今农历七夕元旦国庆春节除夕DBTKLSGLCJGEBZ"
    "\u200f\u202e\u200b\ufeff\x00\x07\t\n\r🙂👍🏻"
)
typed_text = st.one_of(
    st.text(alphabet=_TYPED, max_size=40),
    st.text(max_size=60),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
)
days = st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 1))


@FAST
@given(typed_text)
@example("110105 19491231 002X")
@example("110105-19491231-002X")
@example("９" * 18)
@example("1" * 10_000)
def test_id_numbers_raise_only_their_explained_error(text: str) -> None:
    try:
        person = parse_id_number(text, today=date(2026, 9, 23))
    except IdNumberError as exc:
        assert exc.code in ("length", "characters", "birth_date", "checksum") and exc.message
    else:
        assert re.fullmatch(r"\d{17}[\dX]", person.value) and check_digit(person.value[:17]) == person.value[17]
        assert person.birth_date <= date(2026, 9, 23)
    found = find_id_number(text)
    assert found is None or re.fullmatch(r"\d{17}[\dX]", found)
    masked = mask_id(text)
    assert isinstance(masked, str)


@FAST
@given(typed_text)
def test_staff_side_id_numbers_and_last6_raise_only_their_explained_error(text: str) -> None:
    try:
        value = app_identity.normalize_id_number(text)
    except app_identity.IdentityError as exc:
        assert str(exc)
    else:
        assert re.fullmatch(r"\d{17}[\dX]", value)
    last6 = app_identity.last6_from_text(text)
    assert last6 is None or re.fullmatch(r"\d{5}[\dX]", last6)


@FAST
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 9, 23)), st.booleans(), st.integers(0, 99))
def test_every_valid_id_number_is_accepted_however_it_is_spaced(birth: date, male: bool, serial: int) -> None:
    value = make_id(birth, male=male, serial=serial)
    for typed in (
        value,
        f"{value[:6]} {value[6:14]} {value[14:]}",
        f"{value[:6]}-{value[6:14]}-{value[14:]}",
        value.lower(),
        value.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
    ):
        assert parse_id_number(typed, today=date(2026, 9, 23)).value == value


@FAST
@given(typed_text, days)
@example("2月30日", date(2026, 1, 1))
@example("农历闰十二月三十", date(2026, 1, 1))
@example("99999999999999999999年1月1日", date(2026, 1, 1))
@example("下下下下周三", date(2099, 12, 1))
def test_dates_parse_to_a_date_or_none_never_an_exception(text: str, today: date) -> None:
    for direction in ("future", "past"):
        day = parse_date(text, today, direction=direction)
        assert day is None or isinstance(day, date)
        if day is not None:
            assert describe_date(day, today)
    value = cn_number(text)
    assert value is None or isinstance(value, int)


@FAST
@given(typed_text)
@example("db 2026-1008-0021")
@example("编号ＤＢ２０２６１００８００２１")
@example("DB202602300001")
def test_application_numbers_raise_only_number_error(text: str) -> None:
    try:
        number = parse_number(text)
    except NumberError:
        assert try_parse_number(text) is None
    else:
        assert re.fullmatch(r"[A-Z]{2}\d{12}", number) and try_parse_number(text) == number
        assert format_number(number).replace("-", "") == number


@FAST
@given(typed_text)
@example("yy20261208417")
@example("YY20261208－417")
@example("YY 2026 1208 - 417")
def test_booking_codes_are_read_without_exceptions(text: str) -> None:
    code = booking.normalize_code(text)
    assert isinstance(code, str) and len(code) <= 40
    result = ManageFormBase.validate_booking_code(_Form(), text, _Dispatcher(), _Tracker(), {})
    value = result["booking_code"]
    assert value is None or re.fullmatch(r"YY20\d{6}-\d{3}", value)


@FAST
@given(typed_text)
@example("+86 139 7931 2456")
@example("0793-1234567")
@example("１３９７９３１２４５６")
def test_phone_numbers_parse_or_give_none_and_mask_or_explain(text: str) -> None:
    phone = parse_phone(text)
    assert phone is None or re.fullmatch(r"1[3-9]\d{9}|0\d{2,3}-\d{7,8}", phone)
    assert isinstance(mask_phone(text), str)
    try:
        masked = app_identity.phone_for_storage(text)
    except app_identity.IdentityError as exc:
        assert str(exc) == "电话号码格式不对"
    else:
        assert masked is None or "*" in masked


@FAST
@given(typed_text)
def test_names_and_slot_answers_never_raise(text: str) -> None:
    name = clean_name(text)
    assert name is None or 2 <= len(name) <= 39
    slots = [
        booking.SlotAvailability("am1", "09:00-10:00", __import__("datetime").time(9), 5, 1),
        booking.SlotAvailability("pm1", "14:30-15:30", __import__("datetime").time(14, 30), 5, 5),
    ]
    chosen = match_slot(text, slots)
    assert chosen is None or chosen in slots


class _Dispatcher:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def utter_message(self, text: str = "", **_: object) -> None:
        self.messages.append(text)


class _Tracker:
    def get_slot(self, name: str) -> object:
        return None


class _Form(ManageFormBase):
    def name(self) -> str:
        return "validate_fuzz_form"
