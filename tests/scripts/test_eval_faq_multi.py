"""scripts/eval_faq_multi.py: the synthetic two-question messages use only held-out variants of
entries of different programmes."""

from __future__ import annotations

import random

from civil_affairs.faq.ranker import NONE_CLASS
from scripts.eval_faq import Item
from scripts.eval_faq_multi import JOINS, pairs

ITEMS = [
    Item("低保怎么申请？", "dibao-how-to-apply", "variant", "dibao-how-to-apply"),
    Item("低保多少钱", "dibao-amount", "variant", "dibao-amount"),
    Item("高龄津贴多少钱", "elderly-high-age-allowance", "variant", "elderly-high-age-allowance"),
    Item("结婚要带什么", "marriage-documents", "near_miss", "marriage-documents"),
    Item("火星签证", NONE_CLASS, "near_miss", "marriage-documents"),
    Item("离婚冷静期多久", "divorce-cooling-off", "variant", "divorce-cooling-off"),
]


def test_pairs_join_held_out_variants_of_different_programmes() -> None:
    made = pairs(ITEMS, [0, 1, 2, 3, 4], random.Random(0))
    assert made
    for text, keys in made:
        assert len(keys) == 2 and len({k.split("-")[0] for k in keys}) == 2
        assert keys <= {"dibao-how-to-apply", "dibao-amount", "elderly-high-age-allowance"}
        assert any(join.split("{a}")[1].split("{b}")[0] in text for join in JOINS)
        assert "？，" not in text and "？。" not in text
