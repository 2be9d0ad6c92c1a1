"""FAQ store: validation, import/export round trips, unanswered questions (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civil_affairs.config import BureauContacts
from civil_affairs.faq.store import (
    FaqValidationError,
    export_csv,
    export_yaml,
    format_answer,
    import_records,
    list_faq,
    list_unanswered,
    parse_faq,
    read_csv,
    read_yaml,
    record_unanswered,
    upsert_faq,
)
from civil_affairs.models import FaqEntry

GOOD = {
    "key": "test-entry",
    "category": "marriage",
    "question": "测试问题？",
    "answer": "测试答复。",
    "alternatives": ["测试说法一", "测试说法二"],
    "keywords": ["测试"],
    "source": "测试依据",
    "locality": "local",
    "reviewed": "2026-01-15",
}


def test_seed_is_loaded_with_at_least_90_entries(session: Session) -> None:
    assert session.scalar(select(func.count(FaqEntry.id))) >= 90


def test_parse_reports_every_problem_at_once() -> None:
    with pytest.raises(FaqValidationError) as info:
        parse_faq({"key": "", "category": "weather", "question": "", "answer": "", "reviewed": "昨天"})
    assert len(info.value.problems) == 5


def test_import_is_all_or_nothing(session: Session) -> None:
    before = session.scalar(select(func.count(FaqEntry.id)))
    report = import_records([GOOD, {**GOOD, "key": "other", "category": "nope"}], session=session)
    assert report.rejected and report.rejected[0][0] == 2
    assert session.scalar(select(func.count(FaqEntry.id))) == before


def test_duplicate_keys_in_one_file_are_rejected(session: Session) -> None:
    report = import_records([GOOD, GOOD], session=session)
    assert report.rejected == [(2, "编号 test-entry 重复")]


def test_yaml_and_csv_round_trip(session: Session) -> None:
    upsert_faq(parse_faq(GOOD), session=session)
    for dump, read in ((export_yaml, read_yaml), (export_csv, read_csv)):
        records = [r for r in read(dump(session=session)) if r["key"] == "test-entry"]
        assert len(records) == 1
        again = parse_faq(records[0])
        assert again == parse_faq(GOOD)


def test_choices_round_trip_and_never_name_their_own_entry(session: Session) -> None:
    asking = {**GOOD, "choices": ["dibao-eligibility", "tekun-eligibility"]}
    upsert_faq(parse_faq(asking), session=session)
    for dump, read in ((export_yaml, read_yaml), (export_csv, read_csv)):
        record = next(r for r in read(dump(session=session)) if r["key"] == "test-entry")
        assert parse_faq(record).choices == ["dibao-eligibility", "tekun-eligibility"]
    with pytest.raises(FaqValidationError) as info:
        parse_faq({**GOOD, "choices": "dibao-eligibility\ntest-entry"})
    assert info.value.problems == ["可选条目（choices）不能包含本条目自己"]


def test_an_import_refuses_choices_that_name_no_entry_unless_the_file_brings_it(session: Session) -> None:
    asking = {**GOOD, "choices": ["new-in-this-file"]}
    assert import_records([asking], session=session).rejected == [
        (1, "可选条目（choices）中没有这些编号：new-in-this-file")
    ]
    brought = {**GOOD, "key": "new-in-this-file"}
    assert import_records([asking, brought], session=session).created == 2


def test_import_updates_existing_entries_unless_create_only(session: Session) -> None:
    upsert_faq(parse_faq(GOOD), session=session)
    changed = {**GOOD, "answer": "新的答复。"}
    assert import_records([changed], session=session, create_only=True).updated == 0
    assert list_faq(session=session, query="test-entry")[0].answer == "测试答复。"
    assert import_records([changed], session=session).updated == 1
    assert list_faq(session=session, query="test-entry")[0].answer == "新的答复。"


def test_unanswered_questions_are_counted_masked_and_sorted(session: Session) -> None:
    for _ in range(3):
        record_unanswered("我的电话13812345678 这个补贴咋领", session=session)
    record_unanswered("只问一次的问题", session=session)
    rows = list_unanswered(session=session)
    assert rows[0].count == 3 and "13812345678" not in rows[0].text and "138****5678" in rows[0].text
    assert rows[1].text == "只问一次的问题"


def test_local_answers_say_where_to_confirm() -> None:
    entry = FaqEntry(answer="标准由当地确定。", source="某条例", locality="local")
    text = format_answer(entry, BureauContacts())
    assert text.startswith("标准由当地确定。") and "依据：某条例" in text and "12345" in text
    national = format_answer(FaqEntry(answer="全国一样。", source="", locality="national"), BureauContacts())
    assert national == "全国一样。"
