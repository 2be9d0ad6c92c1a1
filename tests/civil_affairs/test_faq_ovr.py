"""The FAQ ranker's one-vs-rest SVMs split over worker processes (``civil_affairs.faq.ovr``): the
same ranking as one fit in this process, no processes for small fits, and a background refit that
uses them from the searcher's thread.

The questions are ``test_faq_ranker.QUESTIONS`` (written for the tests, not training phrasings).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.faq import ovr
from civil_affairs.faq.ranker import NONE_CLASS, Ranker, training_entry
from civil_affairs.faq.search import FaqSearcher
from civil_affairs.faq.store import import_records
from civil_affairs.setup_db import read_faq_seed
from tests.civil_affairs.test_faq_ranker import NEW_ENTRY, QUESTIONS

CATEGORIES = {"marriage", "benefits", "elderly"}


@pytest.fixture(scope="module")
def entries() -> list:
    return [training_entry(r) for r in read_faq_seed() if r["category"] in CATEGORIES]


def _best(ranker: Ranker, texts: list[str]) -> list[str]:
    margins = ranker.scores_many(texts)
    return [ranker.keys[int(np.argmax(row))] for row in margins]


def test_a_split_fit_ranks_as_the_fit_in_this_process(entries: list, monkeypatch: pytest.MonkeyPatch) -> None:
    """Liblinear's seeded example order runs on from class to class, so the split fit is not the
    same bits; its classifiers are the same up to the solver's tolerance, and so is the ranking."""
    here = Ranker.fit(entries, processes=1)
    monkeypatch.setattr(ovr, "PARALLEL_MIN_CELLS", 0)
    split = Ranker.fit(entries, processes=2)
    assert split.keys == here.keys and NONE_CLASS in split.keys
    assert split.facets is not None and here.facets is not None and split.facets.labels == here.facets.labels
    scale = float(np.abs(here.weights).max())
    assert float(np.abs(split.weights - here.weights).max()) < 0.05 * scale
    assert float(np.abs(split.facets.weights - here.facets.weights).max()) < 0.05 * scale
    texts = [p for e in entries for p in e.phrasings] + [q for q, _, _ in QUESTIONS]
    same = sum(a == b for a, b in zip(_best(split, texts), _best(here, texts), strict=True))
    assert same >= 0.995 * len(texts), (same, len(texts))
    # A chunk's classifier is its class against every other row: a class alone in this process gets
    # the same answer from a fit of the chunk as from a fit of all classes.
    for question, key, _ in QUESTIONS:
        if key in split.keys:
            assert _best(split, [question]) == _best(here, [question])


def test_a_small_fit_starts_no_process(entries: list, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests, patches and a handful of entries stay below the threshold: the sequential fit, bit
    for bit, and joblib is never asked for workers."""
    import joblib

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a small fit asked for worker processes")

    monkeypatch.setattr(joblib, "Parallel", no_pool)
    small = entries[:8]
    assert sum(len(e.phrasings) for e in small) * len(small) < ovr.PARALLEL_MIN_CELLS
    one, two = Ranker.fit(small, processes=1), Ranker.fit(small, processes=2)
    assert np.array_equal(one.weights, two.weights) and np.array_equal(one.bias, two.bias)


def test_one_process_or_two_classes_fit_here(monkeypatch: pytest.MonkeyPatch) -> None:
    import joblib

    monkeypatch.setattr(ovr, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(joblib, "Parallel", lambda *a, **k: pytest.fail("no pool wanted"))
    import scipy.sparse as sp

    x = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]]))
    params = {"C": 1.0, "random_state": 0}
    classes, weights, _ = ovr.one_vs_rest(x, ["a", "b", "a", "b"], params, processes=4)  # 2 classes
    assert classes == ["a", "b"] and weights.shape == (2, 2)
    classes, _, _ = ovr.one_vs_rest(x, ["a", "b", "c", "c"], params, processes=1)
    assert classes == ["a", "b", "c"]


def test_fits_sent_to_the_pool_together_are_each_the_fit_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entries' chunks and the (whole) programme and aspect fits share one pool call: a whole
    fit is, bit for bit, what ``one_vs_rest`` gives for that labelling on its own; the split fit's
    chunks are planned with the others, so it equals the fit in this process up to the tolerance."""
    import scipy.sparse as sp

    monkeypatch.setattr(ovr, "PARALLEL_MIN_CELLS", 0)
    rng = np.random.default_rng(0)
    x = sp.random(60, 40, density=0.2, format="csr", random_state=1, dtype=np.float32)
    entries = [f"e{n}" for n in rng.integers(0, 8, 60)]  # split: 8 classes over 2 processes
    facets = [["p", "q", "r"][n % 3] for n in range(60)]  # 3 classes: one chunk of one class, so whole
    params = {"C": 1.0, "tol": 1e-6, "max_iter": 100_000, "random_state": 0}
    together = ovr.one_vs_rest_many(x, [entries, facets], params, processes=2)
    alone = ovr.one_vs_rest(x, facets, params, processes=2)
    assert together[1][0] == alone[0]
    assert np.array_equal(together[1][1], alone[1]) and np.array_equal(together[1][2], alone[2])
    here = ovr.one_vs_rest(x, entries, params, processes=1)
    assert together[0][0] == here[0]
    assert np.allclose(together[0][1], here[1], atol=1e-3) and np.allclose(together[0][2], here[2], atol=1e-3)


def test_the_plan_gives_the_workers_shares_of_about_the_same_cost() -> None:
    """500 entries of about 59 rows, a programme fit of 51 classes and an aspect fit of 10 (the
    bench's shapes): each split class goes to exactly one worker, each whole fit to one, and the
    shares' estimated costs differ by less than one entry's class."""
    rows = 29_565
    entries = {f"e{n:03d}": 50 + n % 20 for n in range(500)}
    programmes = {f"p{n:02d}": rows // 51 for n in range(51)}
    aspects = {f"a{n}": rows // 10 for n in range(10)}
    counts = [entries, programmes, aspects]
    plan = ovr._plan(counts, rows, processes=2)
    assert plan is not None and len(plan) == 2
    dealt = [name for jobs in plan for n, chunk in jobs if n == 0 for name in chunk or []]
    assert sorted(dealt) == sorted(entries)
    assert sorted(n for jobs in plan for n, chunk in jobs if chunk is None) == [1, 2]

    def cost(jobs: list) -> float:
        total = 0.0
        for n, chunk in jobs:
            names = chunk if chunk is not None else list(counts[n])
            total += sum(ovr._cost(rows, counts[n][name]) for name in names)
            if chunk is not None:
                total += ovr._cost(rows, rows - sum(counts[n][name] for name in chunk))
        return total

    assert abs(cost(plan[0]) - cost(plan[1])) < 2 * ovr._cost(rows, 70)
    assert ovr._plan([{"a": 5, "b": 5, "c": 5}], 15, processes=2) is None  # nothing worth splitting


def test_a_background_refit_splits_its_fit_from_the_searchers_thread(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ovr, "PARALLEL_MIN_CELLS", 0)
    factory = make_session_factory(make_engine(fresh_database_url))
    searcher = FaqSearcher(background=True, watch_interval=None, fit_processes=2)
    with factory.begin() as session:
        searcher.search(session, "低保怎么申请")
    fits = searcher.refits
    with factory.begin() as session:
        import_records([NEW_ENTRY], session=session)
    with factory.begin() as session:
        assert searcher.search(session, "养的狗要去哪里登记办证").best.key == "test-pet-licence"  # patched
    assert searcher.wait_for_refit(timeout=120)
    assert searcher.refits == fits + 1
    assert searcher._state is not None and "test-pet-licence" in searcher._state.ranker.fingerprints
    with factory.begin() as session:
        assert searcher.search(session, "养的狗要去哪里登记办证").best.key == "test-pet-licence"


EXIT_DURING_A_REFIT = textwrap.dedent(
    """
    import os, sys, threading, time
    from civil_affairs.faq import ovr
    from civil_affairs.faq.ranker import Ranker, training_entry
    from civil_affairs.setup_db import read_faq_seed
    from joblib.externals.loky import reusable_executor

    ovr.PARALLEL_MIN_CELLS = 0
    entries = [training_entry(r) for r in read_faq_seed()]
    threading.Thread(target=Ranker.fit, args=(entries,), kwargs={"processes": 2}, daemon=True).start()
    deadline = time.monotonic() + 600  # the features come first: slow on a busy machine
    while time.monotonic() < deadline:  # until the workers are fitting
        pool = reusable_executor._executor
        workers = list(pool._processes) if pool is not None else []
        if workers:
            break
        time.sleep(0.1)
    time.sleep(1.0)
    print(time.time(), " ".join(str(pid) for pid in workers), flush=True)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_exiting_during_a_refit_is_not_held_up_and_leaves_no_worker() -> None:
    """The refit thread is a daemon: a process that ends while it fits (the launcher stopping the
    action server) must exit promptly and take the pool's workers with it."""
    done = subprocess.run(
        [sys.executable, "-c", EXIT_DURING_A_REFIT], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    printed_at, *pids = done.stdout.split()
    assert time.time() - float(printed_at) < 30  # not held up until the fit ends
    workers = [int(pid) for pid in pids]
    assert workers, done.stderr[-2000:]
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if _alive(pid)]
