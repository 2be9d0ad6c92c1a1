"""Programme and aspect scores: the rules that read them from an entry, how the ranker adds them,
and that a patched entry gets them before the background refit.

The texts below are written for this test, not taken from the seed or the evaluation sets.
"""

from __future__ import annotations

import numpy as np
import pytest

from civil_affairs.faq.facets import aspect_of, programme_of
from civil_affairs.faq.ranker import NONE_CLASS, Ranker, TrainingEntry


@pytest.mark.parametrize(
    "key,programme",
    [("dibao-documents", "dibao"), ("divorce-cooling-off", "divorce"), ("temp-aid-types", "temp"), ("x", "x")],
)
def test_the_programme_is_the_key_up_to_its_first_hyphen(key: str, programme: str) -> None:
    assert programme_of(key) == programme


@pytest.mark.parametrize(
    "question,aspect",
    [
        ("申请低保要准备哪些材料？", "documents"),
        ("低保申请要多久才能批下来？怎么查进度？", "time"),
        ("低保金每个月发多少？是怎么算出来的？", "amount"),
        ("特困人员（五保户）怎么认定？谁能申请？", "eligibility"),
        ("火化证明有什么用？", None),
        ("殡仪馆乱收费怎么投诉", "report"),  # one clause: 投诉 wins over 收费 (earlier pattern)
    ],
)
def test_the_aspect_is_read_from_the_first_clause_of_the_question_that_matches(
    question: str, aspect: str | None
) -> None:
    assert aspect_of(question) == aspect


def _entry(key: str, question: str, *phrasings: str) -> TrainingEntry:
    return TrainingEntry(key, "benefits", question, (question, *phrasings))


ENTRIES = [
    _entry("alpha-documents", "甲补贴要带什么材料", "办甲补贴要准备啥", "甲补贴材料清单", "申请甲补贴带哪些东西"),
    _entry("alpha-time", "甲补贴多久批下来", "甲补贴要等几天", "甲补贴审批时间", "甲补贴多长时间到"),
    _entry("beta-documents", "乙证明要带什么材料", "开乙证明要准备啥", "乙证明材料", "办乙证明带哪些东西"),
    _entry("beta-time", "乙证明多久能开好", "乙证明要等几天", "乙证明办理时间", "乙证明多长时间"),
    _entry("gamma", "丙是什么", "丙是啥意思", "丙有什么用", "听说过丙吗"),
]


@pytest.fixture(scope="module")
def ranker() -> Ranker:
    return Ranker.fit(ENTRIES)


def test_shared_programmes_and_real_aspects_get_a_score_a_key_of_its_own_none(ranker: Ranker) -> None:
    assert ranker.facets is not None and ranker.facet_index is not None
    labels = set(ranker.facets.labels)
    assert {"programme:alpha", "programme:beta", "aspect:documents", "aspect:time"} <= labels
    assert "programme:gamma" not in labels  # one entry: its programme score would count it twice
    missing = len(ranker.facets.labels)
    row = dict(zip(ranker.keys, ranker.facet_index.tolist(), strict=True))
    assert row["gamma"] == [missing, missing]
    assert ranker.facets.labels[row["beta-time"][0]] == "programme:beta"
    assert ranker.facets.labels[row["beta-time"][1]] == "aspect:time"


def test_one_message_and_a_batch_score_alike(ranker: Ranker) -> None:
    text = "俺想办乙证明 要等好几天吗"
    one = ranker.scores(text)
    batch = ranker.scores_many([text])[0]
    assert np.allclose([one[k] for k in ranker.keys], batch, atol=1e-4)


def test_the_scores_are_added_to_each_entry_margin() -> None:
    plain = Ranker.fit(ENTRIES, facet_weights=(0.0, 0.0))
    shared = Ranker.fit(ENTRIES)
    assert plain.facets is None
    text = "乙证明要带啥"
    a, b = plain.scores(text), shared.scores(text)
    # The entry that is both beta and documents gains the most.
    gains = {k: b[k] - a[k] for k in a if k != NONE_CLASS}
    assert max(gains, key=gains.__getitem__) == "beta-documents"
    assert gains["gamma"] == pytest.approx(0.0, abs=1e-3)  # the same SVM up to its solver's tolerance


def test_a_new_entry_gets_its_programme_and_aspect_before_the_refit(ranker: Ranker) -> None:
    new = _entry("beta-amount", "乙证明要交多少钱", "开乙证明收费吗", "乙证明工本费多少", "办乙证明要钱不")
    patched = ranker.patched([new])
    assert patched.facets is not None and patched.facet_index is not None
    row = dict(zip(patched.keys, patched.facet_index.tolist(), strict=True))
    assert patched.facets.labels[row["beta-amount"][0]] == "programme:beta"
    assert row["beta-amount"][1] == len(patched.facets.labels)  # no amount entry at fit time: no column yet
    assert patched.facets.weights.shape[0] == patched.featurizer.size
    scores = patched.scores("开个乙证明收不收费")
    assert max((k for k in scores if k != NONE_CLASS), key=scores.__getitem__) == "beta-amount"
