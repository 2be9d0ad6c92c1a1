"""`make eval-nlu`: 5-fold cross-validation of the project's NLU data with the project's pipeline.

Prints intent macro F1 (target ≥ 0.93) and entity F1 per extractor, from Rasa's own reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_INTENT_MACRO_F1 = 0.93


def run_cross_validation(out: Path, folds: int) -> float:
    """Run `rasa test nlu --cross-validation`; returns the wall time in seconds."""
    started = time.monotonic()
    subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--nlu", "nlu",
         "--config", "config.yml", "--cross-validation", "--folds", str(folds),
         "--out", str(out), "--no-plot"],
        cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, check=True,
    )
    return time.monotonic() - started


def read_reports(out: Path) -> tuple[dict, dict[str, dict]]:
    """The intent report and the entity report of each extractor."""
    intent = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    entities = {
        path.name.removesuffix("_report.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(out.glob("*_report.json"))
        if path.name not in ("intent_report.json", "response_selection_report.json")
    }
    return intent, entities


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "nlu-cv")
    args = parser.parse_args()
    seconds = run_cross_validation(args.out, args.folds)
    intent, entities = read_reports(args.out)
    macro = intent["macro avg"]["f1-score"]
    print(f"\nNLU {args.folds}-fold cross-validation ({seconds:.0f} s; reports in {args.out})")
    print(f"  intent macro F1 : {macro:.4f}  (target ≥ {TARGET_INTENT_MACRO_F1})")
    print(f"  intent accuracy : {intent.get('accuracy', 0):.4f}")
    for extractor, report in entities.items():
        label = "micro avg" if "micro avg" in report else "weighted avg"
        print(f"  entity F1 ({extractor}, {label}) : {report[label]['f1-score']:.4f}")
    weakest = sorted(((k, v["f1-score"]) for k, v in intent.items() if isinstance(v, dict)
                      and k not in ("macro avg", "weighted avg", "micro avg")), key=lambda kv: kv[1])[:5]
    print("  weakest intents : " + ", ".join(f"{k} {f:.2f}" for k, f in weakest))
    if macro < TARGET_INTENT_MACRO_F1:
        print(f"  NOTE: intent macro F1 is below the target of {TARGET_INTENT_MACRO_F1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
