"""A learned FAQ ranker: which entry a resident's question belongs to, and how sure we are.

Why learned: BM25 with hand-tuned boosts matched shared words (户口簿, 证明, 多久) rather than what
was asked. Every entry carries 15-27 residents' phrasings (``variants``: dialect, homophone typos,
traditional characters, long stories) and near misses (phrasings that share its words but belong to
another entry). A linear SVM (one-vs-rest, so one entry's classifier can be refitted alone) learns
from them over three views of the text (``civil_affairs.faq.features``):

- character 1-3 grams of the dialect-folded text (typos and unknown words still share characters),
- jieba words with the NLU synonyms (底保 → 低保), stopwords dropped,
- toneless pinyin syllable pairs (底保 and 低保 are both ``di bao``).

A long message is read for its question: its clauses that ask something (吗/怎么/多少/哪/？…) get
most of the weight, the whole text stays as weak context, greetings are dropped.

Near misses whose answer is recorded as ``none`` (no entry answers them) form a ``__none__`` class,
so questions outside the FAQ have somewhere to go besides the nearest entry.

Two more classifiers share strength across entries (``civil_affairs.faq.facets``): one for the
programme (低保, 离婚 …, from all of its entries' phrasings) and one for the aspect (conditions,
documents, time …); each entry's margin gets its programme's and its aspect's score added. They are
refitted with the full model only: an edited entry is patched at once and keeps using the previous
programme and aspect classifiers until the background refit.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from civil_affairs.faq.facets import aspect_of, programme_of
from civil_affairs.faq.features import Featurizer
from civil_affairs.faq.ovr import Fit, one_vs_rest_many

NONE_CLASS = "__none__"
# C 1.0 answers about 1 point more than 0.5 at the same confident-wrong rate in cross-validation.
# With 500 entries a full refit took 80-105 s here either way (the patch serves edits meanwhile); on
# 2026-12-02 (load 9-19) its critical path went from 116 s to 81 s of CPU: the texts' analyses kept from
# the last fit (featurising 40 s -> 7 s) and the workers' shares planned by cost (70 / 61 s -> 68 / 67 s).
# Tried on 2026-12-01 and dropped (share answered at confident-wrong <= 2%, calibrated per fold
# seed, topic bonus 0.2): C 2 / 3 / 5, -0.2 to +1.0 points over fold seeds 0 / 1 / 2 (never 1 point
# on all three; out-of-coverage answered 1-3.5 points lower); the nearest training phrasing's
# similarity added to the margins (-0.7 to +0.4, top-1 unchanged) or read by the decision (+0.4 /
# +0.8 / -0.2). On seed 0, no gain or a loss: a logistic re-ranker of the top 5, ridge or logistic
# margins averaged in, NB-weighted features, char 1-4 grams, balanced class weights, near misses x2.
SVM_C = 1.0
# liblinear's coordinate descent visits the examples in a random order: a fixed seed makes two fits
# of the same data the same model (unseeded, repeated cross-validations differed by about 0.1 point
# answered and up to 0.7 point out-of-coverage answered, the size of the effects being compared).
SVM_SEED = 0
SVM_TOL = 1e-3  # a third faster than sklearn's 1e-4 with 500 entries, same accuracy in cross-validation
# Scale of the programme and aspect scores added to an entry's margin, chosen by 5-fold
# cross-validation over three fold seeds (make eval-faq --facet-weights): 0.2 each answered 1.7-3.0
# points more than none at the same confident-wrong rate, top-3 unchanged; 0.3 each answered about as
# much but lost 0.5 points top-3 (fewer right entries among the offered choices).
PROGRAMME_WEIGHT = 0.2
ASPECT_WEIGHT = 0.2
NO_ASPECT = "__other__"  # training label of entries whose question has no aspect (never scored)
PATCH_NEGATIVES = 3000  # other entries' phrasings an edited entry's classifier is refitted against


# --- training data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingEntry:
    """What the ranker learns about one active entry."""

    key: str
    category: str
    question: str
    phrasings: tuple[str, ...]  # question, alternatives, variants
    near_misses: tuple[tuple[str, str], ...] = ()  # (text, key it belongs to, or "none")

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything the ranker learns from this entry changes."""
        payload = json.dumps([self.key, self.category, self.phrasings, self.near_misses], ensure_ascii=False)
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def training_entry(entry: Any) -> TrainingEntry:
    """A ``TrainingEntry`` from a FaqEntry row or a seed record (dict)."""
    get: Callable[[str], Any] = (
        (lambda name: entry.get(name)) if isinstance(entry, dict) else (lambda name: getattr(entry, name, None))
    )
    phrasings = [get("question") or "", *(get("alternatives") or []), *(get("variants") or [])]
    misses = []
    for item in get("near_misses") or []:
        if isinstance(item, dict) and item.get("text"):
            misses.append((str(item["text"]), str(item.get("answer") or "none")))
    return TrainingEntry(
        str(get("key")),
        str(get("category")),
        str(get("question")),
        tuple(p for p in phrasings if p and p.strip()),
        tuple(misses),
    )


def examples(entries: Iterable[TrainingEntry]) -> tuple[list[str], list[str]]:
    """(texts, labels) to learn from: every phrasing, plus each near miss under the entry it
    belongs to (or ``__none__``); near misses pointing at unknown or inactive entries are left out."""
    entries = list(entries)
    keys = {e.key for e in entries}
    texts: list[str] = []
    labels: list[str] = []
    for entry in entries:
        for text in entry.phrasings:
            texts.append(text)
            labels.append(entry.key)
    for entry in entries:
        for text, owner in entry.near_misses:
            label = owner if owner in keys else (NONE_CLASS if owner == "none" else None)
            if label:
                texts.append(text)
                labels.append(label)
    return texts, labels


# --- the model ------------------------------------------------------------------------------------------


def _svm_params() -> dict[str, Any]:
    return {"C": SVM_C, "tol": SVM_TOL, "max_iter": 3000, "random_state": SVM_SEED}


@dataclass(frozen=True)
class FacetView:
    """One facet's labelling of the training rows: ``kind`` (programme, aspect), its weight, the
    row labels, and the classes that keep a column."""

    kind: str
    scale: float
    target: list[str]
    scored: set[str]


@dataclass
class Facets:
    """The programme and aspect classifiers, already scaled by their weights; ``labels`` name the
    columns ("programme:dibao", "aspect:documents"), ``index`` maps an entry to its two columns."""

    labels: list[str]
    weights: npt.NDArray[np.float32]  # (n_features, n_labels)
    bias: npt.NDArray[np.float32]  # (n_labels,)

    @staticmethod
    def names(entry: TrainingEntry) -> tuple[str, str | None]:
        """The programme and aspect column names of an entry (the aspect None when it has none)."""
        aspect = aspect_of(entry.question)
        return f"programme:{programme_of(entry.key)}", f"aspect:{aspect}" if aspect else None

    @classmethod
    def fit(
        cls,
        x: sp.csr_matrix,
        labels: Sequence[str],
        entries: Sequence[TrainingEntry],
        weights: tuple[float, float] = (PROGRAMME_WEIGHT, ASPECT_WEIGHT),
        processes: int = 1,
    ) -> Facets | None:
        """Fit on the entries' training rows (``labels`` are entry keys or ``__none__``); only
        programmes of two or more entries and real aspects keep a column. ``processes``: as for
        ``Ranker.fit``."""
        views = cls.views(labels, entries, weights)
        return cls.from_fits(views, one_vs_rest_many(x, [v.target for v in views], _svm_params(), processes))

    @staticmethod
    def views(
        labels: Sequence[str],
        entries: Sequence[TrainingEntry],
        weights: tuple[float, float] = (PROGRAMME_WEIGHT, ASPECT_WEIGHT),
    ) -> list[FacetView]:
        """The programme and aspect labellings of the training rows to fit (none with weight 0 or
        a single class), so ``Ranker.fit`` can hand them to the pool with the entries' fit."""
        by_key = {e.key: e for e in entries}
        programmes = {k: programme_of(k) for k in by_key}
        counts = Counter(programmes.values())
        shared = {p for p, n in counts.items() if n > 1}
        aspects = {k: aspect_of(e.question) or NO_ASPECT for k, e in by_key.items()}
        kinds = (
            ("programme", weights[0], programmes, shared),
            ("aspect", weights[1], aspects, set(aspects.values()) - {NO_ASPECT}),
        )
        views = []
        for kind, scale, name_of, scored in kinds:
            target = [NONE_CLASS if label == NONE_CLASS else name_of[label] for label in labels]
            if scale and len(set(target)) > 1:
                views.append(FacetView(kind, scale, target, scored))
        return views

    @classmethod
    def from_fits(cls, views: Sequence[FacetView], fits: Sequence[Fit]) -> Facets | None:
        """The scaled columns of the scored classes of each view's one-vs-rest fit; None if none."""
        columns: list[str] = []
        blocks: list[npt.NDArray[np.float32]] = []
        biases: list[npt.NDArray[np.float32]] = []
        for view, (classes, w, b) in zip(views, fits, strict=True):
            used = [n for n, c in enumerate(classes) if c in view.scored]
            columns += [f"{view.kind}:{classes[n]}" for n in used]
            blocks.append(w[:, used] * np.float32(view.scale))
            biases.append(b[used] * np.float32(view.scale))
        if not columns:
            return None
        return cls(columns, np.ascontiguousarray(np.hstack(blocks)), np.concatenate(biases))

    def index(self, keys: Sequence[str], entries: dict[str, TrainingEntry]) -> npt.NDArray[np.int64]:
        """(n_keys, 2) columns of each key's programme and aspect; ``len(labels)`` (a zero score)
        for none, ``__none__`` and unknown keys."""
        position = {label: n for n, label in enumerate(self.labels)}
        missing = len(self.labels)
        rows = []
        for key in keys:
            entry = entries.get(key)
            names = self.names(entry) if entry else (None, None)
            rows.append([position.get(name, missing) if name else missing for name in names])
        return np.array(rows, dtype=np.int64).reshape(len(keys), 2)

    def bonus(self, scores: npt.NDArray[np.float64], index: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Each key's programme score plus aspect score, from the facet ``scores`` (last axis)."""
        padded = np.concatenate([scores, np.zeros(scores.shape[:-1] + (1,))], axis=-1)
        return padded[..., index[:, 0]] + padded[..., index[:, 1]]

    def grown(self, rows: int) -> Facets:
        """A copy with ``rows`` more (zero) feature rows, for a featurizer extended by a patch."""
        if not rows:
            return self
        pad = np.zeros((rows, self.weights.shape[1]), dtype=np.float32)
        return Facets(self.labels, np.vstack([self.weights, pad]), self.bias)


@dataclass
class Ranker:
    """A fitted ranker over a snapshot of entries; ``scores`` gives one margin per entry."""

    featurizer: Featurizer
    keys: list[str]  # column order of the weight matrix (may include NONE_CLASS)
    weights: npt.NDArray[np.float32]  # (n_features, n_classes)
    bias: npt.NDArray[np.float32]  # (n_classes,)
    fingerprints: dict[str, str]
    train_x: sp.csr_matrix | None = None
    train_labels: list[str] = field(default_factory=list)
    fit_seconds: float = 0.0
    facets: Facets | None = None
    facet_index: npt.NDArray[np.int64] | None = None  # (n_classes, 2), see ``Facets.index``

    @classmethod
    def fit(
        cls,
        entries: Sequence[TrainingEntry],
        keep_training_data: bool = True,
        facet_weights: tuple[float, float] = (PROGRAMME_WEIGHT, ASPECT_WEIGHT),
        processes: int = 1,
    ) -> Ranker:
        """Fit features and one-vs-rest linear SVMs on the entries' phrasings and near misses, and the
        programme and aspect classifiers (``facet_weights`` (0, 0): none). A large fit (hundreds of
        entries) splits its SVMs over ``processes`` worker processes (``FAQ_FIT_PROCESSES``);
        small ones stay in this process whatever ``processes`` says."""
        started = time.perf_counter()
        texts, labels = examples(entries)
        featurizer = Featurizer()
        x = featurizer.fit_transform(texts, processes)
        x.sort_indices()  # as liblinear wants them (and kept for patches, as when it sorted them here)
        classes = sorted(set(labels))
        facets = None
        if len(classes) < 2:  # one entry alone: every phrasing is its own; nothing to separate
            weights = np.zeros((x.shape[1], len(classes)), dtype=np.float32)
            bias = np.ones(len(classes), dtype=np.float32)
        else:
            # The entries' SVMs and the facets' in one go: split over the pool, they overlap.
            views = Facets.views(labels, entries, facet_weights)
            fits = one_vs_rest_many(x, [labels, *(v.target for v in views)], _svm_params(), processes)
            classes, weights, bias = fits[0]
            facets = Facets.from_fits(views, fits[1:])
        ranker = cls(
            featurizer,
            classes,
            weights,
            bias,
            {e.key: e.fingerprint for e in entries},
            x if keep_training_data else None,
            labels if keep_training_data else [],
            facets=facets,
            facet_index=facets.index(classes, {e.key: e for e in entries}) if facets else None,
        )
        ranker.fit_seconds = time.perf_counter() - started
        return ranker

    def scores(self, text: str, context: str | None = None) -> dict[str, float]:
        """The SVM margin of every class for ``text`` (higher: more likely that entry).

        ``context`` (the previous question, for a follow-up such as "那离婚呢？") is added at
        ``FOLLOW_UP_CONTEXT_WEIGHT``, so the follow-up's own words lead and the context fills in.
        """
        columns, values = self.featurizer.vector(text, context)
        margins = values @ self.weights[columns] + self.bias if len(columns) else self.bias.copy()
        if self.facets is not None and self.facet_index is not None:
            facet = values @ self.facets.weights[columns] + self.facets.bias if len(columns) else self.facets.bias
            margins = margins + self.facets.bonus(np.asarray(facet, dtype=np.float64), self.facet_index)
        return dict(zip(self.keys, np.asarray(margins, dtype=np.float64).tolist(), strict=False))

    def scores_many(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Margins for many texts at once, columns in ``keys`` order."""
        x = self.featurizer.transform(texts)
        margins = np.asarray(x @ self.weights, dtype=np.float64) + self.bias
        if self.facets is not None and self.facet_index is not None:
            facet = np.asarray(x @ self.facets.weights, dtype=np.float64) + self.facets.bias
            margins += self.facets.bonus(facet, self.facet_index)
        return margins

    def patched(self, entries: Sequence[TrainingEntry]) -> Ranker:
        """A copy where the given new or edited entries have freshly fitted one-vs-rest columns
        (features extended by their new words; other columns unchanged): an edit answers at once
        while the full refit runs in the background. Other entries keep their old columns."""
        if self.train_x is None:
            raise ValueError("this ranker kept no training data")
        changed = {e.key: e for e in entries}
        keep = [i for i, label in enumerate(self.train_labels) if label not in changed]
        texts: list[str] = []
        labels: list[str] = []
        for entry in changed.values():
            for text in entry.phrasings:
                texts.append(text)
                labels.append(entry.key)
        featurizer = self.featurizer.extended(texts)
        grown = featurizer.size - self.train_x.shape[1]
        old_x = self.train_x[keep]
        if grown:
            old_x = sp.hstack([old_x, sp.csr_matrix((old_x.shape[0], grown))], format="csr")
        x_all = sp.vstack([old_x, featurizer.vectors(texts)], format="csr") if texts else old_x
        all_labels = [self.train_labels[i] for i in keep] + labels
        # Fit against a sample of the other entries' phrasings (enough, and fast), plus all new rows.
        rows = np.arange(len(all_labels))
        if len(keep) > PATCH_NEGATIVES:
            sample = np.random.default_rng(0).choice(len(keep), PATCH_NEGATIVES, replace=False)
            rows = np.concatenate([np.sort(sample), np.arange(len(keep), len(all_labels))])
        x_fit = x_all[rows]
        labels_fit = [all_labels[i] for i in rows]
        keys = list(self.keys)
        weights = np.vstack([self.weights, np.zeros((grown, self.weights.shape[1]), dtype=np.float32)])
        bias = self.bias.copy()
        for key in changed:
            target = np.array([1 if label == key else -1 for label in labels_fit])
            if target.max() < 1:
                continue  # no phrasing left: the entry cannot be recognised until it gets one
            svm = LinearSVC(C=SVM_C, tol=SVM_TOL, max_iter=3000, random_state=SVM_SEED).fit(x_fit, target)
            column = svm.coef_.ravel().astype(np.float32)
            if key in keys:
                index = keys.index(key)
                weights[:, index] = column
                bias[index] = svm.intercept_[0]
            else:
                keys.append(key)
                weights = np.hstack([weights, column[:, None]])
                bias = np.append(bias, np.float32(svm.intercept_[0]))
        fingerprints = {**self.fingerprints, **{k: e.fingerprint for k, e in changed.items()}}
        # The programme and aspect classifiers wait for the full refit; an edited or new entry
        # gets the scores of its (possibly new) programme and aspect when they have a column.
        facets = self.facets.grown(grown) if self.facets is not None else None
        facet_index = None
        if facets is not None and self.facet_index is not None:
            known = dict(zip(self.keys, self.facet_index.tolist(), strict=False))
            fresh = facets.index(list(changed), changed)
            known.update(zip(changed, fresh.tolist(), strict=True))
            missing = len(facets.labels)
            pairs = [known.get(k, [missing, missing]) for k in keys]
            facet_index = np.array(pairs, dtype=np.int64).reshape(len(keys), 2)
        return Ranker(
            featurizer,
            keys,
            np.ascontiguousarray(weights),
            bias,
            fingerprints,
            x_all,
            all_labels,
            self.fit_seconds,
            facets,
            facet_index,
        )
