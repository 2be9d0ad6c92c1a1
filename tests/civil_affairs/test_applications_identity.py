"""ID numbers: checksum, keyed hashing (only hash + last 6 stored), last 6 from what residents type."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from civil_affairs.applications.records import check_application, create_application
from civil_affairs.identity import IdentityError, check_digit, keyed_hash, last6_from_text, normalize_id_number
from civil_affairs.identity import application_id_hash as id_hash
from civil_affairs.identity import phone_for_storage as mask_phone
from civil_affairs.models import Application
from tests.helpers.applications import fictitious_id

KEY = "test-secret-key"


def test_fictitious_ids_have_valid_checksums() -> None:
    for sequence in range(1, 50):
        value = fictitious_id(sequence)
        assert normalize_id_number(value) == value


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("11010519491231002x", "11010519491231002X"),
        ("110105 19491231 002X", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    ],
)
def test_id_numbers_are_normalised(typed: str, expected: str) -> None:
    assert normalize_id_number(typed) == expected


@pytest.mark.parametrize("typed", ["110105194912310021", "11010519491331002X", "1101051949123100", "abc"])
def test_bad_id_numbers_are_refused(typed: str) -> None:
    with pytest.raises(IdentityError):
        normalize_id_number(typed)


def test_check_digit_matches_the_standard_example() -> None:
    assert check_digit("11010519491231002") == "X"


def test_hash_is_keyed_and_stable() -> None:
    value = fictitious_id(1)
    assert id_hash(value, KEY) == id_hash(value, KEY)
    assert id_hash(value, KEY) != id_hash(value, "another-key")
    assert len(id_hash(value, KEY)) == 64 and value not in id_hash(value, KEY)
    assert keyed_hash("a", KEY) != keyed_hash("b", KEY)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("12345X", "12345X"),
        ("12345x", "12345X"),
        ("后六位是 002315", "002315"),
        ("１２３４５６", "123456"),
        ("11010519491231002X", "31002X"),
        ("12345", None),
        ("不知道", None),
        ("123456 654321", None),
    ],
)
def test_last6_from_text(typed: str, expected: str | None) -> None:
    assert last6_from_text(typed) == expected


def test_phone_is_stored_masked() -> None:
    assert mask_phone("138 0013 8000") == "138****8000"
    assert mask_phone("+86 13800138000") == "138****8000"
    assert mask_phone("") is None
    with pytest.raises(IdentityError):
        mask_phone("12345")


def test_only_hash_and_last6_reach_the_database(session: Session) -> None:
    value = fictitious_id(7)
    data = check_application(
        type_name="低保",
        applicant_name="测试用户一",
        id_number=value,
        phone="13800138000",
        office="测试镇",
        secret_key=KEY,
    )
    application = create_application(data, session=session)
    row = session.execute(select(Application.__table__).where(Application.id == application.id)).one()
    stored = " ".join(str(v) for v in row)
    assert value not in stored and "13800138000" not in stored
    assert application.id_last6 == value[-6:] and application.id_hash == id_hash(value, KEY)
    assert application.phone_masked == "138****8000"
    assert "id_number" not in {c["name"] for c in inspect(session.bind).get_columns("application")}
