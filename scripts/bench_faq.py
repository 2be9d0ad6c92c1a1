"""FAQ decision speed with 500 entries: fit time, edit patch time, and per-message p50/p95.

Synthesises 500 entries from the seed (each seed entry copied with its phrasings re-worded by a
different place and person, so the copies are distinct classes of realistic size), stores them in a
temporary SQLite database and times ``FaqSearcher.search`` (version check, ranking, decision) on
1,000 residents' phrasings. Fits use ``FAQ_FIT_PROCESSES`` worker processes, as the action server.

    PYTHONPATH=. .venv/bin/python scripts/bench_faq.py [--entries 500] [--messages 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.faq import features as faq_features
from civil_affairs.faq.search import FaqSearcher
from civil_affairs.faq.store import import_records
from civil_affairs.models.base import Base
from civil_affairs.setup_db import read_faq_seed

ROOT = Path(__file__).resolve().parent.parent

PLACES = [
    "洋口镇",
    "五都镇",
    "排山镇",
    "吴村镇",
    "横山镇",
    "下溪街道",
    "永丰街道",
    "大南镇",
    "壶峤镇",
    "枧底镇",
    "东阳乡",
    "毛林镇",
    "湖丰镇",
    "沙田镇",
    "丰溪街道",
    "杉溪镇",
]
PEOPLE = ["我爸", "我妈", "我奶奶", "我爷爷", "我舅舅", "我姑姑", "隔壁大叔", "我老婆", "我老公", "我儿子"]


def synthesise(count: int, seed: int = 0) -> list[dict]:
    """``count`` entries: the seed entries, then re-worded copies under new keys."""
    rng = random.Random(seed)
    base = read_faq_seed()
    records = []
    for n in range(count):
        source = base[n % len(base)]
        if n < len(base):
            records.append(source)
            continue
        place, person = rng.choice(PLACES), rng.choice(PEOPLE)

        def reword(text: str, place: str = place, person: str = person) -> str:
            return f"{place}{person}{text}" if rng.random() < 0.7 else f"{text} 在{place}"

        records.append(
            {
                **source,
                "key": f"{source['key']}-{n}",
                "question": reword(source["question"]),
                "alternatives": [reword(t) for t in source.get("alternatives") or []],
                "variants": [reword(t) for t in source.get("variants") or []],
                "near_misses": [],
            }
        )
    return records


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument(
        "--cold-refit",
        action="store_true",
        help="forget the first fit's kept analyses before the edit (the refit analyses every text afresh)",
    )
    args = parser.parse_args()
    records = synthesise(args.entries)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            import_records(records, session=session)
        processes = Settings.from_env().faq_fit_processes
        searcher = FaqSearcher(background=True, watch_interval=None, fit_processes=processes)
        started = time.perf_counter()
        with factory.begin() as session:
            searcher.search(session, "低保怎么申请")
        fit = time.perf_counter() - started
        examples = [(r["key"], v) for r in records for v in r.get("variants") or []]
        sample = random.Random(1).sample(examples, min(args.messages, len(examples)))
        # Residents' messages are new text: forget the analyses cached while fitting.
        for cached in (faq_features._words, faq_features._pinyin, faq_features.question_part):
            cached.cache_clear()
        timings, cpu = [], []
        with factory.begin() as session:
            for _, text in sample:
                begun, begun_cpu = time.perf_counter(), time.thread_time()
                searcher.search(session, text)
                timings.append((time.perf_counter() - begun) * 1000)
                cpu.append((time.thread_time() - begun_cpu) * 1000)
        # A staff edit: the next search patches the model (one entry), then refits in the background,
        # analysing only the texts the first fit had not seen (``features._STORE``) unless --cold-refit.
        if args.cold_refit:
            faq_features.forget_analyses()
        with factory.begin() as session:
            edited = dict(records[0], variants=[*records[0]["variants"], "新加的一种问法"])
            import_records([edited], session=session)
        begun = time.perf_counter()
        with factory.begin() as session:
            searcher.search(session, "新加的一种问法")
        patch = time.perf_counter() - begun
        begun = time.perf_counter()
        searcher.wait_for_refit(timeout=600)
        refit = time.perf_counter() - begun
        engine.dispose()
    print(f"{args.entries} entries, {sum(len(r.get('variants') or []) for r in records)} variants")
    print(f"first fit (features + SVM, {processes} fit processes) and first search: {fit:.1f} s")
    print(
        f"FAQ decision over {len(timings)} messages: p50 {percentile(timings, 0.5):.1f} ms, "
        f"p95 {percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms "
        f"(CPU time p50 {percentile(cpu, 0.5):.1f} ms, p95 {percentile(cpu, 0.95):.1f} ms)"
    )
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(
        f"first search after an edit (patch of one entry): {patch * 1000:.0f} ms; "
        f"background refit done {refit:.1f} s later"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
