"""Two questions in one message: each asking clause ranked and decided on its own
(``civil_affairs.faq.multi``), on a small ranker fitted for this test."""

from __future__ import annotations

from dataclasses import replace

import pytest

from civil_affairs.faq.decision import DEFAULT_CALIBRATION
from civil_affairs.faq.message import decide_message
from civil_affairs.faq.multi import (
    CLAUSE_GAP,
    MAX_ANSWERS,
    Clause,
    ClauseAnswer,
    Split,
    asking_clauses,
    clause_answer,
    combine,
    distinct_answers,
    ranked_clauses,
    split,
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


def clause_answers(clauses: list[str], ranker: Ranker, names: ProgrammeNames) -> list[ClauseAnswer]:
    """The clauses' distinct confident answers, as the searcher reads them."""
    return distinct_answers(ranked_clauses(clauses, rank_with(ranker), DEFAULT_CALIBRATION, names))


def test_only_a_message_with_two_asking_clauses_is_split() -> None:
    assert asking_clauses("低保怎么申请？高龄津贴多少钱？") == ["低保怎么申请", "高龄津贴多少钱"]
    assert asking_clauses("我家老人今年八十五了，高龄津贴多少钱？") == []
    assert asking_clauses("结婚登记要带什么材料") == []


def test_each_clause_is_answered_on_its_own(ranker: Ranker, names: ProgrammeNames) -> None:
    found = clause_answers(["低保怎么申请", "高龄津贴多少钱"], ranker, names)
    assert [c.key for c in found] == ["dibao-how-to-apply", "elderly-high-age-allowance"]
    assert all(c.probability >= DEFAULT_CALIBRATION.answer_probability for c in found)
    assert found[0].asks_rather_than("elderly-high-age-allowance") and found[1].asks_rather_than("dibao-how-to-apply")


def test_a_clause_asking_the_same_entry_again_counts_once(ranker: Ranker, names: ProgrammeNames) -> None:
    found = clause_answers(["低保怎么申请", "低保到哪里申请"], ranker, names)
    assert [c.key for c in found] == ["dibao-how-to-apply"]


def test_a_clause_that_only_names_a_programme_is_no_answer(ranker: Ranker, names: ProgrammeNames) -> None:
    """高龄津贴 alone would be asked back (which aspect?): no answer for it."""
    found = clause_answers(["低保怎么申请", "高龄津贴"], ranker, names)
    assert [c.key for c in found] == ["dibao-how-to-apply"]


def test_a_clause_naming_no_programme_does_not_stand_for_itself(ranker: Ranker, names: ProgrammeNames) -> None:
    """死亡证明去哪里开 is answered surely on its own, but names no programme the store knows as one
    (a single funeral entry here): a clause answer needs its entry's programme named."""
    sure = clause_answer(rank_with(ranker)("死亡证明去哪里开"), DEFAULT_CALIBRATION)
    assert sure is not None and sure.key == "funeral-death-certificate"
    found = clause_answers(["低保怎么申请", "死亡证明去哪里开"], ranker, names)
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


# The phantom rule: clauses naming different programmes (dibao, elderly), and a whole-message answer
# "elderly-apply" that is neither clause's best entry while the elderly clause is fairly sure (P 0.949)
# of another entry of its programme.
DIBAO = ClauseAnswer("dibao-apply", 0.98, {"dibao-apply": 1.1, "elderly-apply": -1.0, "elderly-amount": -1.0})
ELDERLY = ClauseAnswer("elderly-amount", 0.99, {"elderly-amount": 1.5, "dibao-apply": -1.0, "elderly-apply": -0.5})
SURE = Clause("低保怎么申请", frozenset({"dibao"}), "dibao-apply", ("dibao-apply", "dibao-how"), DIBAO, {}, 0.98)
UNSURE = Clause(
    "高龄津贴多少钱", frozenset({"elderly"}), "elderly-amount", ("elderly-amount", "elderly-apply"), None, {}, 0.949
)
PHANTOM = "elderly-apply"


def test_a_phantom_whole_message_answer_gives_way_to_the_sure_clause_and_choices() -> None:
    """ "低保怎么申请？高龄津贴多少钱？" as a whole ranked the high-age allowance's application
    (asked by neither): the sure clause is answered, the other one's likeliest entries offered."""
    assert split("answer", [PHANTOM], [SURE, UNSURE], 0.9) == Split([DIBAO], ["elderly-amount", "elderly-apply"])
    assert split("answer", [PHANTOM], [UNSURE, SURE], 0.9) == Split([DIBAO], ["elderly-amount", "elderly-apply"])


def test_a_phantom_with_no_sure_clause_stands_alone() -> None:
    """Measured, such an answer was more often right than not: no clause to put in its place."""
    assert split("answer", [PHANTOM], [replace(SURE, answer=None), UNSURE], 0.9) is None


def test_a_phantom_with_two_sure_clauses_gets_both_answers() -> None:
    sure = replace(UNSURE, answer=ELDERLY, probability=0.99)
    assert split("answer", [PHANTOM], [SURE, sure], 0.9) == Split([DIBAO, ELDERLY], [])


def test_a_whole_message_answer_stands_unless_it_is_a_phantom() -> None:
    """As before: a clause's best entry, or an answer no clause naming its programme is fairly sure
    to ask otherwise (the clause alone may miss what the whole message got right), gets the sure other
    clause beside it; a phantom kept (``phantom_probability`` None) too."""
    main_and_dibao = Split([ClauseAnswer(PHANTOM, 0.9, {}), DIBAO], [])
    assert split("answer", ["elderly-amount"], [SURE, UNSURE], 0.9) == Split(
        [ClauseAnswer("elderly-amount", 0.9, {}), DIBAO], []
    )
    assert split("answer", ["dibao-apply"], [SURE, UNSURE], 0.9) is None
    assert split("answer", [PHANTOM], [SURE, replace(UNSURE, probability=0.6)], 0.9) == main_and_dibao
    assert split("answer", [PHANTOM], [SURE, UNSURE], 0.9, phantom_probability=None) == main_and_dibao


def test_the_phantom_rule_needs_clauses_naming_different_programmes() -> None:
    """One programme (or a clause naming none) may well be asked as a whole."""
    main_and_dibao = Split([ClauseAnswer(PHANTOM, 0.9, {}), DIBAO], [])
    silent = replace(UNSURE, text="一个月多少钱", named=frozenset())
    assert split("answer", [PHANTOM], [SURE, silent], 0.9) == main_and_dibao
    both_elderly = replace(SURE, named=frozenset({"elderly"}))
    assert split("answer", [PHANTOM], [both_elderly, UNSURE], 0.9) == main_and_dibao


def test_a_message_not_answered_keeps_its_decision_unless_two_clauses_are_sure() -> None:
    assert split("disambiguate", ["elderly-apply", "dibao-apply"], [SURE, UNSURE], 0.5) is None


WHOLE = [("elderly-high-age-apply", 0.9), ("dibao-how-to-apply", 0.1), (NONE_CLASS, -1.0), ("dibao-amount", -1.2)]
CLAUSES = {
    "低保怎么申请": [("dibao-how-to-apply", 1.2), (NONE_CLASS, -1.0), ("dibao-amount", -1.1)],
    "高龄津贴多少钱": [
        ("elderly-high-age-allowance", 0.8),
        ("elderly-high-age-apply", -0.04),
        ("funeral-death-certificate", -0.7),
        (NONE_CLASS, -0.9),
    ],
}


def test_decide_message_answers_the_sure_part_and_offers_the_other(names: ProgrammeNames) -> None:
    """The searcher's example: the amount clause alone is fairly sure (P 0.95 - 0.90), not sure."""
    assert 0.9 <= DEFAULT_CALIBRATION.probability(CLAUSES["高龄津贴多少钱"]) < 0.95
    text = "低保怎么申请？高龄津贴多少钱？"
    before = decide_message(text, WHOLE, DEFAULT_CALIBRATION, names, CLAUSES.__getitem__, phantom_probability=None)
    assert before.decision == "answer" and before.answered == ["elderly-high-age-apply", "dibao-how-to-apply"]
    decided = decide_message(text, WHOLE, DEFAULT_CALIBRATION, names, CLAUSES.__getitem__)
    assert decided.decision == "answer" and decided.answered == ["dibao-how-to-apply"]
    assert decided.also_offered == ["elderly-high-age-allowance", "elderly-high-age-apply"]


def test_decide_message_never_splits_a_follow_up_or_a_single_question(names: ProgrammeNames) -> None:
    follow_up = decide_message(
        "低保怎么申请？高龄津贴多少钱？", WHOLE, DEFAULT_CALIBRATION, names, CLAUSES.__getitem__, follow_up=True
    )
    assert follow_up.answered == ["elderly-high-age-apply"] and follow_up.also_offered == []
    single = decide_message("高龄津贴怎么申请", WHOLE, DEFAULT_CALIBRATION, names, CLAUSES.__getitem__)
    assert single.answered == ["elderly-high-age-apply"]
