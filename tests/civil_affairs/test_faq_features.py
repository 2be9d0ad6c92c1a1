"""The analyses of a fit's texts (``civil_affairs.faq.features``): kept for the next fit, made in
worker processes when many are new, and the fitted matrix the same bit for bit either way.

The texts are the seed's training phrasings of three categories (the ranker's training data).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse as sp

from civil_affairs.faq import features
from civil_affairs.faq.ranker import examples, training_entry
from civil_affairs.setup_db import read_faq_seed

CATEGORIES = {"marriage", "benefits", "elderly"}


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return examples([training_entry(r) for r in read_faq_seed() if r["category"] in CATEGORIES])[0]


@pytest.fixture(autouse=True)
def _cold() -> None:
    """Each test starts from nothing analysed (the messages' caches and the kept analyses)."""
    for cached in (features._words, features._pinyin, features.question_part):
        cached.cache_clear()
    features.forget_analyses()


def _same(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


def _count_analyses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    analyse_words = features._analyse_words

    def counted(text: str) -> tuple[str, ...]:
        seen.append(text)
        return analyse_words(text)

    monkeypatch.setattr(features, "_analyse_words", counted)
    return seen


def test_a_refit_analyses_only_the_texts_the_last_fit_did_not_have(
    texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = features.Featurizer().fit_transform(texts)
    for cached in (features._words, features._pinyin, features.question_part):
        cached.cache_clear()  # residents' messages pushed the training texts out of the cache
    seen = _count_analyses(monkeypatch)
    edited = [*texts, "新加的一种问法：离婚冷静期从哪天算起"]
    again = features.Featurizer().fit_transform(edited)
    assert set(seen) <= {edited[-1], features.question_part(edited[-1])} and seen
    assert _same(again[: len(texts)].tocsr(), features.Featurizer().fit_transform(edited)[: len(texts)].tocsr())
    # and the kept analyses give the same matrix as analysing everything afresh
    assert _same(first, features.Featurizer().fit_transform(texts))
    features.forget_analyses()
    for cached in (features._words, features._pinyin, features.question_part):
        cached.cache_clear()
    assert _same(first, features.Featurizer().fit_transform(texts))


def test_texts_analysed_in_worker_processes_give_the_same_matrix_bit_for_bit(
    texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    here = features.Featurizer().fit_transform(texts)
    for cached in (features._words, features._pinyin, features.question_part):
        cached.cache_clear()
    features.forget_analyses()
    monkeypatch.setattr(features, "PARALLEL_MIN_TEXTS", 0)
    seen = _count_analyses(monkeypatch)
    pooled = features.Featurizer().fit_transform(texts, processes=2)
    assert not seen  # every analysis was made in the workers
    assert _same(here, pooled)


def test_few_new_texts_are_analysed_here(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import joblib

    monkeypatch.setattr(joblib, "Parallel", lambda *a, **k: pytest.fail("no pool wanted"))
    few = texts[:200]
    assert len(few) < features.PARALLEL_MIN_TEXTS
    features.Featurizer().fit_transform(few, processes=2)
    features.Featurizer().fit_transform([*texts[:300], *texts[-50:]], processes=2)  # 150 new


def test_a_fits_analyses_are_its_threads_only(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages scored while a background refit runs are analysed as before, not from its table."""
    analyses = features.analyse(texts[:5])
    analyses["words"][texts[0]] = ("from-the-fit",)
    seen_elsewhere: list[tuple[str, ...]] = []
    with features._Fitting(analyses):
        assert features._words(texts[0]) == ("from-the-fit",)
        features._words.cache_clear()
        thread = threading.Thread(target=lambda: seen_elsewhere.append(features._words(texts[0])))
        thread.start()
        thread.join()
    assert seen_elsewhere == [features._analyse_words(texts[0])]


def test_a_failed_fit_keeps_the_previous_analyses(texts: list[str]) -> None:
    features.Featurizer().fit_transform(texts[:40])
    kept = features._STORE
    with pytest.raises(RuntimeError), features._Fitting(features.analyse(texts[40:50])):
        raise RuntimeError("the fit failed")
    assert features._STORE is kept
