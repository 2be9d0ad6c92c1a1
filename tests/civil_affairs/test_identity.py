"""ID numbers (GB 11643): checksum, birth date, sex, legal marriage age on the appointment day."""

from __future__ import annotations

from datetime import date

import pytest

from civil_affairs.identity import (
    FEMALE,
    MALE,
    IdNumberError,
    age_on,
    id_hash,
    marriage_age_problem,
    parse_id_number,
    parse_phone,
)
from civil_affairs.privacy import mask_id, mask_phone
from tests.helpers.booking_factory import make_id

GROOM = make_id(date(1994, 3, 5), male=True)
BRIDE = make_id(date(2006, 5, 21), male=False)


def test_a_valid_number_gives_birth_date_and_sex() -> None:
    person = parse_id_number(GROOM)
    assert person.birth_date == date(1994, 3, 5) and person.sex == MALE
    assert parse_id_number(BRIDE).sex == FEMALE


def test_the_published_sample_number_checks() -> None:
    # The example of GB 11643-1999 (11010519491231002X): check character X.
    assert parse_id_number("11010519491231002x").value == "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (GROOM[:-1] + ("0" if GROOM[-1] != "0" else "1"), "checksum"),  # one wrong check digit
        (GROOM[:14] + "9" + GROOM[15:], "checksum"),  # a typo inside the number
        (GROOM[:-1], "length"),
        ("361122940305121", "length"),  # old 15-digit number
        ("36112219940A051234", "characters"),
        ("361122199413051234", "birth_date"),  # month 13
        ("361122203001011234", "birth_date"),  # born in the future
    ],
)
def test_problems_are_named(text: str, code: str) -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(text, today=date(2026, 11, 28))
    assert caught.value.code == code
    assert caught.value.message.endswith("。") and "身份证" in caught.value.message


def test_spaces_full_width_digits_and_small_x_are_accepted() -> None:
    spaced = " ".join([GROOM[:6], GROOM[6:14], GROOM[14:]])
    assert parse_id_number(spaced).value == GROOM
    full_width = GROOM.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_id_number(full_width).value == GROOM


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2000, 5, 20), date(2022, 5, 19), 21),
        (date(2000, 5, 20), date(2022, 5, 20), 22),
        (date(2004, 2, 29), date(2024, 2, 28), 19),
        (date(2004, 2, 29), date(2024, 2, 29), 20),
    ],
)
def test_age_on_a_day(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


def test_a_bride_of_twenty_on_the_day_may_marry_but_not_the_day_before() -> None:
    bride = parse_id_number(BRIDE)  # 20 on 21 May 2026
    assert marriage_age_problem(bride, date(2026, 5, 21)) is None
    problem = marriage_age_problem(bride, date(2026, 5, 20))
    assert problem and "不满20周岁" in problem and "2026年5月21日" in problem


def test_a_groom_needs_twenty_two() -> None:
    groom = parse_id_number(make_id(date(2005, 1, 10), male=True))
    problem = marriage_age_problem(groom, date(2026, 12, 8))
    assert problem and "不满22周岁" in problem and "2027年1月10日" in problem
    assert marriage_age_problem(groom, date(2027, 1, 10)) is None


def test_keyed_hash_depends_on_the_key_and_not_on_typing() -> None:
    assert id_hash(GROOM, "k1") == id_hash(GROOM.lower() + " ", "k1")
    assert id_hash(GROOM, "k1") != id_hash(GROOM, "k2")
    assert GROOM not in id_hash(GROOM, "k1")


def test_masking() -> None:
    assert mask_id(GROOM) == GROOM[:3] + "*" * 11 + GROOM[-4:]
    assert mask_phone("13979312456") == "139****2456"


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("13979312456", "13979312456"),
        ("139 7931 2456", "13979312456"),
        ("139-7931-2456", "13979312456"),
        ("+86 13979312456", "13979312456"),
        ("电话0793-1234567", "0793-1234567"),
        ("12345", None),
        ("", None),
    ],
)
def test_phone_numbers(text: str, phone: str | None) -> None:
    assert parse_phone(text) == phone
