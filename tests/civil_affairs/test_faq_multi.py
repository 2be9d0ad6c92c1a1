"""Two questions in one message: each asking clause ranked and decided on its own
(``civil_affairs.faq.multi``), on a small ranker fitted for this test."""

from __future__ import annotations

import pytest

from civil_affairs.faq.decision import DEFAULT_CALIBRATION
from civil_affairs.faq.multi import MAX_ANSWERS, asking_clauses, clause_answer, clause_answers, combine
from civil_affairs.faq.ranker import NONE_CLASS, Ranker, TrainingEntry

ENTRIES = [
    TrainingEntry(
        "dibao-how-to-apply",
        "benefits",
        "低保怎么申请",
        ("低保怎么申请", "低保到哪里申请", "申请低保找谁", "低保去哪办", "办低保找哪个部门", "怎么办低保"),
    ),
    TrainingEntry(
        "marriage-documents",
        "marriage",
        "结婚登记要带什么材料",
        ("结婚登记要带什么材料", "领结婚证带啥证件", "结婚要准备哪些材料", "登记结婚带什么", "领证要带户口本吗"),
    ),
    TrainingEntry(
        "elderly-high-age-allowance",
        "elderly",
        "高龄津贴多少钱",
        ("高龄津贴多少钱", "高龄津贴一个月发多少", "八十岁老人补贴多少", "高龄补贴标准是多少", "高龄津贴有几多"),
    ),
    TrainingEntry(
        "funeral-death-certificate",
        "funeral",
        "死亡证明去哪里开",
        ("死亡证明去哪里开", "人走了死亡证明找谁开", "在家去世死亡证明怎么开", "死亡医学证明哪里办"),
    ),
]


@pytest.fixture(scope="module")
def ranker() -> Ranker:
    return Ranker.fit(ENTRIES, keep_training_data=False)


def rank_with(ranker: Ranker):
    return lambda text: sorted(ranker.scores(text).items(), key=lambda item: item[1], reverse=True)


def test_only_a_message_with_two_asking_clauses_is_split() -> None:
    assert asking_clauses("低保怎么申请？高龄津贴多少钱？") == ["低保怎么申请", "高龄津贴多少钱"]
    assert asking_clauses("我家老人今年八十五了，高龄津贴多少钱？") == []
    assert asking_clauses("结婚登记要带什么材料") == []


def test_each_clause_is_answered_on_its_own(ranker: Ranker) -> None:
    found = clause_answers(["低保怎么申请", "高龄津贴多少钱"], rank_with(ranker), DEFAULT_CALIBRATION)
    assert [k for k, _ in found] == ["dibao-how-to-apply", "elderly-high-age-allowance"]
    assert all(p >= DEFAULT_CALIBRATION.answer_probability for _, p in found)


def test_a_clause_asking_the_same_entry_again_counts_once(ranker: Ranker) -> None:
    found = clause_answers(["低保怎么申请", "低保到哪里申请"], rank_with(ranker), DEFAULT_CALIBRATION)
    assert [k for k, _ in found] == ["dibao-how-to-apply"]


def test_a_clause_that_only_names_a_programme_is_no_answer(ranker: Ranker) -> None:
    found = clause_answers(
        ["低保怎么申请", "高龄津贴多少钱"],
        rank_with(ranker),
        DEFAULT_CALIBRATION,
        only_names_programme=lambda clause, _ranked: clause.startswith("高龄"),
    )
    assert [k for k, _ in found] == ["dibao-how-to-apply"]


def test_an_unsure_clause_is_no_answer() -> None:
    close = [("a", 0.1), ("b", 0.05), (NONE_CLASS, 0.0), ("c", -0.1)]
    assert clause_answer(close, DEFAULT_CALIBRATION) is None
    sure = [("a", 1.2), (NONE_CLASS, -1.0), ("b", -1.1), ("c", -1.2)]
    key, probability = clause_answer(sure, DEFAULT_CALIBRATION) or ("", 0.0)
    assert key == "a" and clause_answer(sure, DEFAULT_CALIBRATION, min_probability=min(1.0, probability + 0.01)) is None


def test_an_answered_message_gets_the_other_clause_answer_beside_it() -> None:
    clauses = [("a", 0.95), ("b", 0.9), ("c", 0.9)]
    assert combine("answer", ["a"], clauses) == [("b", 0.9)]
    assert combine("answer", ["c"], clauses) == [("a", 0.95)]
    assert combine("answer", ["a"], [("a", 0.95)]) == []


def test_a_message_not_answered_is_answered_only_when_two_clauses_are() -> None:
    clauses = [("a", 0.95), ("b", 0.9), ("c", 0.9)]
    assert combine("disambiguate", ["a", "x"], clauses) == clauses[:MAX_ANSWERS]
    assert combine("unknown", [], clauses[:2]) == clauses[:2]
    assert combine("disambiguate", ["a", "x"], clauses[:1]) == []
    assert combine("unknown", [], []) == []
