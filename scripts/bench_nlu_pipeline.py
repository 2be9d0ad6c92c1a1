#!/usr/bin/env python
"""Benchmark Rasa NLU pipelines for Chinese intent classification.

Why this exists: on the project's 2-core machines, Rasa's default DIET pipeline needs about
18 minutes to train on ~2,300 short Chinese examples (see "Measured on these 2-core machines" in
DESIGN.md). The NLU pipeline therefore has to be picked by accuracy *and* training time. This
script makes that choice repeatable. It measures each candidate config on a public benchmark,
SMP2017-ECDT task 1 (31 intent classes, 2,299 train / 667 test rows), not on the project's own
data. Per pipeline it reports training wall time, test accuracy, macro-F1 and parse latency.

How it works:

1. It converts the benchmark's train split (a JSON list of {"text", "intent"}) to Rasa NLU YAML in
   a temporary directory.
2. Each pipeline runs in its own child process (a fresh TensorFlow state, a private Rasa training
   cache so no run reuses another's featurisation, and a hard timeout). The child trains an
   NLU-only model with ``rasa.model_training.train_nlu`` into the temporary directory, loads it
   with ``rasa.core.agent.Agent.load``, and parses every test message one at a time with
   ``await agent.parse_message(text)``.
3. The parent prints a table and can also write the raw figures as JSON.

Nothing is written into the checkout except an optional ``--json-out`` file. Telemetry is
switched off, and nothing is downloaded (jieba's dictionary ships with the package).

Example::

    .venv/bin/python scripts/bench_nlu_pipeline.py                       # all bench/pipelines/*.yml
    .venv/bin/python scripts/bench_nlu_pipeline.py bench/pipelines/b_logreg.yml --timeout 300
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = Path("/work/shared/benchmarks/smp2017-ecdt-task1")
DEFAULT_PIPELINE_DIR = REPO_ROOT / "bench" / "pipelines"

# Rasa's YAML reader treats `[text](entity)`, `[text]{...}` and `[text][...]` as entity markup,
# and Agent.parse_message treats a leading "/" as an intent payload. Such texts would be misread.
_ENTITY_MARKUP = re.compile(r"\[[^\]]+\](\(|\{|\[)")

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RASA_TELEMETRY_ENABLED": "false",
    "PYTHONWARNINGS": "ignore",
    "PYTHONHASHSEED": "0",
}


def load_split(path: Path) -> list[dict[str, str]]:
    """Load a JSON list of {"text", "intent"} rows and reject texts Rasa would misread."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    for row in rows:
        text = row["text"]
        if not text or text != text.strip() or "\n" in text:
            raise ValueError(f"{path}: empty, padded or multi-line text: {text!r}")
        if _ENTITY_MARKUP.search(text) or text.startswith("/"):
            raise ValueError(f"{path}: text would be parsed as Rasa markup: {text!r}")
    return rows


def write_nlu_yaml(rows: Sequence[dict[str, str]], path: Path) -> None:
    """Write rows as Rasa 3.x NLU YAML, one block per intent, keeping the original order."""
    by_intent: dict[str, list[str]] = {}
    for row in rows:
        by_intent.setdefault(row["intent"], []).append(row["text"])
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in texts)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- child process


def run_worker(
    config: Path, nlu_yaml: Path, train_json: Path, test_json: Path, out_dir: Path, result_path: Path
) -> None:
    """Train, load and evaluate one pipeline; write the figures to result_path as JSON."""
    import asyncio
    import logging

    logging.disable(logging.WARNING)
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.loading import load_data

    # Check that the YAML round-trips to exactly the benchmark's training rows.
    expected = sorted((r["text"], r["intent"]) for r in load_split(train_json))
    loaded = sorted((m.get("text"), m.get("intent")) for m in load_data(str(nlu_yaml)).intent_examples)
    if loaded != expected:
        raise RuntimeError(f"{nlu_yaml} does not round-trip: {len(loaded)} vs {len(expected)} rows")

    load_before = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    model_path = train_nlu(str(config), str(nlu_yaml), str(out_dir), fixed_model_name=config.stem)
    train_seconds = time.perf_counter() - start
    # CPU seconds of all threads: unlike wall time, barely affected by other load on the host.
    train_cpu_seconds = time.process_time() - cpu_start
    load_after = os.getloadavg()[0]
    if not model_path:
        raise RuntimeError("train_nlu returned no model")

    from rasa.core.agent import Agent
    from sklearn.metrics import accuracy_score, f1_score

    start = time.perf_counter()
    agent = Agent.load(model_path)
    load_seconds = time.perf_counter() - start

    test_rows = load_split(test_json)

    async def predict() -> tuple[list[str], list[float]]:
        await agent.parse_message(expected[0][0])  # warm-up, not timed
        predictions: list[str] = []
        latencies: list[float] = []
        for row in test_rows:
            t0 = time.perf_counter()
            parsed = await agent.parse_message(row["text"])
            latencies.append((time.perf_counter() - t0) * 1000.0)
            predictions.append((parsed.get("intent") or {}).get("name") or "")
        return predictions, latencies

    predictions, latencies = asyncio.run(predict())
    gold = [row["intent"] for row in test_rows]
    latencies_sorted = sorted(latencies)
    result = {
        "pipeline": config.stem,
        "config": str(config),
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        # 1-minute load average before/after training; > ~2 on 2 cores means contention.
        "loadavg_1m": [round(load_before, 1), round(load_after, 1)],
        "load_seconds": round(load_seconds, 1),
        "accuracy": accuracy_score(gold, predictions),
        "macro_f1": f1_score(gold, predictions, average="macro", zero_division=0),
        "weighted_f1": f1_score(gold, predictions, average="weighted", zero_division=0),
        "latency_ms_mean": statistics.fmean(latencies),
        "latency_ms_p50": statistics.median(latencies),
        "latency_ms_p95": latencies_sorted[int(0.95 * (len(latencies_sorted) - 1))],
        "model_bytes": Path(model_path).stat().st_size,
        "n_test": len(test_rows),
    }
    result_path.write_text(json.dumps(result), encoding="utf-8")


# --------------------------------------------------------------------------- parent process


def bench_one(
    config: Path, nlu_yaml: Path, train_json: Path, test_json: Path, work: Path, timeout: float
) -> dict[str, Any]:
    """Run one pipeline in a child process; return its figures or an error entry."""
    run_dir = work / config.stem
    run_dir.mkdir(parents=True, exist_ok=True)
    result_path = run_dir / "result.json"
    log_path = run_dir / "worker.log"
    env = {**os.environ, **QUIET_ENV, "RASA_CACHE_DIRECTORY": str(run_dir / "cache")}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--worker-config",
        str(config.resolve()),
        "--worker-nlu",
        str(nlu_yaml),
        "--worker-out",
        str(run_dir / "models"),
        "--worker-result",
        str(result_path),
        "--train",
        str(train_json),
        "--test",
        str(test_json),
    ]
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.run(cmd, cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            returncode = None
    wall = time.perf_counter() - start
    if returncode == 0 and result_path.exists():
        result = json.loads(result_path.read_text(encoding="utf-8"))
        result["process_seconds"] = round(wall, 1)
        return result
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
    reason = f"timeout after {timeout:.0f}s" if returncode is None else f"exit code {returncode}"
    print(f"[{config.stem}] FAILED ({reason}); log tail:\n  " + "\n  ".join(tail), file=sys.stderr)
    return {"pipeline": config.stem, "config": str(config), "error": reason, "process_seconds": round(wall, 1)}


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """Render the results as a Markdown table."""
    header = (
        "| pipeline | train s (wall) | train CPU s | accuracy | macro-F1 | weighted-F1 "
        "| parse ms mean / p50 / p95 | load s | loadavg before/after |"
    )
    lines = [header, "|" + "---|" * 9]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['pipeline']} | FAILED: {r['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['pipeline']} | {r['train_seconds']:.0f} | {r['train_cpu_seconds']:.0f} "
            f"| {r['accuracy']:.3f} "
            f"| {r['macro_f1']:.3f} | {r['weighted_f1']:.3f} "
            f"| {r['latency_ms_mean']:.1f} / {r['latency_ms_p50']:.1f} / "
            f"{r['latency_ms_p95']:.1f} | {r['load_seconds']:.1f} "
            f"| {r['loadavg_1m'][0]:.1f} / {r['loadavg_1m'][1]:.1f} |"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train and score Rasa NLU pipelines on SMP2017-ECDT task 1 (Chinese intents)."
    )
    parser.add_argument(
        "pipelines", nargs="*", type=Path, help="Rasa config YAML files (default: bench/pipelines/*.yml, sorted)"
    )
    parser.add_argument(
        "--train", type=Path, default=DEFAULT_DATA_DIR / "train.json", help="train split, JSON list of {text, intent}"
    )
    parser.add_argument(
        "--test", type=Path, default=DEFAULT_DATA_DIR / "test.json", help="test split, JSON list of {text, intent}"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds allowed per pipeline (train + load + predict); default 300",
    )
    parser.add_argument("--json-out", type=Path, default=None, help="also write the raw figures to this JSON file")
    parser.add_argument(
        "--keep-workdir", action="store_true", help="keep the temporary directory (models, logs) and print its path"
    )
    # Internal: used by the parent to run one pipeline in a child process.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-nlu", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        run_worker(args.worker_config, args.worker_nlu, args.train, args.test, args.worker_out, args.worker_result)
        return 0

    pipelines: list[Path] = args.pipelines or sorted(DEFAULT_PIPELINE_DIR.glob("*.yml"))
    if not pipelines:
        print(f"no pipeline configs given and none in {DEFAULT_PIPELINE_DIR}", file=sys.stderr)
        return 2
    train_rows = load_split(args.train)
    test_rows = load_split(args.test)
    print(
        f"train {len(train_rows)} rows / test {len(test_rows)} rows, "
        f"{len({r['intent'] for r in train_rows})} intents; {len(pipelines)} pipelines; "
        f"{os.cpu_count()} CPUs",
        file=sys.stderr,
    )

    work = Path(tempfile.mkdtemp(prefix="bench_nlu_"))
    nlu_yaml = work / "nlu.yml"
    write_nlu_yaml(train_rows, nlu_yaml)
    results: list[dict[str, Any]] = []
    try:
        for config in pipelines:
            print(f"[{config.stem}] training ...", file=sys.stderr, flush=True)
            result = bench_one(config, nlu_yaml, args.train.resolve(), args.test.resolve(), work, args.timeout)
            results.append(result)
            if "error" not in result:
                print(
                    f"[{config.stem}] train {result['train_seconds']:.0f}s, "
                    f"acc {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if args.keep_workdir:
            print(f"work dir kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(format_table(results))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
