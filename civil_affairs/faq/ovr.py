"""One-vs-rest linear SVMs, split over worker processes when the fit is big enough to gain.

A full refit with 500 entries fits about 500 one-vs-rest classifiers on ~20,000 phrasings.
scikit-learn's liblinear holds the GIL while it solves, so threads do not help; processes do.
Above ``PARALLEL_MIN_CELLS`` (rows x classes) the classes are split in ``processes`` chunks, each
fitted in a worker of joblib's reusable loky pool (the training matrix reaches the workers
memory-mapped, not copied). A chunk is one multi-class liblinear fit of the chunk's classes plus
one class standing for every other label, so each of its classes gets exactly its one-vs-rest
problem (its rows against all others), at the cost of one extra binary problem per chunk. The
ranker's programme and aspect SVMs (small, fitted whole) are fitted with the entries' chunks
(``one_vs_rest_many``): each worker gets one share, planned so that the shares cost about the same
(``_plan``: the small fits placed first, then the entries' classes, the dearest first, each to the
least loaded worker).

Liblinear visits the examples in a seeded random order that runs on from one class to the next, so
the chunked fit is not bit-for-bit the sequential one; the difference is of the order of the solver
tolerance (cross-validation: ``make eval-faq``, README "FAQ ranker"). Small fits (tests, patches, a
handful of entries) stay in this process: a worker's start-up and the data transfer would cost more
than they save. The pool's workers are reused between refits and exit on their own after
``loky``'s idle timeout (300 s), or with this process.
"""

from __future__ import annotations

from collections import Counter
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


# What one class's binary problem costs liblinear, in rows: a share of all the rows (going through
# the other classes' rows) plus its own. Measured 2026-12-02 on the 500-entry bench matrix (29,565
# rows): an entry's class (about 59 rows) 0.20 s, an aspect (about 2,960 rows) 0.54 s, a programme
# (about 580 rows) 0.29 s of CPU; a chunk's rest class (the other half of the rows) is the dearest.
FIXED_SHARE = 1 / 18


def _cost(rows: int, positives: int) -> float:
    return rows * FIXED_SHARE + positives


def _chunks(classes: list[str], rows: int, processes: int) -> int:
    """How many chunks the classes are split in (0: fitted whole, here or as one task)."""
    processes = min(processes, len(classes) // 2)  # a chunk of one class would be a binary fit per class
    return processes if processes >= 2 and rows * len(classes) >= PARALLEL_MIN_CELLS else 0


Job = tuple[int, "list[str] | None"]  # (fit, the chunk of its classes, or None for the whole fit)


def _plan(all_counts: list[dict[str, int]], rows: int, processes: int) -> list[list[Job]] | None:
    """Each worker's fits and chunks, so that the workers' estimated costs (``_cost``) are about
    equal; None when no fit is worth splitting (all fitted here).

    The whole fits (small ones: programmes, aspects) are placed first, the biggest on the least
    loaded worker; then the classes of the split fits, the dearest first, each to the least loaded
    worker (a split fit has a chunk on every worker, whose rest class is counted from the start).
    Dealing classes round-robin gave the two chunks of 500 entries the same number of classes, but
    the worker that then fitted the programmes finished about 10 s after the other.
    """
    splits = [_chunks(sorted(counts), rows, processes) for counts in all_counts]
    if not any(splits):
        return None
    workers = min(processes, max(splits))
    loads = [0.0] * workers
    jobs: list[dict[int, list[str] | None]] = [{} for _ in range(workers)]
    whole = [(n, counts) for n, (counts, split) in enumerate(zip(all_counts, splits, strict=True)) if not split]
    costs = [
        sum(_cost(rows, count) for count in counts.values()) if len(counts) > 2 else _cost(rows, 0)
        for _, counts in whole
    ]
    for (n, _), cost in sorted(zip(whole, costs, strict=True), key=lambda item: -item[1]):
        worker = loads.index(min(loads))
        jobs[worker][n] = None
        loads[worker] += cost
    dealt = []
    for n, (counts, split) in enumerate(zip(all_counts, splits, strict=True)):
        if split:
            for worker in range(workers):
                jobs[worker][n] = []
                loads[worker] += _cost(rows, rows - rows // workers)  # its rest class
            dealt += [(_cost(rows, count), n, name) for name, count in counts.items()]
    for cost, n, name in sorted(dealt, key=lambda item: (-item[0], item[1], item[2])):
        worker = loads.index(min(loads))
        chunk = jobs[worker][n]
        assert chunk is not None
        chunk.append(name)
        loads[worker] += cost
    return [
        [(n, sorted(chunk) if chunk is not None else None) for n, chunk in mine.items() if chunk != []] for mine in jobs
    ]


def _fit_jobs(
    x: sp.csr_matrix, label_sets: Sequence[Sequence[str]], jobs: list[Job], params: dict[str, Any]
) -> list[Any]:
    """One worker's share: its whole fits and chunks, in turn."""
    return [
        _fit_chunk(x, label_sets[n], chunk, params) if chunk is not None else _fit(x, label_sets[n], params)
        for n, chunk in jobs
    ]


def one_vs_rest(x: sp.csr_matrix, labels: Sequence[str], params: dict[str, Any], processes: int = 1) -> Fit:
    """(sorted classes, weights (n_features, n_classes), bias) of one-vs-rest ``LinearSVC(**params)``;
    needs 2+ classes. Split over ``processes`` worker processes when rows x classes reaches
    ``PARALLEL_MIN_CELLS`` and there are more classes than processes; else one fit here."""
    return one_vs_rest_many(x, [labels], params, processes)[0]


def one_vs_rest_many(
    x: sp.csr_matrix, label_sets: Sequence[Sequence[str]], params: dict[str, Any], processes: int = 1
) -> list[Fit]:
    """``one_vs_rest`` of each labelling of the same rows (the ranker's entries, programmes and
    aspects). A fit not split is, bit for bit, what ``one_vs_rest`` gives for it alone; a split
    fit's chunks are planned with the other fits (``_plan``), so its classifiers equal those of the
    fit alone up to the solver's tolerance.
    """
    labels = [[str(label) for label in labels] for labels in label_sets]
    all_counts = [dict(Counter(one)) for one in labels]
    plan = _plan(all_counts, x.shape[0], processes)
    if plan is None:
        return [_fit(x, one, params) for one in labels]
    from joblib import Parallel, delayed

    # The workers read the matrix memory-mapped, read-only: hand them the float64 CSR with sorted
    # indices liblinear wants, which scikit-learn would otherwise make by sorting in place.
    x = sp.csr_matrix(x, dtype=np.float64, copy=True)
    x.sum_duplicates()
    # One task per worker, each with its planned share (a pool dealing out tasks as workers free up
    # cannot balance two big chunks and two small fits).
    parts = Parallel(n_jobs=len(plan), backend="loky", batch_size=1)(
        delayed(_fit_jobs)(x, labels, jobs, params) for jobs in plan
    )
    results: list[Fit | None] = [None] * len(label_sets)
    pieces: dict[int, list[tuple[list[str], Any]]] = {}
    for jobs, done in zip(plan, parts, strict=True):
        for (n, chunk), part in zip(jobs, done, strict=True):
            if chunk is None:
                results[n] = part
            else:
                pieces.setdefault(n, []).append((chunk, part))
    for n, chunks in pieces.items():
        classes = sorted(all_counts[n])
        weights = np.empty((x.shape[1], len(classes)), dtype=np.float32)
        bias = np.empty(len(classes), dtype=np.float32)
        position = {name: column for column, name in enumerate(classes)}
        for chunk, (w, b) in chunks:
            columns = [position[name] for name in chunk]
            weights[:, columns] = w
            bias[columns] = b
        results[n] = (classes, weights, bias)
    return [result for result in results if result is not None]
