"""scripts/eval_oos_rescue.py: it applies the rescue's own rule (confidence limit, strict decision)."""

from __future__ import annotations

from types import ModuleType

import pytest

from actions.out_of_scope import RESCUE_BELOW_CONFIDENCE
from civil_affairs.faq.ranker import Ranker, TrainingEntry
from tests.helpers.scripts import load_script


def _module() -> ModuleType:
    return load_script("eval_oos_rescue")


@pytest.fixture(scope="module")
def ranker() -> Ranker:
    reissue = ("结婚证丢了能补吗", "结婚证丢了去哪补", "结婚证找不到了怎么补办", "结婚证补领要带什么", "结婚证遗失补办")
    amount = ("低保一个月多少钱", "低保标准是多少", "低保每月发多少", "吃低保能拿多少", "低保金额多少")
    hours = ("民政局几点上班", "民政局周六上班吗", "民政局上班时间", "几点能去民政局办事", "民政局中午休息吗")
    return Ranker.fit(
        [
            TrainingEntry("marriage-reissue", "marriage", reissue[0], reissue),
            TrainingEntry("dibao-amount", "benefits", amount[0], amount),
            TrainingEntry("office-hours", "other", hours[0], hours),
        ]
    )


def test_a_sure_faq_match_is_answered_only_under_the_models_confidence_limit(ranker: Ranker) -> None:
    module = _module()
    assert module.rescued(ranker, "结婚证丢了能补吗", 0.5) == "marriage-reissue"
    assert module.rescued(ranker, "结婚证丢了能补吗", RESCUE_BELOW_CONFIDENCE) is None


def test_a_message_the_faq_is_unsure_of_keeps_the_out_of_scope_reply(ranker: Ranker) -> None:
    assert _module().rescued(ranker, "车贷能提前还吗", 0.3) is None
