"""The learned FAQ ranker: retrieval of residents' phrasings, the three-way decision, refits after
staff edits, and the migration that stores the training examples.

The questions below are written for this test (not taken from the seed or the evaluation sets);
``test_questions_are_not_training_examples`` checks that none of them is a training phrasing.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.faq.decision import Calibration, decide
from civil_affairs.faq.ranker import NONE_CLASS, Ranker, TrainingEntry, training_entry
from civil_affairs.faq.search import FaqSearcher
from civil_affairs.faq.store import as_data, find_entry, import_records, parse_faq, upsert_faq
from civil_affairs.models import FaqEntry
from civil_affairs.setup_db import alembic_config, read_faq_seed

# (resident's question, entry that answers it, what makes it hard)
QUESTIONS = [
    ("俺娘快九十了 高龄津贴要到哪个地方去申请 咋个弄", "elderly-high-age-apply", "dialect"),
    ("咱屋里老人八十五 高龄津贴一个月有几多", "elderly-high-age-allowance", "dialect"),
    ("滴保咋申请 找哪个部门", "dibao-how-to-apply", "homophone typo 滴保"),
    ("結婚登記要帶哪些證件", "marriage-documents", "traditional characters"),
    ("離婚冷靜期要等幾天", "divorce-cooling-off", "traditional characters"),
    (
        (
            "我男人去年出车祸走了 留下我跟两个娃 地里的活我一个人干不过来 娘家也帮不上 "
            "听村里人讲有个最低生活保障 我们这样的家能不能申请 要啥条件"
        ),
        "dibao-eligibility",
        "long story",
    ),
    (
        ("你好 麻烦问下 我跟对象都是外省户口 在这边打工好几年了 想在这边把结婚证领了 可以不"),
        "marriage-nationwide",
        "long story",
    ),
]


@pytest.fixture(scope="module")
def seed_ranker() -> Ranker:
    return Ranker.fit([training_entry(r) for r in read_faq_seed()])


def test_questions_are_not_training_examples() -> None:
    phrasings = {p for r in read_faq_seed() for p in training_entry(r).phrasings}
    assert not [q for q, _, _ in QUESTIONS if q in phrasings]


@pytest.mark.parametrize("question,key,why", QUESTIONS, ids=[w for _, _, w in QUESTIONS])
def test_residents_phrasings_rank_their_entry_first(seed_ranker: Ranker, question: str, key: str, why: str) -> None:
    scores = seed_ranker.scores(question)
    ranked = sorted((k for k in scores if k != NONE_CLASS), key=scores.get, reverse=True)
    assert ranked[0] == key, (why, ranked[:3])


def test_two_fits_of_the_same_entries_are_the_same_model() -> None:
    """Comparisons in cross-validation rest on it: an unseeded solver moved the figures by as much
    as the changes being compared."""
    entries = [training_entry(r) for r in read_faq_seed() if r["category"] == "marriage"]
    first, second = Ranker.fit(entries), Ranker.fit(entries)
    assert first.keys == second.keys
    assert np.array_equal(first.weights, second.weights) and np.array_equal(first.bias, second.bias)


def test_pinyin_matches_a_homophone_typo_no_synonym_lists() -> None:
    """滴/低 share no character and 滴保 is no known synonym: only the pinyin view links them."""
    entries = [
        TrainingEntry("a", "benefits", "低保怎么申请", ("低保怎么申请", "低保到哪里申请", "申请低保找谁")),
        TrainingEntry("b", "benefits", "保险怎么报销", ("保险怎么报销", "医疗保险报销找谁", "保险到哪里报")),
    ]
    scores = Ranker.fit(entries).scores("滴保去哪办")
    assert scores["a"] > scores["b"]


def test_a_long_story_is_read_for_its_question(seed_ranker: Ranker) -> None:
    """The story names 身份证 and 户口 (words of other procedures); the question asks for 低保."""
    story = (
        "我屋里老头子前年中风瘫了 身份证户口本都在我这里 儿子在外面打工一年回来一次 "
        "我一个人种两亩田 想问问这样能不能吃低保"
    )
    scores = seed_ranker.scores(story)
    best = max((k for k in scores if k != NONE_CLASS), key=scores.get)
    assert best.startswith("dibao"), best


# --- the decision -------------------------------------------------------------------------------------------


def test_decision_answers_a_clear_lead_and_offers_close_ones() -> None:
    calibration = Calibration()
    clear = [("a", 0.8), ("b", -0.7), ("c", -0.9), (NONE_CLASS, -1.0)]
    close = [("a", -0.1), ("b", -0.15), ("c", -0.3), (NONE_CLASS, -1.0)]
    nothing = [("a", -1.4), ("b", -1.5), (NONE_CLASS, -0.2)]
    assert decide(clear, calibration)[:2] == ("answer", ["a"])
    decision, offered, _ = decide(close, calibration)
    assert decision == "disambiguate" and offered == ["a", "b", "c"]
    assert decide(nothing, calibration)[0] == "unknown"


def test_a_weak_lead_in_a_programme_the_message_names_is_offered_not_unknown() -> None:
    """A long story dilutes the margins; when it names the best entry's programme, choices beat
    "don't know". A programme it does not name changes nothing."""
    weak = [("dibao-eligibility", -1.4), ("dibao-assets", -1.5), ("temp-aid", -1.6), (NONE_CLASS, -0.2)]
    assert decide(weak)[0] == "unknown"
    assert decide(weak, named={"marriage"})[0] == "unknown"
    decision, offered, _ = decide(weak, named={"dibao"})
    assert decision == "disambiguate" and offered == ["dibao-eligibility", "dibao-assets", "temp-aid"]


def test_decision_never_offers_a_single_choice() -> None:
    ranked = [("a", -0.2), ("b", -1.0), (NONE_CLASS, -1.2)]
    decision, offered, probability = decide(ranked, Calibration(answer_probability=0.999))
    assert decision == "disambiguate" and offered == ["a", "b"] and probability < 0.999


def test_how_to_get_an_allowance_goes_to_its_how_to_apply_entry(seed_ranker: Ranker) -> None:
    """ "咋领" (how to get it) asks how to apply: the how-to-apply entry leads the allowance entry."""
    scores = seed_ranker.scores("俺娘快九十了 那个高龄的补助咋领")
    ranked = sorted((k for k in scores if k != NONE_CLASS), key=scores.__getitem__, reverse=True)
    assert ranked[:2] == ["elderly-high-age-apply", "elderly-high-age-allowance"]


@pytest.mark.parametrize("question", ["有哪些补助可以领啊", "请问民政上都有啥救助", "俺能申请么子补贴"])
def test_a_question_naming_no_programme_gets_the_overview(seed_ranker: Ranker, question: str) -> None:
    """Asking what help there is names no programme: the answer lists them all, instead of one
    programme's entry answered with confidence (有什么补贴 got the elderly-care subsidy before)."""
    ranked = sorted(seed_ranker.scores(question).items(), key=lambda item: item[1], reverse=True)
    assert decide(ranked)[:2] == ("answer", ["assistance-overview"])


@pytest.mark.parametrize(
    "question,key",
    [("八十多岁的老人有啥补贴", "elderly-high-age-allowance"), ("低保户孩子读书有没有补助", "education-aid")],
)
def test_a_question_naming_its_programme_keeps_its_entry(seed_ranker: Ranker, question: str, key: str) -> None:
    scores = seed_ranker.scores(question)
    ranked = sorted((k for k in scores if k != NONE_CLASS), key=scores.__getitem__, reverse=True)
    assert ranked[0] == key


def test_a_question_between_two_entries_offers_both(seed_ranker: Ranker) -> None:
    """Asking how to go about the allowance (咋弄) sits between the allowance entry and the
    how-to-apply entry. (Since the 2026-12-02 data, "…高龄补助的事想问一下", which asks about the
    allowance in general, is answered with the allowance entry at P 0.83.)"""
    question = "俺娘快九十了 高龄补助咋弄"
    ranked = sorted(seed_ranker.scores(question).items(), key=lambda item: item[1], reverse=True)
    decision, offered, _ = decide(ranked)
    assert decision == "disambiguate"
    assert {"elderly-high-age-apply", "elderly-high-age-allowance"} <= set(offered)


def test_none_class_can_win_and_is_never_offered(seed_ranker: Ranker) -> None:
    ranked = sorted(
        seed_ranker.scores("吃了低保以后孩子考公务员政审受影响吗").items(), key=lambda item: item[1], reverse=True
    )
    decision, keys, _ = decide(ranked)
    assert NONE_CLASS not in keys and decision != "answer"


# --- staff edits reach the ranker -----------------------------------------------------------------------

NEW_ENTRY = {
    "key": "test-pet-licence",
    "category": "other",
    "question": "养狗要办什么证？",
    "answer": "测试答复。",
    "source": "测试依据",
    "variants": ["家里养了条狗要不要去办证", "狗证在哪里办", "养犬登记怎么弄", "遛狗要不要证件"],
}


def test_an_edit_answers_at_once_and_the_background_refit_follows(fresh_database_url: str) -> None:
    factory = make_session_factory(make_engine(fresh_database_url))
    searcher = FaqSearcher(background=True, watch_interval=None)
    with factory.begin() as session:
        assert searcher.search(session, "养的狗要去哪里登记办证").best.key != "test-pet-licence"
        fits_before = searcher.refits

    with factory.begin() as session:
        import_records([NEW_ENTRY], session=session)
    started = time.perf_counter()
    with factory.begin() as session:
        result = searcher.search(session, "养的狗要去哪里登记办证")
    assert result.best.key == "test-pet-licence"  # patched model, before any full refit
    assert time.perf_counter() - started < 5
    assert searcher.refits == fits_before

    assert searcher.wait_for_refit(timeout=60)
    assert searcher.refits == fits_before + 1
    with factory.begin() as session:
        assert searcher.search(session, "养的狗要去哪里登记办证").best.key == "test-pet-licence"
    assert searcher._state.ranker.fingerprints["test-pet-licence"] == training_entry(NEW_ENTRY).fingerprint


def test_a_deactivated_entry_is_never_offered_even_before_the_refit(fresh_database_url: str) -> None:
    factory = make_session_factory(make_engine(fresh_database_url))
    searcher = FaqSearcher(background=True, watch_interval=None)
    question = "结婚证丢了去哪里补办"
    with factory.begin() as session:
        assert searcher.search(session, question).best.key == "marriage-certificate-reissue"
    with factory.begin() as session:
        data = as_data(find_entry("marriage-certificate-reissue", session=session))
        data.active = False
        upsert_faq(data, session=session)
    with factory.begin() as session:
        result = searcher.search(session, question)
    keys = [c.key for c in result.candidates] + [c.key for c in result.offered]
    assert "marriage-certificate-reissue" not in keys
    searcher.wait_for_refit(timeout=60)


def test_the_watcher_refits_without_any_search(fresh_database_url: str) -> None:
    factory = make_session_factory(make_engine(fresh_database_url))
    searcher = FaqSearcher(background=True, watch_interval=0.5)
    with factory.begin() as session:
        searcher.search(session, "低保怎么申请")
    fits = searcher.refits
    with factory.begin() as session:
        import_records([NEW_ENTRY], session=session)
    deadline = time.monotonic() + 60
    while searcher.refits == fits and time.monotonic() < deadline:
        time.sleep(0.2)
    assert searcher.refits == fits + 1
    assert "test-pet-licence" in searcher._state.ranker.fingerprints


# --- the store keeps the training examples ----------------------------------------------------------------


def test_near_misses_are_edited_as_lines() -> None:
    data = parse_faq(
        {
            "key": "k",
            "category": "other",
            "question": "问",
            "answer": "答",
            "variants": "说法一\n说法二",
            "near_misses": "别的问题 => dibao-documents\n没人能答",
        }
    )
    assert data.variants == ["说法一", "说法二"]
    assert data.near_misses == [
        {"text": "别的问题", "answer": "dibao-documents"},
        {"text": "没人能答", "answer": "none"},
    ]


def test_seed_loads_variants_into_an_entry_that_had_none(session: Session) -> None:
    entry = session.scalars(select(FaqEntry).where(FaqEntry.key == "dibao-eligibility")).one()
    assert len(entry.variants) >= 15 and entry.near_misses
    entry.variants, entry.near_misses = [], []
    session.flush()
    import_records(read_faq_seed(), session=session, create_only=True)
    assert len(entry.variants) >= 15 and entry.near_misses


def _insert_an_old_entry(engine: Engine) -> None:
    """An entry 'old' with only the columns every revision has."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO faq_entry (key, category, question, alternatives, keywords, answer, source,"
                " locality, active, created_at, updated_at) VALUES ('old', 'other', '问', '[]', '[]',"
                " '答', '', 'national', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )


def test_migration_adds_and_removes_the_training_columns(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0007_operations")
    engine = create_engine(url)
    _insert_an_old_entry(engine)
    command.upgrade(config, "0010_faq_training")
    columns = {c["name"] for c in inspect(engine).get_columns("faq_entry")}
    assert {"variants", "near_misses"} <= columns
    with engine.connect() as connection:  # raw SQL: the ORM model has the later columns too
        row = connection.execute(text("SELECT variants, near_misses FROM faq_entry WHERE key = 'old'")).one()
    assert tuple(row) == ("[]", "[]")
    command.downgrade(config, "0007_operations")
    assert "variants" not in {c["name"] for c in inspect(create_engine(url)).get_columns("faq_entry")}


def test_migration_adds_and_removes_the_choices_column(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0010_faq_training")
    engine = create_engine(url)
    _insert_an_old_entry(engine)
    command.upgrade(config, "0011_faq_choices")
    with sessionmaker(bind=engine)() as session:
        assert session.scalars(select(FaqEntry).where(FaqEntry.key == "old")).one().choices == []
    command.downgrade(config, "0010_faq_training")
    assert "choices" not in {c["name"] for c in inspect(create_engine(url)).get_columns("faq_entry")}
