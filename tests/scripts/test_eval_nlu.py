"""scripts/eval_nlu.py: the seeds it reads and how it sums up several seeds' runs."""

from __future__ import annotations

import argparse

import pytest

from scripts import eval_nlu


def test_seeds_are_read_as_a_list_or_a_range() -> None:
    parse = eval_nlu.parse_seeds
    assert parse("0,1,2") == [0, 1, 2]
    assert parse("0-4") == [0, 1, 2, 3, 4]
    assert parse("3, 0-1,3") == [3, 0, 1]
    with pytest.raises(argparse.ArgumentTypeError):
        parse(",")


def test_each_intent_gets_its_mean_and_minimum_weakest_first() -> None:
    rows = eval_nlu.across_seeds(
        {0: {"affirm": 0.90, "deny": 0.95}, 1: {"affirm": 0.94, "deny": 0.85}, 2: {"affirm": 0.92, "deny": 0.95}}
    )
    assert [name for name, _, _ in rows] == ["deny", "affirm"]
    assert rows[0][1:] == pytest.approx((0.9166667, 0.85))
    assert rows[1][1:] == pytest.approx((0.92, 0.90))


def test_the_averages_are_no_intents() -> None:
    report = {"affirm": {"f1-score": 0.9}, "macro avg": {"f1-score": 0.8}, "weighted avg": {}, "accuracy": 0.7}
    assert eval_nlu.per_intent_f1(report) == {"affirm": 0.9}
