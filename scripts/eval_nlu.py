"""`make eval-nlu`: 5-fold cross-validation of the project's NLU data with the project's pipeline.

Prints intent macro F1 (target ≥ 0.93, every intent ≥ 0.90), the weakest intents, the most frequent
confusions and entity F1 per extractor, using Rasa's own evaluation (rasa.nlu.test). It runs Rasa's
cross-validation loop in-process with two differences from `rasa test nlu --cross-validation`:
the folds are seeded (`--seed`), so two runs on the same data give the same figure and a change
can be judged by its effect rather than by the luck of the split (`--seeds 0,1,2` runs one
cross-validation per seed and prints each intent's mean and minimum F1 across them, so a change
is judged on more than one split); and the training folds are not
scored a second time (Rasa parses every training example again for "train" metrics nobody reads),
which kept the old command at 16 minutes on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_INTENT_MACRO_F1 = 0.93
TARGET_EACH_INTENT_F1 = 0.90


async def fold_results(config: Path, data_dir: Path, folds: int, seed: int) -> tuple[list[Any], list[Any]]:
    """Train on each fold's rest, parse the fold; returns Rasa's per-example intent results (target,
    prediction, text, confidence) and entity results of every fold."""
    import rasa.model_training
    from rasa.core.agent import Agent
    from rasa.nlu.test import get_eval_data
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    # Every YAML file of nlu/ (the folder also holds the jieba dictionary, which is no training data).
    data = TrainingData().merge(*(load_data(str(path)) for path in sorted(data_dir.glob("*.yml"))))
    examples = data.intent_examples
    labels = [example.get_full_intent() for example in examples]
    intent_results, entity_results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (train_index, test_index) in enumerate(
            StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(examples, labels), 1
        ):
            started = time.monotonic()
            train = TrainingData(
                training_examples=[examples[i] for i in train_index],
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
            )
            test = TrainingData(
                training_examples=[examples[i] for i in test_index],
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
            )
            train_file = Path(tmp) / f"fold{number}.yml"
            RasaYAMLWriter().dump(train_file, train)
            model = rasa.model_training.train_nlu(str(config), str(train_file), str(Path(tmp) / f"model{number}"))
            processor = Agent.load(model).processor
            intents, _, entities = await get_eval_data(processor, test)
            intent_results += intents
            entity_results += entities
            print(f"  fold {number}/{folds}: {time.monotonic() - started:.0f} s", flush=True)
    return intent_results, entity_results


async def cross_validate(config: Path, data_dir: Path, folds: int, seed: int, out: Path) -> tuple[dict, dict]:
    """Cross-validate (``fold_results``); returns Rasa's intent and entity evaluations."""
    from rasa.nlu.test import _get_active_entity_extractors, evaluate_entities, evaluate_intents

    intent_results, entity_results = await fold_results(config, data_dir, folds, seed)
    out.mkdir(parents=True, exist_ok=True)
    intent = evaluate_intents(intent_results, str(out), False, True, True, report_as_dict=True)
    entity = evaluate_entities(
        entity_results, _get_active_entity_extractors(entity_results), str(out), False, False, True, report_as_dict=True
    )
    confusions = Counter(
        (r.intent_target, r.intent_prediction) for r in intent_results if r.intent_target != r.intent_prediction
    )
    (out / "confusions.json").write_text(
        json.dumps(
            [{"true": t, "predicted": p, "count": n} for (t, p), n in confusions.most_common()],
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return intent, entity


def per_intent_f1(report: dict) -> dict[str, float]:
    """F1 of each intent in a Rasa intent report (without the averages)."""
    return {
        name: values["f1-score"]
        for name, values in report.items()
        if isinstance(values, dict) and name not in ("macro avg", "weighted avg", "micro avg")
    }


def parse_seeds(text: str) -> list[int]:
    """``0,1,2`` or ``0-4`` (or a mix: ``0-2,7``) as a list of seeds, in order, without repeats."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        for seed in range(int(first), int(last or first) + 1):
            if seed not in seeds:
                seeds.append(seed)
    if not seeds:
        raise argparse.ArgumentTypeError(f"no seed in {text!r}")
    return seeds


def across_seeds(runs: dict[int, dict[str, float]]) -> list[tuple[str, float, float]]:
    """(intent, mean F1, min F1) over the seeds' runs, weakest minimum first."""
    names = sorted({name for f1 in runs.values() for name in f1})
    rows = []
    for name in names:
        values = [f1.get(name, 0.0) for f1 in runs.values()]
        rows.append((name, sum(values) / len(values), min(values)))
    return sorted(rows, key=lambda row: (row[2], row[1], row[0]))


def run_seed(args: argparse.Namespace, seed: int, out: Path) -> tuple[float, dict[str, float]]:
    """Cross-validate with one seed's folds, print its summary; returns macro F1 and per-intent F1."""
    started = time.monotonic()
    intent, entity = asyncio.run(cross_validate(args.config, ROOT / "nlu", args.folds, seed, out))
    seconds = time.monotonic() - started
    report = intent["report"]
    macro = report["macro avg"]["f1-score"]
    f1 = per_intent_f1(report)
    per_intent = sorted(f1.items(), key=lambda item: item[1])
    print(f"\nNLU {args.folds}-fold cross-validation, seed {seed} ({seconds:.0f} s; reports in {out})")
    print(f"  intent macro F1 : {macro:.4f}  (target ≥ {TARGET_INTENT_MACRO_F1})")
    print(f"  intent accuracy : {report.get('accuracy', 0):.4f}")
    for extractor, result in entity.items():
        entity_report = result.get("report") or {}
        label = "micro avg" if "micro avg" in entity_report else "weighted avg"
        if label in entity_report:
            print(f"  entity F1 ({extractor}, {label}) : {entity_report[label]['f1-score']:.4f}")
    print("  weakest intents : " + ", ".join(f"{name} {value:.3f}" for name, value in per_intent[:6]))
    confusions = json.loads((out / "confusions.json").read_text(encoding="utf-8"))[:8]
    print("  top confusions  : " + ", ".join(f"{c['true']}→{c['predicted']} {c['count']}" for c in confusions))
    below = [name for name, value in per_intent if value < TARGET_EACH_INTENT_F1]
    if macro < TARGET_INTENT_MACRO_F1 or below:
        print(
            f"  NOTE: below target (macro {TARGET_INTENT_MACRO_F1}, each intent {TARGET_EACH_INTENT_F1}): "
            + (", ".join(below) or "macro only")
        )
    return macro, f1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the fold split")
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=None,
        help="several fold seeds (0,1,2 or 0-4): one cross-validation each, then per-intent F1 mean and "
        "minimum across them (reports in <out>/seed<N>); overrides --seed",
    )
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "nlu-cv")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(ROOT)  # custom components (nlu_components/) are imported from the project root
    sys.path.insert(0, str(ROOT))
    logging.basicConfig(level=logging.WARNING)
    if not args.seeds:
        run_seed(args, args.seed, args.out)
        return 0
    macros: dict[int, float] = {}
    runs: dict[int, dict[str, float]] = {}
    for seed in args.seeds:
        macros[seed], runs[seed] = run_seed(args, seed, args.out / f"seed{seed}")
    mean_macro = sum(macros.values()) / len(macros)
    print(f"\nAcross seeds {','.join(map(str, args.seeds))}:")
    print(
        "  intent macro F1 : "
        + ", ".join(f"seed {seed} {value:.4f}" for seed, value in macros.items())
        + f"; mean {mean_macro:.4f}, min {min(macros.values()):.4f}"
    )
    print("  per intent (mean / min F1, weakest minimum first):")
    rows = across_seeds(runs)
    for name, mean, low in rows:
        flag = "  < target" if low < TARGET_EACH_INTENT_F1 else ""
        print(f"    {name:<28} {mean:.3f} / {low:.3f}{flag}")
    below = [name for name, _, low in rows if low < TARGET_EACH_INTENT_F1]
    if min(macros.values()) < TARGET_INTENT_MACRO_F1 or below:
        print(
            f"  NOTE: below target on some seed (macro {TARGET_INTENT_MACRO_F1}, each intent "
            f"{TARGET_EACH_INTENT_F1}): " + (", ".join(below) or "macro only")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
