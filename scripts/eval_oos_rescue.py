"""What the out-of-scope rescue (``actions/out_of_scope.py``) answers, right and wrong.

The rescue lets the FAQ answer a message the model calls out of scope when the model's confidence is
under ``RESCUE_BELOW_CONFIDENCE`` and the FAQ, deciding strictly, would answer. Two measurements:

- **genuine out-of-scope messages**: the NLU data's ``out_of_scope`` examples, each parsed by a model
  that never saw it (k-fold, as ``make eval-nlu``); every one the rescue answers is a wrong answer;
- **policy questions the model calls out of scope**: the FAQ's ``variants`` (no NLU training data)
  parsed by the trained model; the FAQ ranker is refitted without those variants, and an answer is
  right when it is the variant's own entry.

    PYTHONPATH=. .venv/bin/python scripts/eval_oos_rescue.py [--folds 5] [--seed 0] [--model …]

About 10 minutes here (five NLU trainings, the ranker fitted twice).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rescued(ranker: object, text: str, confidence: float) -> str | None:
    """The entry the rescue would answer ``text`` with, or None (the out-of-scope reply)."""
    from actions.out_of_scope import RESCUE_BELOW_CONFIDENCE
    from civil_affairs.faq.decision import DEFAULT_CALIBRATION, decide
    from civil_affairs.faq.search import strict_calibration

    if confidence >= RESCUE_BELOW_CONFIDENCE:
        return None
    scores = ranker.scores(text)  # type: ignore[attr-defined]
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)[:6]  # as FaqSearcher.rank
    decision, keys, _ = decide(ranked, strict_calibration(DEFAULT_CALIBRATION))
    return keys[0] if decision == "answer" else None


async def parse_all(model: Path, texts: list[str]) -> list[tuple[str, float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    parsed = []
    for text in texts:
        intent = (await agent.parse_message(text))["intent"]
        parsed.append((str(intent["name"]), float(intent["confidence"])))
    return parsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", type=Path, default=None, help="trained model (default: the current data's)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(ROOT)  # the custom intent classifier (nlu_components/) is imported from the project root
    sys.path.insert(0, str(ROOT))
    logging.disable(logging.INFO)
    from civil_affairs.config import Settings
    from civil_affairs.faq.ranker import Ranker, training_entry
    from civil_affairs.rasa_model import ensure_model
    from civil_affairs.setup_db import read_faq_seed
    from scripts.eval_nlu import fold_results

    results, _ = asyncio.run(fold_results(ROOT / "config.yml", ROOT / "nlu", args.folds, args.seed))
    genuine = [r for r in results if r.intent_target == "out_of_scope"]
    still = [r for r in genuine if r.intent_prediction == "out_of_scope"]

    records = read_faq_seed()
    variants = [(str(text), r["key"]) for r in records for text in r.get("variants") or []]
    model = args.model or ensure_model(Settings.from_env().model_dir)
    parsed = asyncio.run(parse_all(model, [text for text, _ in variants]))
    pairs = zip(variants, parsed, strict=True)
    called = [(text, key, conf) for (text, key), (intent, conf) in pairs if intent == "out_of_scope"]

    entries = [training_entry(r) for r in records]
    ranker = Ranker.fit(entries, keep_training_data=False)
    wrongly = [(r.message, key) for r in still if (key := rescued(ranker, r.message, r.confidence))]
    held_out = {text for text, _, _ in called}
    without = [replace(e, phrasings=tuple(p for p in e.phrasings if p not in held_out)) for e in entries]
    ranker = Ranker.fit(without, keep_training_data=False)
    outcomes = [(text, key, rescued(ranker, text, conf)) for text, key, conf in called]
    right = sum(answer == key for _, key, answer in outcomes)
    wrong = sum(answer is not None and answer != key for _, key, answer in outcomes)

    print(f"\nout-of-scope examples of the NLU data ({len(genuine)}), {args.folds}-fold seed {args.seed}:")
    print(f"  still called out of scope {len(still)}; answered by the rescue (wrong answers) {len(wrongly)}")
    for text, key in wrongly:
        print(f"    {text}  → {key}")
    print(f"FAQ variants the model {model.name} calls out of scope: {len(called)} of {len(variants)}")
    print(f"  answered by the rescue: right {right}, wrong {wrong}; left out of scope {len(called) - right - wrong}")
    for text, key, answer in outcomes:
        if answer is not None and answer != key:
            print(f"    {text}  → {answer} (is {key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
