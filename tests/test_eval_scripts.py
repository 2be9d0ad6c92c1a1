"""The scoring of ``make eval`` (scripts/eval_cases.py): FAQ keys, clarify cases, confident-wrong."""

from __future__ import annotations

import pytest

from tests.helpers.scripts import load_script


@pytest.fixture(scope="module")
def eval_cases():  # type: ignore[no-untyped-def]
    return load_script("eval_cases")


def _events(*, faq_key: str | None = None, offered: list[str] | None = None) -> list[dict]:
    events = [
        {"event": "user", "parse_data": {"intent": {"name": "ask_benefits"}}},
        {"event": "action", "name": "action_answer_faq"},
    ]
    if faq_key:
        events.append({"event": "slot", "name": "last_faq_key", "value": faq_key})
    if offered:
        events.append({"event": "slot", "name": "faq_candidates", "value": offered})
    return events


def test_an_answer_from_another_entry_is_a_confident_wrong_answer(eval_cases) -> None:  # type: ignore[no-untyped-def]
    case = {"expect": "faq", "faq_keys": ["dibao-eligibility"], "answer_any": ["低保"]}
    behaviour, _, key, _ = eval_cases.turn_outcome(_events(faq_key="dibao-amount"))
    problems = eval_cases.check_reply(case, "低保标准……", behaviour, key)
    assert problems and eval_cases.is_confident_wrong(case, behaviour, problems)
    right = eval_cases.check_reply(case, "低保以家庭为单位……", "faq", "dibao-eligibility")
    assert right == [] and not eval_cases.is_confident_wrong(case, "faq", right)


def test_offering_choices_is_not_confidently_wrong_and_passes_a_clarify_case(eval_cases) -> None:  # type: ignore[no-untyped-def]
    behaviour, _, key, offered = eval_cases.turn_outcome(_events(offered=["a", "b"]))
    assert (behaviour, key, offered) == ("disambiguate", "", ["a", "b"])
    faq_case = {"expect": "faq", "faq_keys": ["a"], "answer_any": ["x"]}
    problems = eval_cases.check_reply(faq_case, "您是想问", behaviour, key)
    assert problems and not eval_cases.is_confident_wrong(faq_case, behaviour, problems)
    clarify = {"expect": "clarify", "faq_keys": [], "answer_any": []}
    assert eval_cases.check_reply(clarify, "您是想问", behaviour, key) == []
    answered = eval_cases.check_reply(clarify, "答复", "faq", "a")
    assert answered and eval_cases.is_confident_wrong(clarify, "faq", answered)


def test_the_hotlines_sent_by_the_faq_action_count_as_an_emergency(eval_cases) -> None:  # type: ignore[no-untyped-def]
    events = _events() + [{"event": "slot", "name": "emergency_raised", "value": True}]
    assert eval_cases.turn_outcome(events)[0] == "emergency"
    assert eval_cases.turn_outcome(_events())[0] == "unknown"


def test_the_out_of_scope_action_counts_as_out_of_scope_unless_the_faq_answered_or_asked_back(eval_cases) -> None:  # type: ignore[no-untyped-def]
    user = {"event": "user", "parse_data": {"intent": {"name": "out_of_scope"}}}
    action = {"event": "action", "name": "action_out_of_scope"}
    assert eval_cases.turn_outcome([user, action])[:3] == ("out_of_scope", "out_of_scope", "")
    answered = [user, action, {"event": "slot", "name": "last_faq_key", "value": "domestic-violence"}]
    assert eval_cases.turn_outcome(answered)[:3] == ("faq", "out_of_scope", "domestic-violence")
    asked_back = [user, action, {"event": "slot", "name": "faq_candidates", "value": ["dibao-eligibility"]}]
    assert eval_cases.turn_outcome(asked_back) == ("disambiguate", "out_of_scope", "", ["dibao-eligibility"])


def test_offered_choices_are_judged_by_keys_or_by_the_seed_answer(eval_cases) -> None:  # type: ignore[no-untyped-def]
    eval_cases._CASES.update(
        {
            "k": {"id": "k", "expect": "faq", "faq_keys": ["dibao-eligibility"]},
            "w": {"id": "w", "expect": "faq", "faq_keys": [], "answer_any": ["以家庭为单位"], "answer_none": []},
        }
    )
    result = eval_cases.CaseResult("k", "t", "faq", "benefits", "disambiguate", "", False, "", 0.0)
    assert eval_cases._offered_is_right(result, "dibao-eligibility")
    assert not eval_cases._offered_is_right(result, "dibao-amount")
    words = eval_cases.CaseResult("w", "t", "faq", "benefits", "disambiguate", "", False, "", 0.0)
    assert eval_cases._offered_is_right(words, "dibao-eligibility")  # its answer says 以家庭为单位
    assert not eval_cases._offered_is_right(words, "marriage-documents")
