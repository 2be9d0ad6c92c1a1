"""Policy questions handed to staff, and complaints that are not: both sides of action_handoff.

A message the NLU model calls ``request_human`` or ``complain`` goes to ``action_handoff``
(dialogue/rules.yml), which gives it to staff unless it is a ``complain`` that asks how or where
to report, or asks a question without anger or a wish for a person, and the FAQ answers
confidently (answered, with a person on a button), or a ``complain`` without complaint words
(``sounds_like_complaint``; answered from the FAQ, or offered choices — but when the FAQ cannot
even guess the question, or when it only guesses in a message that asks nothing, staff). This
script reproduces that decision for:

* every ``variants`` text of ``seed/faq/*.yml`` (a policy question an entry answers): the share
  handed to staff should be small; they are listed by FAQ category with the words that made the
  gate call them complaints;
* ``tests/data/staff_messages.yml``: complaints and wishes for a person written for this
  measurement and never trained on (the gate words of 2026-12-02 were chosen on it, so
  ``--staff tests/data/staff_messages_check.yml`` is the fair check): the share that would *not*
  reach staff should be small.

The FAQ's confidence on those two paths is judged, with the strict thresholds
``answer_if_confident(strict=True)`` uses, by rankers fitted without the texts judged (a variant is
otherwise in its own entry's training data): five folds of them, each fitted without one.

    PYTHONPATH=. .venv/bin/python scripts/faq_staff_share.py [--model models/….tar.gz] [--show 60]
        [--staff tests/data/staff_messages_check.yml] [--cache /tmp/intents.json]

``tests/data/staff_messages_check.yml`` is a second such set, written after the gate words of
2026-12-02 were chosen on the first, to check they were not fitted to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STAFF_MESSAGES = ROOT / "tests" / "data" / "staff_messages.yml"
HANDOFF_INTENTS = ("complain", "request_human")
FOLDS = 5  # the FAQ-dependent texts are ranked by models fitted without their fifth

# Where action_handoff (or the rules before it) sends a message.
STAFF = "staff"
REPORT_ANSWERED = "answered+person"  # how-to-report question answered, a person offered on a button
QUESTION_ANSWERED = "question+person"  # a grievance-worded policy question answered, a person offered
FAQ = "faq"  # complain without complaint words: action_answer_faq
OTHER = "other intent"  # never reaches action_handoff


def complaint_words(text: str) -> list[str]:
    """The words that make ``sounds_like_complaint`` true (an official complained of shows as
    ``official:<word>``)."""
    from civil_affairs.conversations.emergency import (
        COMPLAINT_RE,
        OFFICIAL_RE,
        _asks_a_not_a,
        complains_of_official,
    )
    from civil_affairs.text import fold_dialect

    folded = fold_dialect(text)
    words = [m.group(0) for m in COMPLAINT_RE.finditer(folded) if not _asks_a_not_a(folded, m.start())]
    if complains_of_official(folded):
        words += [f"official:{m.group(0)}" for m in OFFICIAL_RE.finditer(folded)]
    return words


def route(intent: str, text: str, faq_answers: bool, decision: str = "answer", what_if: str = "") -> str:
    """action_handoff's decision for ``text`` parsed as ``intent``; ``faq_answers``: the FAQ
    answers it confidently (strict thresholds); ``decision``: the FAQ's with the usual ones ("asked"
    when it asks back about a programme named alone);
    ``what_if`` "unanswered" (not what action_handoff does): a ``complain`` without complaint words
    goes to staff whenever the FAQ does not answer it, not only when it does not know it."""
    from civil_affairs.conversations.emergency import (
        asks_how_to_report,
        asks_policy_question,
        sounds_like_complaint,
        tells_without_asking,
    )

    if intent == "request_human":
        return STAFF
    if intent != "complain":
        return OTHER
    if asks_how_to_report(text) and faq_answers:
        return REPORT_ANSWERED
    complaint = sounds_like_complaint(text)
    if complaint and asks_policy_question(text) and faq_answers:
        return QUESTION_ANSWERED
    if not complaint:
        if decision == "unknown" or (what_if == "unanswered" and decision != "answer"):
            return STAFF + "(no words)"
        if decision == "disambiguate" and tells_without_asking(text):  # choices are no reply to a story
            return STAFF + "(told)"
        return FAQ
    return STAFF


def faq_dependent_texts(parsed: Iterable[tuple[str, str]]) -> set[str]:
    """Texts whose route depends on the FAQ's confidence: a ``complain`` asking how to report, or
    asking a question with complaint words."""
    from civil_affairs.conversations.emergency import asks_how_to_report, asks_policy_question, sounds_like_complaint

    return {
        text
        for text, intent in parsed
        if intent == "complain"
        and (asks_how_to_report(text) or (sounds_like_complaint(text) and asks_policy_question(text)))
    }


def faq_decisions(records: list[dict], texts: set[str], folds: int = FOLDS) -> dict[str, tuple[bool, str]]:
    """Whether the FAQ answers each text with the strict thresholds (or asks back about a programme
    it names, which ``answer_if_confident`` also counts), ranked by a model fitted without it: the
    texts are split into ``folds``, each ranked by a model fitted without its fold (fitting without
    them all would take most phrasings of the how-to-report entries away at once)."""
    from civil_affairs.faq.decision import DEFAULT_CALIBRATION
    from civil_affairs.faq.message import decide_message
    from civil_affairs.faq.programmes import ProgrammeNames
    from civil_affairs.faq.ranker import Ranker, training_entry
    from civil_affairs.faq.search import strict_calibration

    programmes = ProgrammeNames.of((r["key"], r["question"], r["category"]) for r in records)
    strict = strict_calibration(DEFAULT_CALIBRATION)
    ordered = sorted(texts)
    answers = {}
    for fold in range(folds):
        held = set(ordered[fold::folds])
        if not held:
            continue
        kept = [{**r, "variants": [v for v in r.get("variants") or [] if str(v) not in held]} for r in records]
        ranker = Ranker.fit([training_entry(r) for r in kept], keep_training_data=False)

        def ranked(text: str, ranker: Ranker = ranker) -> list[tuple[str, float]]:
            return sorted(ranker.scores(text, None).items(), key=lambda item: item[1], reverse=True)

        for text in held:
            ranking = ranked(text)
            decided = decide_message(text, ranking, strict, programmes, ranked)
            usual = decide_message(text, ranking, DEFAULT_CALIBRATION, programmes, ranked)
            answers[text] = (
                decided.decision == "answer" or (decided.asked is not None and bool(decided.keys)),
                usual.decision if usual.asked is None else "asked",  # a programme named alone: asked back
            )
    return answers


async def parse_all(model: Path, texts: list[str]) -> list[str]:
    """The intent of every text."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's structured log prints every parse otherwise
    agent = Agent.load(str(model))
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def cached_intents(model: Path, texts: list[str], cache: Path | None) -> list[str]:
    """``parse_all``, read from ``cache`` when it holds this model's intents (reruns after a change
    to the gate alone need no parse)."""
    stored = json.loads(cache.read_text("utf-8")) if cache and cache.is_file() else {}
    known = stored.get("intents", {}) if stored.get("model") == str(model) else {}
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        known.update(zip(missing, asyncio.run(parse_all(model, missing)), strict=True))
        if cache:
            cache.write_text(json.dumps({"model": str(model), "intents": known}, ensure_ascii=False), "utf-8")
    return [known[t] for t in texts]


def staff_reason(intent: str, text: str) -> str:
    """Why a message that reaches staff does (for the listing)."""
    from civil_affairs.conversations.emergency import HOW_TO_REPORT_RE, asks_how_to_report, asks_policy_question
    from civil_affairs.text import fold_dialect

    if intent == "request_human":
        return "request_human"
    if asks_how_to_report(text) or asks_policy_question(text):
        return "question-faq-unsure"
    if HOW_TO_REPORT_RE.search(fold_dialect(text)):
        return "report?-grievance"
    return "complaint-words"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="trained model (default: the current data's)")
    parser.add_argument("--show", type=int, default=60, help="policy questions handed to staff to list")
    parser.add_argument("--staff", type=Path, default=STAFF_MESSAGES, help="complaints and wishes for a person")
    parser.add_argument(
        "--what-if",
        choices=("", "unanswered"),
        default="",
        help="measure a complain without complaint words going to staff whenever the FAQ does not answer it",
    )
    parser.add_argument("--cache", type=Path, default=None, help="JSON file keeping the model's intents between runs")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(ROOT)  # the custom intent classifier (nlu_components/) is imported from the project root
    sys.path.insert(0, str(ROOT))
    logging.disable(logging.INFO)  # Rasa logs every parse
    from civil_affairs.setup_db import read_faq_seed

    model = args.model
    if model is None:
        from civil_affairs.config import Settings
        from civil_affairs.rasa_model import ensure_model

        model = ensure_model(Settings.from_env().model_dir)
    records = read_faq_seed()
    policy = [(str(t), r["category"], r["key"]) for r in records for t in r.get("variants") or []]
    staff = [(str(m["text"]), str(m["kind"])) for m in yaml.safe_load(args.staff.read_text("utf-8"))["messages"]]
    texts = [t for t, _, _ in policy] + [t for t, _ in staff]
    intents = cached_intents(model, texts, args.cache)
    answers = faq_decisions(records, {t for t, i in zip(texts, intents, strict=True) if i == "complain"})
    routes = [
        route(i, t, *answers.get(t, (False, "answer")), args.what_if) for t, i in zip(texts, intents, strict=True)
    ]
    policy_routes, staff_routes = routes[: len(policy)], routes[len(policy) :]
    policy_intents, staff_intents = intents[: len(policy)], intents[len(policy) :]

    print(f"model {model}")
    to_staff = [(p, i) for p, i, r in zip(policy, policy_intents, policy_routes, strict=True) if r.startswith(STAFF)]
    handoff = sum(i in HANDOFF_INTENTS for i in policy_intents)
    print(
        f"{len(policy)} FAQ variants: handed to staff {len(to_staff) / len(policy):.2%} ({len(to_staff)}); "
        f"complain/request_human {handoff}; routes "
        + ", ".join(f"{name} {n}" for name, n in Counter(r for r in policy_routes if r != OTHER).most_common())
    )
    by_category: dict[str, list[tuple[tuple[str, str, str], str]]] = defaultdict(list)
    for item, intent in to_staff:
        by_category[item[1]].append((item, intent))
    print("  to staff by category: " + ", ".join(f"{c} {len(v)}" for c, v in sorted(by_category.items())))
    print(
        "  to staff by reason: "
        + ", ".join(f"{r} {n}" for r, n in Counter(staff_reason(i, p[0]) for p, i in to_staff).most_common())
    )
    shown = 0
    for category, rows in sorted(by_category.items()):
        for (text, _, key), intent in rows:
            if shown < args.show:
                reason = staff_reason(intent, text)
                words = "/".join(complaint_words(text)) or "-"
                print(f"    {category:<20} {reason:<19} {key:<28} {text}  <- {words}")
                shown += 1
    missed = [(s, i, r) for s, i, r in zip(staff, staff_intents, staff_routes, strict=True) if not r.startswith(STAFF)]
    print(
        f"{len(staff)} complaints / wishes for a person ({args.staff}): NOT to staff "
        f"{len(missed) / len(staff):.2%} ({len(missed)}; of them answered with a person on a button "
        f"{sum(r in (REPORT_ANSWERED, QUESTION_ANSWERED) for _, _, r in missed)}); intents "
        + ", ".join(f"{name} {n}" for name, n in Counter(staff_intents).most_common())
    )
    for (text, kind), intent, where in missed:
        print(f"    {kind:<10} {intent:<22} {where:<16} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
