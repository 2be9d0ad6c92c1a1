"""Messages that only name a programme ("离婚", "想问下特困"): which ones, and what is offered.

The messages below are written for this test, not taken from the seed or the evaluation sets.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from civil_affairs.faq.programmes import ProgrammeMention, ProgrammeNames
from civil_affairs.faq.search import FaqSearcher
from civil_affairs.faq.store import parse_faq, upsert_faq
from civil_affairs.setup_db import read_faq_seed


@pytest.fixture(scope="module")
def names() -> ProgrammeNames:
    return ProgrammeNames.of((r["key"], r["question"], r["category"]) for r in read_faq_seed())


@pytest.fixture(scope="module")
def searcher() -> FaqSearcher:
    """One searcher for the tests that only read the seeded store (a fit takes seconds)."""
    return FaqSearcher(background=False, watch_interval=None)


@pytest.mark.parametrize(
    "text,programme,name",
    [
        ("离婚", "divorce", "离婚"),
        ("高龄津贴", "elderly", "高龄津贴"),
        ("低保", "dibao", "低保"),
        ("底保", "dibao", "低保"),  # a typo: the question back uses the programme's own word
        ("五保户", "tekun", "特困供养"),
        ("結婚登記", "marriage", "结婚登记"),  # traditional characters
        ("临时救助？", "temp", "临时救助"),
        # The funeral entries are one programme whatever their keys (death-, cremation-, ashes- …).
        ("殡葬", "funeral", "殡葬"),
        ("丧葬", "funeral", "丧葬"),
        ("丧事", "funeral", "丧事"),
        ("办丧事", "funeral", "丧事"),  # read as 丧事 (NAMES_OF_PROGRAMMES), as are 后事 and 白事
        ("后事", "funeral", "丧事"),
        ("白事", "funeral", "丧事"),
        ("公墓", "funeral", "公墓"),
        ("骨灰", "funeral", "骨灰"),
        ("殡仪馆", "funeral", "殡仪馆"),
    ],
)
def test_a_bare_programme_name_is_recognised(names: ProgrammeNames, text: str, programme: str, name: str) -> None:
    assert names.named(text) == ProgrammeMention(programme, name)


@pytest.mark.parametrize(
    "text,programme",
    [
        ("低保的事", "dibao"),
        ("想问下特困", "tekun"),
        ("你好，我想咨询一下收养", "adoption"),
        ("关于离婚的事情", "divorce"),
        ("高龄补贴了解一下", "elderly"),
        ("残疾人两项补贴政策", "disability"),
    ],
)
def test_filler_around_the_name_asks_nothing(names: ProgrammeNames, text: str, programme: str) -> None:
    mention = names.named(text)
    assert mention is not None and mention.programme == programme


@pytest.mark.parametrize(
    "text",
    [
        "高龄津贴怎么申请",  # an aspect pattern
        "离婚要带什么",
        "低保多少钱一个月",
        "特困供养标准",  # 标准: amount
        "低保能领吗",  # a question word
        "收养条件",  # 条件: eligibility
        "补领结婚证",  # 补领 is no word of the marriage programme
        "低保户看病",  # 看病 neither
        "老人补贴",  # 补贴 is a word of the elderly entries but names none: it narrows to the subsidies
        "老人的后事",  # 老人 names the elderly programme, 后事 the funeral one
        "墓地",  # one question says 墓地 (家族墓地…): a word of no programme; the ranker offers
        "殡葬补贴咨询一下",  # 殡葬补贴 is a synonym of 惠民殡葬, a word of one question
        "骨灰放哪里",  # a question
        "补贴",  # names no programme (assistance-overview asks which one)
        "救助",  # spread over many programmes
        "咨询一下",  # nothing left
        "我爸今年八十五了一直没拿到高龄津贴，村里说要去镇上交材料",  # a story
    ],
)
def test_a_message_that_asks_something_or_names_no_programme_is_left_to_the_ranker(
    names: ProgrammeNames, text: str
) -> None:
    assert names.named(text) is None


def test_the_offer_is_the_programme_s_general_questions_first(names: ProgrammeNames) -> None:
    """Who qualifies, how to apply, what to bring, how much, whatever order the ranker gave them."""
    ranked = [
        ("dibao-fraud-penalty", 0.3),
        ("marriage-documents", 0.25),  # another programme: never offered
        ("dibao-amount", 0.2),
        ("dibao-documents", 0.1),
        ("dibao-how-to-apply", 0.0),
        ("dibao-eligibility", -0.1),
        ("dibao-assets", -0.2),  # eligibility too, but more particular than dibao-eligibility
        ("dibao-payment-method", -3.0),  # far below the programme's best
    ]
    assert names.offer(ranked, "dibao") == [
        "dibao-eligibility",
        "dibao-how-to-apply",
        "dibao-documents",
        "dibao-amount",
    ]
    assert names.offer(ranked[:3], "dibao", limit=4) == ["dibao-amount", "dibao-fraud-penalty"]
    assert names.ask_back("低保", ranked[:1]) is None  # one entry to offer is no choice


@pytest.mark.parametrize(
    "text,programmes",
    [
        ("俺耳朵聋了十几年 屋里就我一个 能不能吃个底保", {"dibao"}),  # a typo, asking
        ("离婚以后孩子的低保还算不算", {"divorce", "dibao"}),
        ("我妈去年走了 想问点事", set()),  # names no programme
    ],
)
def test_programmes_named_anywhere_in_a_question(names: ProgrammeNames, text: str, programmes: set[str]) -> None:
    assert names.mentioned(text) == programmes


def test_a_residents_name_of_a_programme_counts_anywhere_as_in_a_bare_name(names: ProgrammeNames) -> None:
    """后事 is read as the questions' 丧事 both ways, so one reading of the text serves both rules."""
    assert names.named("后事") is not None
    assert "funeral" in names.mentioned("屋里老人的后事 想问问要办些么子")


def test_a_named_funeral_counts_for_every_funeral_entry_s_key(names: ProgrammeNames) -> None:
    """decide compares the best entry's key programme (death-certificate: death) with these."""
    assert {"funeral", "death", "cremation", "ashes", "public"} <= names.mentioned("殡葬这块的事到底该怎么弄")


def test_a_staff_created_programme_is_recognised_without_retraining_anything(session: Session) -> None:
    searcher = FaqSearcher(background=False, watch_interval=None)
    assert searcher.search(session, "流动图书车", category="other").programme_name is None
    for key, question, variants in (
        ("bookbus-schedule", "流动图书车每周几来村里？", ["图书车哪天来", "流动图书车几点到"]),
        ("bookbus-borrow", "流动图书车一次能借几本书？", ["图书车能借多少本", "流动图书车借书要证吗"]),
        ("bookbus-return", "流动图书车借的书怎么还？", ["图书车的书去哪还", "流动图书车还书"]),
    ):
        upsert_faq(
            parse_faq(
                {
                    "key": key,
                    "category": "other",
                    "question": question,
                    "variants": variants,
                    "answer": "以文化部门通知为准。",
                }
            ),
            session=session,
        )
    session.flush()
    result = searcher.search(session, "想问下流动图书车的事", category="other")
    assert result.decision == "disambiguate" and result.programme_name == "流动图书车"
    assert {c.key for c in result.offered} == {"bookbus-schedule", "bookbus-borrow", "bookbus-return"}
    asked = searcher.search(session, "流动图书车一次能借几本书", category="other")
    assert asked.programme_name is None and asked.best is not None and asked.best.key == "bookbus-borrow"


@pytest.mark.parametrize(
    "text,category,key",
    [
        ("高龄津贴怎么申请", "elderly", "elderly-high-age-apply"),
        ("离婚要带什么", "marriage", "divorce-documents"),
        ("低保多少钱一个月", "benefits", "dibao-amount"),
    ],
)
def test_a_question_about_the_programme_is_still_answered(
    session: Session, searcher: FaqSearcher, text: str, category: str, key: str
) -> None:
    result = searcher.search(session, text, category=category)
    assert result.decision == "answer" and result.best is not None and result.best.key == key
    assert result.programme_name is None


def test_a_bare_programme_name_is_asked_back_not_answered(session: Session, searcher: FaqSearcher) -> None:
    """高龄津贴 alone was answered with how to apply at P 0.99; now its questions are offered."""
    result = searcher.search(session, "高龄津贴", category="elderly")
    assert result.decision == "disambiguate" and result.programme_name == "高龄津贴"
    assert {"elderly-high-age-apply", "elderly-high-age-allowance"} <= {c.key for c in result.offered}
    assert all(c.key.startswith("elderly-") for c in result.offered) and 2 <= len(result.offered) <= 4


@pytest.mark.parametrize("text,name", [("殡葬", "殡葬"), ("后事", "丧事"), ("丧葬", "丧葬"), ("骨灰", "骨灰")])
def test_a_bare_funeral_name_is_asked_back_with_funeral_entries_of_every_key(
    session: Session, searcher: FaqSearcher, text: str, name: str
) -> None:
    """Before, no word named any of the small groups the funeral keys make (殡葬 was answered with the
    2026 regulation at P 0.99, 后事 with the dibao/tekun funeral entry at P 0.99)."""
    result = searcher.search(session, text, category="funeral")
    assert result.decision == "disambiguate" and result.programme_name == name
    assert all(c.category == "funeral" for c in result.offered) and 2 <= len(result.offered) <= 4


def test_the_whole_sequence_is_an_aspect_of_the_question_back_only(names: ProgrammeNames) -> None:
    """老人在家里去世了，要按什么顺序办手续？ is offered before the particular questions; the ranker's
    aspects (facets.ASPECT_PATTERNS) stay as they were."""
    from civil_affairs.faq.facets import aspect_of

    assert names.aspects["death-at-home-first-steps"] == "steps"
    assert aspect_of("老人在家里去世了，要按什么顺序办手续？") is None


def test_the_whole_sequence_comes_first_when_it_is_offered(session: Session, searcher: FaqSearcher) -> None:
    """后事: what to do after a death, in which order, before the particular questions."""
    offered = [c.key for c in searcher.search(session, "后事", category="funeral").offered]
    assert offered[0] in ("death-at-home-first-steps", "death-in-hospital-steps")
