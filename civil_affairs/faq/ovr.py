"""One-vs-rest linear SVMs, split over worker processes when the fit is big enough to gain.

A full refit with 500 entries fits about 500 one-vs-rest classifiers on ~20,000 phrasings.
scikit-learn's liblinear holds the GIL while it solves, so threads do not help; processes do.
Above ``PARALLEL_MIN_CELLS`` (rows x classes) the classes are dealt out to ``processes`` chunks,
each fitted in a worker of joblib's reusable loky pool (the training matrix reaches the workers
memory-mapped, not copied). A chunk is one multi-class liblinear fit of the chunk's classes plus
one class standing for every other label, so each of its classes gets exactly its one-vs-rest
problem (its rows against all others), at the cost of one extra binary problem per chunk. The
ranker's programme and aspect SVMs (small, fitted whole) go to the pool with the entries' chunks
(``one_vs_rest_many``) and fill a worker that would otherwise wait for the other's chunk.

Liblinear visits the examples in a seeded random order that runs on from one class to the next, so
the chunked fit is not bit-for-bit the sequential one; the difference is of the order of the solver
tolerance (cross-validation: ``make eval-faq``, README "FAQ ranker"). Small fits (tests, patches, a
handful of entries) stay in this process: a worker's start-up and the data transfer would cost more
than they save. The pool's workers are reused between refits and exit on their own after
``loky``'s idle timeout (300 s), or with this process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.svm import LinearSVC

# Rows x classes from which a fit is split over processes. Measured 2026-12-01 on the 2-core machine
# at load 9 (other work running): 144 synthesised entries (8,062 rows x 145 classes, 1.2 million
# cells) fit in 23.3 s in one process, one chunk of 73 classes plus the rest class in 15.2 s; the
# pool's first start took 8.1 s (each worker imports scikit-learn), then 0.1 s while the workers
# live (300 s idle). So the seed (144 entries, about 1.1 million cells; 5 s for a whole fit on a
# quiet machine) stays in process; 500 entries (about 21,000 rows x 500 classes) are split.
PARALLEL_MIN_CELLS = 2_000_000
_REST = "\x00rest"  # stands for every label outside a chunk (sorts before any entry key)


def _fit(
    x: sp.csr_matrix, labels: Sequence[str], params: dict[str, Any]
) -> tuple[list[str], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(classes, weights (n_features, n_classes), bias) of one liblinear one-vs-rest fit; 2+ classes."""
    svm = LinearSVC(**params)
    svm.fit(x, list(labels))
    coef = svm.coef_ if len(svm.classes_) > 2 else np.vstack([-svm.coef_, svm.coef_])
    intercept = svm.intercept_ if len(svm.classes_) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
    return [str(c) for c in svm.classes_], np.ascontiguousarray(coef.T.astype(np.float32)), intercept.astype(np.float32)


def _fit_chunk(
    x: sp.csr_matrix, labels: Sequence[str], chunk: Sequence[str], params: dict[str, Any]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Weights (n_features, len(chunk)) and bias of the chunk's classes against all other rows."""
    wanted = set(chunk)
    classes, weights, bias = _fit(x, [label if label in wanted else _REST for label in labels], params)
    columns = [classes.index(name) for name in chunk]
    return np.ascontiguousarray(weights[:, columns]), bias[columns]


Fit = tuple[list[str], npt.NDArray[np.float32], npt.NDArray[np.float32]]


def _chunks(classes: list[str], rows: int, processes: int) -> list[list[str]] | None:
    """The classes dealt out to ``processes`` chunks when the fit is worth splitting, else None."""
    processes = min(processes, len(classes) // 2)  # a chunk of one class would be a binary fit per class
    if processes < 2 or rows * len(classes) < PARALLEL_MIN_CELLS:
        return None
    return [classes[n::processes] for n in range(processes)]  # dealt out: similar sizes and rows


def one_vs_rest(x: sp.csr_matrix, labels: Sequence[str], params: dict[str, Any], processes: int = 1) -> Fit:
    """(sorted classes, weights (n_features, n_classes), bias) of one-vs-rest ``LinearSVC(**params)``;
    needs 2+ classes. Split over ``processes`` worker processes when rows x classes reaches
    ``PARALLEL_MIN_CELLS`` and there are more classes than processes; else one fit here."""
    return one_vs_rest_many(x, [labels], params, processes)[0]


def one_vs_rest_many(
    x: sp.csr_matrix, label_sets: Sequence[Sequence[str]], params: dict[str, Any], processes: int = 1
) -> list[Fit]:
    """``one_vs_rest`` of each labelling of the same rows (the ranker's entries, programmes and
    aspects), each result as ``one_vs_rest`` gives it alone, bit for bit.

    When one of them is split, every chunk of every fit goes to the pool at once, the biggest first:
    the small fits (programmes, aspects: under ``PARALLEL_MIN_CELLS``, fitted whole) fill a worker
    while the other still solves its chunk, instead of following the split fit in this process.
    """
    all_classes = [sorted({str(label) for label in labels}) for labels in label_sets]
    plans = [_chunks(classes, x.shape[0], processes) for classes in all_classes]
    if all(plan is None for plan in plans):
        return [_fit(x, labels, params) for labels in label_sets]
    from joblib import Parallel, delayed

    # The workers read the matrix memory-mapped, read-only: hand them the float64 CSR with sorted
    # indices liblinear wants, which scikit-learn would otherwise make by sorting in place.
    x = sp.csr_matrix(x, dtype=np.float64, copy=True)
    x.sum_duplicates()
    # (fit, chunk or None for a whole fit, its classes counted with a chunk's rest class)
    tasks: list[tuple[int, list[str] | None, int]] = []
    for n, (classes, plan) in enumerate(zip(all_classes, plans, strict=True)):
        tasks += [(n, chunk, len(chunk) + 1) for chunk in plan] if plan else [(n, None, len(classes))]
    tasks.sort(key=lambda task: -task[2])  # stable: a fit's chunks keep their order
    labels = [[str(label) for label in labels] for labels in label_sets]
    parts = Parallel(n_jobs=min(processes, len(tasks)), backend="loky", batch_size=1)(
        delayed(_fit_chunk)(x, labels[n], chunk, params) if chunk else delayed(_fit)(x, labels[n], params)
        for n, chunk, _ in tasks
    )
    results: list[Fit | None] = [None] * len(label_sets)
    for n, (classes, plan) in enumerate(zip(all_classes, plans, strict=True)):
        done = [part for (fit, _, _), part in zip(tasks, parts, strict=True) if fit == n]
        if plan is None:
            results[n] = done[0]
            continue
        weights = np.empty((x.shape[1], len(classes)), dtype=np.float32)
        bias = np.empty(len(classes), dtype=np.float32)
        position = {name: column for column, name in enumerate(classes)}
        for chunk, (w, b) in zip(plan, done, strict=True):
            columns = [position[name] for name in chunk]
            weights[:, columns] = w
            bias[columns] = b
        results[n] = (classes, weights, bias)
    return [result for result in results if result is not None]
