"""Two questions in one message: each asking clause ranked and decided on its own
(``civil_affairs.faq.multi``), on a small ranker fitted for this test."""

from __future__ import annotations

import pytest

from civil_affairs.faq.decision import DEFAULT_CALIBRATION
from civil_affairs.faq.multi import (
    CLAUSE_GAP,
    MAX_ANSWERS,
    ClauseAnswer,
    asking_clauses,
    clause_answer,
    clause_answers,
    combine,
)
from civil_affairs.faq.programmes import ProgrammeNames
from civil_affairs.faq.ranker import NONE_CLASS, Ranker, TrainingEntry

ENTRIES = [
    TrainingEntry(
        "dibao-how-to-apply",
        "benefits",
        "低保怎么申请",
        ("低保怎么申请", "低保到哪里申请", "申请低保找谁", "低保去哪办", "办低保找哪个部门", "怎么办低保"),
    ),
    TrainingEntry(
        "dibao-amount",
        "benefits",
        "低保一个月多少钱",
        ("低保一个月多少钱", "低保每月发多少", "低保标准是多少", "吃低保能拿几多钱", "低保金额多少"),
    ),
    TrainingEntry(
        "elderly-high-age-apply",
        "elderly",
        "高龄津贴怎么申请",
        ("高龄津贴怎么申请", "高龄津贴去哪里办", "高龄补贴找谁申请", "八十岁补贴怎么领", "高龄津贴要带什么"),
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


@pytest.fixture(scope="module")
def names() -> ProgrammeNames:
    return ProgrammeNames.of((e.key, e.question, e.category) for e in ENTRIES)


def rank_with(ranker: Ranker):
    return lambda text: sorted(ranker.scores(text).items(), key=lambda item: item[1], reverse=True)


def test_only_a_message_with_two_asking_clauses_is_split() -> None:
    assert asking_clauses("低保怎么申请？高龄津贴多少钱？") == ["低保怎么申请", "高龄津贴多少钱"]
    assert asking_clauses("我家老人今年八十五了，高龄津贴多少钱？") == []
    assert asking_clauses("结婚登记要带什么材料") == []


def test_each_clause_is_answered_on_its_own(ranker: Ranker, names: ProgrammeNames) -> None:
    found = clause_answers(["低保怎么申请", "高龄津贴多少钱"], rank_with(ranker), DEFAULT_CALIBRATION, names)
    assert [c.key for c in found] == ["dibao-how-to-apply", "elderly-high-age-allowance"]
    assert all(c.probability >= DEFAULT_CALIBRATION.answer_probability for c in found)
    assert found[0].asks_rather_than("elderly-high-age-allowance") and found[1].asks_rather_than("dibao-how-to-apply")


def test_a_clause_asking_the_same_entry_again_counts_once(ranker: Ranker, names: ProgrammeNames) -> None:
    found = clause_answers(["低保怎么申请", "低保到哪里申请"], rank_with(ranker), DEFAULT_CALIBRATION, names)
    assert [c.key for c in found] == ["dibao-how-to-apply"]


def test_a_clause_that_only_names_a_programme_is_no_answer(ranker: Ranker, names: ProgrammeNames) -> None:
    """高龄津贴 alone would be asked back (which aspect?): no answer for it."""
    found = clause_answers(["低保怎么申请", "高龄津贴"], rank_with(ranker), DEFAULT_CALIBRATION, names)
    assert [c.key for c in found] == ["dibao-how-to-apply"]


def test_a_clause_naming_no_programme_does_not_stand_for_itself(ranker: Ranker, names: ProgrammeNames) -> None:
    """死亡证明去哪里开 is answered surely on its own, but names no programme the store knows as one
    (a single funeral entry here): a clause answer needs its entry's programme named."""
    sure = clause_answer(rank_with(ranker)("死亡证明去哪里开"), DEFAULT_CALIBRATION)
    assert sure is not None and sure.key == "funeral-death-certificate"
    found = clause_answers(["低保怎么申请", "死亡证明去哪里开"], rank_with(ranker), DEFAULT_CALIBRATION, names)
    assert [c.key for c in found] == ["dibao-how-to-apply"]


def test_an_unsure_clause_is_no_answer() -> None:
    close = [("a", 0.1), ("b", 0.05), (NONE_CLASS, 0.0), ("c", -0.1)]
    assert clause_answer(close, DEFAULT_CALIBRATION) is None
    sure = [("a", 1.2), (NONE_CLASS, -1.0), ("b", -1.1), ("c", -1.2)]
    answer = clause_answer(sure, DEFAULT_CALIBRATION)
    assert answer is not None and answer.key == "a"
    assert clause_answer(sure, DEFAULT_CALIBRATION, min_probability=min(1.0, answer.probability + 0.01)) is None


def answer(key: str, margins: dict[str, float]) -> ClauseAnswer:
    return ClauseAnswer(key, 0.99, margins)


# Each clause ranks its own entry far above the others.
A = answer("a", {"a": 1.5, "b": -1.0, "c": -1.0})
B = answer("b", {"b": 1.5, "a": -1.0, "c": -1.0})
C = answer("c", {"c": 1.5, "a": -1.0, "b": -1.0})


def keys(answers: list[ClauseAnswer]) -> list[str]:
    return [a.key for a in answers]


def test_an_answered_message_gets_the_other_clause_answer_beside_it() -> None:
    assert keys(combine("answer", ["a"], [A, B], 0.9)) == ["a", "b"]
    assert keys(combine("answer", ["b"], [A, B], 0.9)) == ["b", "a"]
    assert keys(combine("answer", ["c"], [A], 0.9)) == ["c", "a"]
    assert combine("answer", ["a"], [A]) == []


def test_two_clause_answers_replace_a_phantom_whole_message_answer() -> None:
    """Two questions mixed can rank a third entry first ("低保怎么申请？高龄津贴多少钱？" as a whole
    was the high-age allowance's application): both clauses' answers are sent instead."""
    assert keys(combine("answer", ["c"], [A, B], 0.9)) == ["a", "b"]


def test_a_clause_that_also_fits_the_main_answer_is_left_out() -> None:
    """A sub-question of the same ask ("…户口本要不要") ranks the main answer close behind its own."""
    close = answer("b", {"b": 1.5, "a": 1.5 - CLAUSE_GAP / 2})
    assert combine("answer", ["a"], [A, close]) == []
    assert combine("answer", ["a"], [close]) == []


def test_a_message_not_answered_is_answered_only_when_two_clauses_are() -> None:
    assert combine("disambiguate", ["a", "b"], [A, B]) == [A, B]
    assert combine("unknown", [], [B, A]) == [B, A]
    assert combine("disambiguate", ["a", "b"], [A]) == []
    close = answer("c", {"c": 1.5, "a": 1.5 - CLAUSE_GAP / 2})
    assert combine("disambiguate", ["a", "c"], [A, close]) == []
    assert len(combine("unknown", [], [A, B, C])) == MAX_ANSWERS
