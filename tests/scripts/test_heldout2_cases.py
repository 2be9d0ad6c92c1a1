"""eval/heldout-2.yml stays runnable and fair: the fields scripts/eval_cases.py reads, keys that exist,
and keywords that the right entries' answers really contain (so a reworded entry shows up here, and
the case gets its mechanical ``answer_any`` swap, never a change of what it expects)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from civil_affairs.setup_db import read_faq_seed

CASES = Path(__file__).resolve().parents[2] / "eval" / "heldout-2.yml"
EXPECTS = {
    "faq",
    "book_appointment",
    "cancel_appointment",
    "check_status",
    "handoff",
    "emergency",
    "out_of_scope",
    "greet",
    "goodbye",
    "thanks",
    "clarify",
}
TOPICS = {"benefits", "elderly", "disability_children", "marriage", "burial", "other", "none"}
SHAPES = {
    "long_story",
    "dialect",
    "typo",
    "traditional",
    "elderly_indirect",
    "keyword_trap",
    "no_programme_name",
    "multi_question",
    "short",
}
FIELDS = {"id", "text", "expect", "topic", "faq_keys", "answer_any", "answer_all", "answer_none", "shape", "note"}


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    # the same loading as scripts/eval_cases.py main()
    return yaml.safe_load(CASES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def answers() -> dict[str, str]:
    return {r["key"]: str(r["answer"]) for r in read_faq_seed()}


def test_ids_fields_and_labels(cases: list[dict]) -> None:
    assert [c["id"] for c in cases] == [f"k{n:03d}" for n in range(1, 161)]
    for case in cases:
        assert set(case) <= FIELDS, case["id"]
        assert isinstance(case["text"], str) and case["text"].strip(), case["id"]
        assert case["expect"] in EXPECTS, case["id"]
        assert case["topic"] in TOPICS, case["id"]
        assert case["shape"] in SHAPES, case["id"]
        assert case.get("note"), case["id"]
        for field in ("faq_keys", "answer_any", "answer_all", "answer_none"):
            assert isinstance(case.get(field) or [], list), (case["id"], field)
        if case["expect"] != "faq":
            assert not case.get("faq_keys"), case["id"]
        if case["expect"] not in ("faq", "emergency"):
            assert not (case.get("answer_any") or case.get("answer_all") or case.get("answer_none")), case["id"]
    assert len({c["text"] for c in cases}) == len(cases)


def test_the_mix_described_in_the_readme(cases: list[dict]) -> None:
    expects = Counter(c["expect"] for c in cases)
    assert expects == {
        "faq": 115,
        "book_appointment": 10,
        "check_status": 8,
        "handoff": 8,
        "cancel_appointment": 6,
        "emergency": 5,
        "out_of_scope": 5,
        "clarify": 3,
    }


def test_faq_cases_name_existing_entries_and_their_words(cases: list[dict], answers: dict[str, str]) -> None:
    # problems are collected as (id, key, check) so a failure names cases without printing their text
    problems: list[tuple[str, str, str]] = []
    for case in (c for c in cases if c["expect"] == "faq"):
        cid, keys, any_of = case["id"], case["faq_keys"], case["answer_any"]
        all_of, none_of = case.get("answer_all") or [], case.get("answer_none") or []
        if not any_of or len(any_of) > 3:
            problems.append((cid, "", "1-3 answer_any words"))
        if not keys:
            # a fact no entry answers yet: no entry may already contain the words
            if any(w in a for w in any_of for a in answers.values()):
                problems.append((cid, "", "an entry already answers it"))
            continue
        if len(keys) != len(set(keys)):
            problems.append((cid, "", "duplicate key"))
        for key in keys:
            if key not in answers:
                problems.append((cid, key, "no such entry"))
                continue
            # the bot answering from any listed entry must pass the reply checks of eval_cases.py
            answer = answers[key]
            if not any(w in answer for w in any_of):
                problems.append((cid, key, "answer_any"))
            if not all(w in answer for w in all_of):
                problems.append((cid, key, "answer_all"))
            if any(w in answer for w in none_of):
                problems.append((cid, key, "answer_none"))
    assert problems == []
