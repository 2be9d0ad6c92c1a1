"""Application numbers: lenient parsing of what residents type, formatting, allocation format."""

from __future__ import annotations

from datetime import date

import pytest

from civil_affairs.applications.numbers import NumberError, format_number, make_number, parse_number, try_parse_number


@pytest.mark.parametrize(
    "typed",
    [
        "DB202610080021",
        "db202610080021",
        "DB 2026 1008 0021",
        "DB-20261008-0021",
        "db_2026-10-08_0021",
        "ＤＢ２０２６１００８００２１",  # full-width letters and digits
        "ｄｂ－２０２６１００８－００２１",  # full-width lower case and hyphens
        "  DB202610080021\n",
        "我的编号是 db-20261008-0021 谢谢",
        "编号：DB202610080021。",
    ],
)
def test_lenient_forms_parse_to_the_canonical_number(typed: str) -> None:
    assert parse_number(typed) == "DB202610080021"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "查进度",
        "DB20261008002",  # one digit short
        "DB2026100800211",  # one digit long
        "XX202610080021",  # unknown type prefix
        "DB202613080021",  # month 13
        "DB202602300021",  # 30 February
        "DB202610080000",  # sequence 0000
        "DB202610080021 和 TK202610080001",  # two numbers: ambiguous
        "362330194809070393",  # an ID number is not an application number
    ],
)
def test_malformed_numbers_are_refused(typed: str) -> None:
    with pytest.raises(NumberError):
        parse_number(typed)
    assert try_parse_number(typed) is None


@pytest.mark.parametrize("code", ["DB", "TK", "LS", "GL", "CJ", "GE", "BZ"])
def test_every_type_prefix_is_accepted(code: str) -> None:
    number = make_number(code, date(2026, 10, 8), 21)
    assert number == f"{code}202610080021"
    assert parse_number(number.lower()) == number


def test_format_groups_prefix_date_and_sequence() -> None:
    assert format_number("DB202610080021") == "DB-20261008-0021"
    assert parse_number(format_number("GE202601020003")) == "GE202601020003"


def test_make_number_refuses_unknown_type_and_bad_sequence() -> None:
    with pytest.raises(NumberError):
        make_number("ZZ", date(2026, 1, 1), 1)
    with pytest.raises(NumberError):
        make_number("DB", date(2026, 1, 1), 10000)
