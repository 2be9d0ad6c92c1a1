"""The intent classifier's one-message scorer gives sklearn's probabilities exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu_components.normalized_ngram_classifier import FastScorer, normalize, words

EXAMPLES = {
    "ask_benefits": ["低保怎么申请", "俺家能吃低保不", "特困供养要啥条件", "临时救助找谁", "底保标准多少"],
    "book_appointment": ["预约结婚登记", "下周三想去领证", "帮我约个号", "七夕能登记吗 约一下", "要个号办结婚"],
    "request_human": ["转人工", "找个真人", "叫你们领导来", "我要跟工作人员说", "人工客服在吗"],
    "greet": ["你好", "您好啊", "在吗", "早上好", "哈喽"],
}
PROBES = ["俺想约个号 下周去领证", "低保咋申请", "你好 在吗", "转人工服务", "完全没见过的词语组合", "", "領證預約"]


def _fit(labels: list[str], texts: list[str]) -> tuple[list[TfidfVectorizer], LogisticRegression]:
    """The vectorizers and classifier exactly as the component's ``train`` builds them."""
    vectorizers = [
        TfidfVectorizer(analyzer=words, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", sublinear_tf=True, ngram_range=(1, 3)),
    ]
    folded = [normalize(t) for t in texts]
    features = hstack([v.fit_transform(folded) for v in vectorizers]).tocsr()
    classifier = LogisticRegression(C=30.0, max_iter=1000, class_weight="balanced", random_state=42)
    classifier.fit(features, labels)
    return vectorizers, classifier


@pytest.mark.parametrize("intents", [list(EXAMPLES), ["ask_benefits", "greet"]], ids=["four-intents", "two-intents"])
def test_fast_scorer_equals_predict_proba(intents: list[str]) -> None:
    texts = [t for i in intents for t in EXAMPLES[i]]
    labels = [i for i in intents for _ in EXAMPLES[i]]
    vectorizers, classifier = _fit(labels, texts)
    scorer = FastScorer(vectorizers, classifier)
    for probe in PROBES:
        folded = normalize(probe)
        expected = classifier.predict_proba(hstack([v.transform([folded]) for v in vectorizers]).tocsr())[0]
        got = scorer.probabilities(folded)
        assert np.allclose(got, expected, atol=1e-9), probe
        assert scorer.classes[int(np.argmax(got))] == classifier.classes_[int(np.argmax(expected))]
