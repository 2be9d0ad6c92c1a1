"""What the FAQ ranker sees of a text: TF-IDF over three views, the asking clauses weighted.

- character 1-3 grams of the dialect-folded text (typos and unknown words still share characters),
- jieba words with the NLU synonyms (底保 → 低保), stopwords dropped,
- toneless pinyin syllable pairs (底保 and 低保 are both ``di bao``).

A long message is read for its question: its clauses that ask something (吗/怎么/多少/哪/？…) are
added with their own weight, the whole text stays as context.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from civil_affairs.text import fold_dialect, pinyin_syllables, question_clauses, tokenize
from civil_affairs.tfidf import view_vector

VIEW_WEIGHTS = {"chars": 1.0, "words": 0.8, "pinyin": 0.5}
# N-grams seen in one training text only are dropped: they rarely recur, and keeping them would
# triple the weight matrix (features x entries) with 500 entries.
MIN_DF = {"chars": 2, "words": 1, "pinyin": 2}
QUESTION_WEIGHT = 0.15  # the asking clauses of a message (more hurt in cross-validation)
CONTEXT_WEIGHT = 1.0  # the whole message
FOLLOW_UP_CONTEXT_WEIGHT = 0.5
_CJK_RUN = re.compile(r"[\u4e00-\u9fffa-z0-9]+")


def _chars(text: str) -> tuple[str, ...]:
    grams: list[str] = []
    for run in _CJK_RUN.findall(fold_dialect(text)):
        for n in (1, 2, 3):
            grams.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return tuple(grams)


# jieba and pypinyin are most of a fit's featurising (with 500 entries about nine tenths of it). A
# message's analyses are cached here; a fit's are kept in ``_STORE`` until the next fit (below).
@lru_cache(maxsize=65536)
def _words(text: str) -> tuple[str, ...]:
    known = _fitting("words", text)
    return known if known is not None else _analyse_words(text)


def _analyse_words(text: str) -> tuple[str, ...]:
    return tuple(tokenize(fold_dialect(text)))


@lru_cache(maxsize=65536)
def _pinyin(text: str) -> tuple[str, ...]:
    known = _fitting("pinyin", text)
    return known if known is not None else _analyse_pinyin(text)


def _analyse_pinyin(text: str) -> tuple[str, ...]:
    syllables = pinyin_syllables(text)
    return tuple(f"{a}_{b}" for a, b in zip(syllables, syllables[1:], strict=False))


VIEWS = {"chars": _chars, "words": _words, "pinyin": _pinyin}


def _fit_transform(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.fit_transform(texts)`` equal to the last bit to ``vectorizer.transform(texts)``.

    scikit-learn's fit_transform leaves each row's terms unsorted and L2-normalises them in that
    order, one float32 ulp off transform's sorted rows; with the counts sorted first the fit's matrix
    can stand for the training texts' ``transform``, which saves analysing them twice. Same steps as
    ``TfidfVectorizer.fit_transform`` (scikit-learn 1.1) otherwise.
    """
    counts = CountVectorizer.fit_transform(vectorizer, texts)
    counts.sort_indices()
    tfidf = TfidfTransformer(
        norm=vectorizer.norm,
        use_idf=vectorizer.use_idf,
        smooth_idf=vectorizer.smooth_idf,
        sublinear_tf=vectorizer.sublinear_tf,
    ).fit(counts)
    vectorizer._tfidf = tfidf  # what TfidfVectorizer.transform applies
    return tfidf.transform(counts, copy=False)


@lru_cache(maxsize=65536)
def question_part(text: str) -> str:
    """The asking clauses of ``text`` joined (the whole text when none asks)."""
    known = _fitting("question", text)
    return known if known is not None else _analyse_question(text)


def _analyse_question(text: str) -> str:
    asked = question_clauses(text)
    return " ".join(asked) if asked else text


# --- the analyses of a fit's texts, kept for the next fit ---------------------------------------------
#
# A full refit after a staff edit learns from the same texts as the previous fit but a few. The
# analyses (asking clauses, jieba words, pinyin pairs) of the last fit's texts are kept in ``_STORE``
# (replaced by each fit's: one training set's worth, about 30 MB with 500 entries), so a refit
# analyses only the texts it has not seen; the messages' ``lru_cache`` above could not serve that
# (residents' messages push the training texts out of it). Texts not yet analysed, when there are
# at least ``PARALLEL_MIN_TEXTS`` of them (the first fit with hundreds of entries), are analysed in
# the pool of ``civil_affairs.faq.ovr``'s worker processes, ``ANALYSIS_BATCH`` texts a task; the
# analyses are the same strings wherever they are made (jieba's dictionary and the synonyms are
# loaded from the same files), so the fitted matrix is the same bit for bit. A fit's analyses are
# visible to its own thread only (``_ACTIVE``): messages scored meanwhile are analysed as before.
KINDS = ("question", "words", "pinyin")
_ANALYSERS = {"question": _analyse_question, "words": _analyse_words, "pinyin": _analyse_pinyin}
PARALLEL_MIN_TEXTS = 2000
ANALYSIS_BATCH = 500  # texts per pool task
Analyses = dict[str, dict[str, Any]]  # kind -> text -> analysis
_STORE: Analyses = {kind: {} for kind in KINDS}
_STORE_LOCK = threading.Lock()
_ACTIVE = threading.local()  # .analyses: the analyses of the fit running in this thread


def _fitting(kind: str, text: str) -> Any:
    analyses = getattr(_ACTIVE, "analyses", None)
    return analyses[kind].get(text) if analyses is not None else None


def analyse(texts: Sequence[str]) -> Analyses:
    """Each text's asking clauses, and the words and pinyin pairs of the text and of its clauses."""
    out: Analyses = {kind: {} for kind in KINDS}
    for text in texts:
        question = out["question"][text] = _analyse_question(text)
        for part in (text, question):
            if part not in out["words"]:
                # interned: the same few thousand words recur in every text (a third of the memory)
                out["words"][part] = tuple(map(sys.intern, _analyse_words(part)))
                out["pinyin"][part] = tuple(map(sys.intern, _analyse_pinyin(part)))
    return out


def _analyses_of(texts: Sequence[str], processes: int) -> Analyses:
    """The analyses of ``texts``: from the last fit's where it had the text, else made here or, when
    many, in ``processes`` worker processes."""
    with _STORE_LOCK:
        store = _STORE
    questions = store["question"]
    new = list(dict.fromkeys(t for t in texts if t not in questions))
    if processes > 1 and len(new) >= PARALLEL_MIN_TEXTS:
        from joblib import Parallel, delayed

        # Small tasks: a process exiting during a fit waits for the tasks already sent to end.
        batches = [new[n : n + ANALYSIS_BATCH] for n in range(0, len(new), ANALYSIS_BATCH)]
        parts = Parallel(n_jobs=processes, backend="loky", batch_size=1)(delayed(analyse)(batch) for batch in batches)
    else:
        parts = [analyse(new)]
    out: Analyses = {kind: {} for kind in KINDS}
    for text in texts:
        if text in questions:
            question = out["question"][text] = questions[text]
            for part in (text, question):
                out["words"][part] = store["words"][part]
                out["pinyin"][part] = store["pinyin"][part]
    for part in parts:
        for kind in KINDS:
            out[kind].update(part[kind])
    return out


class _Fitting:
    """While a fit runs (``with``): its thread reads the texts' analyses from ``analyses``; after a
    fit that succeeded they replace ``_STORE``."""

    def __init__(self, analyses: Analyses) -> None:
        self.analyses = analyses

    def __enter__(self) -> None:
        _ACTIVE.analyses = self.analyses

    def __exit__(self, kind: object, *_: object) -> None:
        _ACTIVE.analyses = None
        if kind is None:
            global _STORE
            with _STORE_LOCK:
                _STORE = self.analyses


def forget_analyses() -> None:
    """Empty the kept analyses of the last fit (benchmarks of a fit from nothing)."""
    global _STORE
    with _STORE_LOCK:
        _STORE = {kind: {} for kind in KINDS}


class Featurizer:
    """TF-IDF over the three views, the question clauses weighted above the whole message.

    ``transform`` (sklearn) serves fitting and batch scoring; ``vector`` computes the same vector for
    one message in plain Python, several times faster than six sklearn calls per message.
    """

    SMALL_CORPUS = 50  # fewer training texts than this: keep every n-gram (min_df 1)

    def __init__(self) -> None:
        self.vectorizers: dict[str, TfidfVectorizer] = {}
        # Per view: (analyzer, term -> global column, weight); idf by global column.
        self._tables: list[tuple[Any, dict[str, int], float]] = []
        self._idf = np.zeros(0)
        self.n_docs = 0

    def _stack(self, texts: Sequence[str], fit: bool) -> sp.csr_matrix:
        blocks = []
        for name, vectorizer in self.vectorizers.items():
            matrix = _fit_transform(vectorizer, texts) if fit else vectorizer.transform(texts)
            blocks.append(matrix * VIEW_WEIGHTS[name])
        return sp.hstack(blocks, format="csr")

    def fit(self, texts: Sequence[str], processes: int = 1) -> Featurizer:
        """Fit on ``texts``; ``processes``: worker processes for analysing many new texts (above)."""
        with _Fitting(_analyses_of(texts, processes)):
            self._fit(texts)
        return self

    def fit_transform(self, texts: Sequence[str], processes: int = 1) -> sp.csr_matrix:
        """``fit(texts)`` then ``transform(texts)`` (the same matrix), the whole texts vectorised
        once, not twice: the second pass was about a quarter of a 500-entry refit's featurising."""
        with _Fitting(_analyses_of(texts, processes)):
            return self._combine(self._fit(texts), texts)

    def _fit(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Fit the views' vectorizers and tables; the texts' stacked views (``_stack``)."""
        small = len(texts) < self.SMALL_CORPUS
        self.vectorizers = {
            name: TfidfVectorizer(analyzer=fn, sublinear_tf=True, min_df=1 if small else MIN_DF[name], dtype=np.float32)
            for name, fn in VIEWS.items()
        }
        whole = self._stack(list(texts), fit=True)
        offset = 0
        self._tables = []
        idf = []
        for name, vectorizer in self.vectorizers.items():
            columns = {term: offset + column for term, column in vectorizer.vocabulary_.items()}
            self._tables.append((VIEWS[name], columns, VIEW_WEIGHTS[name]))
            idf.append(vectorizer.idf_.astype(np.float64))
            offset += len(columns)
        self._idf = np.concatenate(idf)
        self.n_docs = len(texts)
        return whole

    @property
    def size(self) -> int:
        """Number of feature columns (grows when ``extended``)."""
        return len(self._idf)

    def extended(self, texts: Sequence[str]) -> Featurizer:
        """A copy that also knows the terms of ``texts`` (new columns at the end, idf as if those
        texts had been in the corpus), so a new entry's own words count before the full refit."""
        copy = Featurizer()
        copy.vectorizers = self.vectorizers
        copy.n_docs = self.n_docs + len(texts)
        new_df: dict[tuple[int, str], int] = {}
        tables = []
        size = self.size
        for view, (analyzer, columns, weight) in enumerate(self._tables):
            grown = dict(columns)
            for text in texts:
                for term in set(analyzer(text)):
                    if term not in columns:
                        new_df[view, term] = new_df.get((view, term), 0) + 1
                        if term not in grown:
                            grown[term] = size
                            size += 1
            tables.append((analyzer, grown, weight))
        idf = np.empty(size)
        idf[: self.size] = self._idf
        for (view, term), df in new_df.items():
            idf[tables[view][1][term]] = np.log((1 + copy.n_docs) / (1 + df)) + 1.0
        copy._tables, copy._idf = tables, idf
        return copy

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self._combine(self._stack(list(texts), fit=False), texts)

    def _combine(self, whole: sp.csr_matrix, texts: Sequence[str]) -> sp.csr_matrix:
        """The rows of ``whole`` (the texts' views) plus their asking clauses', L2-normalised."""
        asked = self._stack([question_part(t) for t in texts], fit=False)
        combined = whole * CONTEXT_WEIGHT + asked * QUESTION_WEIGHT
        norms = np.sqrt(np.asarray(combined.multiply(combined).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ combined)

    def vectors(self, texts: Sequence[str]) -> sp.csr_matrix:
        """``vector`` of each text as rows of a matrix with ``size`` columns."""
        rows = [self.vector(t) for t in texts]
        indptr = np.cumsum([0] + [len(c) for c, _ in rows])
        columns = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
        return sp.csr_matrix((values, columns, indptr), shape=(len(texts), self.size))

    def _add_views(self, text: str, weight: float, into: dict[int, float]) -> None:
        for analyzer, vocabulary, view_weight in self._tables:
            columns, values = view_vector(analyzer(text), vocabulary, self._idf)
            for column, value in zip(columns.tolist(), values.tolist(), strict=True):
                into[column] = into.get(column, 0.0) + weight * view_weight * value

    def vector(self, text: str, context: str | None = None) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """(column indices, values) of ``text``'s L2-normalised vector, as ``transform`` computes it;
        ``context`` is added at ``FOLLOW_UP_CONTEXT_WEIGHT`` (a follow-up's previous question)."""
        features: dict[int, float] = {}
        self._add_views(text, CONTEXT_WEIGHT, features)
        self._add_views(question_part(text), QUESTION_WEIGHT, features)
        if context:
            norm = float(np.sqrt(sum(v * v for v in features.values()))) or 1.0
            features = {c: v / norm for c, v in features.items()}
            extra: dict[int, float] = {}
            self._add_views(context, CONTEXT_WEIGHT, extra)
            self._add_views(question_part(context), QUESTION_WEIGHT, extra)
            norm = float(np.sqrt(sum(v * v for v in extra.values()))) or 1.0
            for column, value in extra.items():
                features[column] = features.get(column, 0.0) + FOLLOW_UP_CONTEXT_WEIGHT * value / norm
        if not features:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        columns = np.fromiter(features.keys(), dtype=np.int64, count=len(features))
        values = np.fromiter(features.values(), dtype=np.float64, count=len(features))
        return columns, values / (float(np.sqrt(values @ values)) or 1.0)
