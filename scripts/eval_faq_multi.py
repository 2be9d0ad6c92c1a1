"""Two questions in one message: cross-validation of the clause answers (``civil_affairs.faq.multi``).

The folds are ``make eval-faq``'s (``scripts/eval_faq.py`` ``cross_validate``, same seed). Each
fold's ranker, which never saw the fold's held-out texts, ranks:

1. synthetic two-question messages built only from the fold's held-out variants of two entries of
   different programmes, joined as "A，B", "A。B" or "A 还有 B": the share with both asks answered
   right, one answered right and no wrong answer, any wrong answer, and no answer, and the share
   whose two asks are each answered or offered as a choice, with the whole message's decision only
   and with the clause answers (``civil_affairs.faq.message.decide_message``, as the searcher);
2. the usual held-out items (single questions, and the near misses no entry answers): how many get
   an extra answer or two answers instead of choices, how many of those extra answers are wrong, how
   many right answers the clauses take away, and the confident-wrong share of policy questions.

Each ``--min-probability`` (the probability a clause needs, ``multi.EXTRA_PROBABILITY``), ``--gap``
(``multi.CLAUSE_GAP``) and ``--phantom-probability`` (``multi.PHANTOM_PROBABILITY``, or phantoms
kept) is measured; they are chosen here, never on evaluation sets. No NLU topic bonus (as ``make
eval-faq`` without ``--nlu``).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field

from civil_affairs.faq.decision import DEFAULT_CALIBRATION
from civil_affairs.faq.facets import programme_of
from civil_affairs.faq.message import MessageDecision, decide_message
from civil_affairs.faq.multi import CLAUSE_GAP, EXTRA_PROBABILITY, PHANTOM_PROBABILITY, asking_clauses
from civil_affairs.faq.programmes import ProgrammeNames
from civil_affairs.faq.ranker import NONE_CLASS, Ranker
from civil_affairs.setup_db import read_faq_seed
from scripts.eval_faq import RANKED_KEPT, Item, cross_validate, floats, items_of

JOINS = ("{a}，{b}", "{a}。{b}", "{a} 还有 {b}")
PAIRS_PER_FOLD = 400
THRESHOLDS = (0.9, 0.95)
PHANTOM_THRESHOLDS = (0.8, 0.9)

Ranked = list[tuple[str, float]]
# A clause's probability, its gap, and the phantom rule's probability (None: phantoms kept, as
# before the rule); None: the whole message's decision only.
Rule = tuple[float, float, float | None] | None


@dataclass
class Message:
    """A text, the entries it asks about, its ranking, and each asking clause's ranking."""

    text: str
    keys: frozenset[str]
    ranked: Ranked
    clauses: dict[str, Ranked]  # each asking clause's own ranking
    decided: dict[Rule, MessageDecision] = field(default_factory=dict)  # by rule, as the rules are swept


def ranking(ranker: Ranker, text: str) -> Ranked:
    scores = ranker.scores(text)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)[:RANKED_KEPT]


def message(ranker: Ranker, text: str, keys: frozenset[str], ranked: Ranked) -> Message:
    return Message(text, keys, ranked, {clause: ranking(ranker, clause) for clause in asking_clauses(text)})


def outcome(m: Message, names: ProgrammeNames, rule: Rule) -> MessageDecision:
    """The searcher's decision (``decide_message``; no follow-up context, no topic bonus): the whole
    message's only (``rule`` None) or with the clause answers at ``rule``."""
    if rule not in m.decided:
        m.decided[rule] = _outcome(m, names, rule)
    return m.decided[rule]


def _outcome(m: Message, names: ProgrammeNames, rule: Rule) -> MessageDecision:
    p, gap, phantom_probability = rule or (EXTRA_PROBABILITY, CLAUSE_GAP, PHANTOM_PROBABILITY)
    return decide_message(
        m.text,
        m.ranked,
        DEFAULT_CALIBRATION,
        names,
        m.clauses.__getitem__,
        min_probability=p,
        gap=gap,
        phantom_probability=phantom_probability,
        split_clauses=rule is not None,
    )


def answers(m: Message, names: ProgrammeNames, rule: Rule) -> list[str]:
    """The entries answered, the first one first."""
    return outcome(m, names, rule).answered


def offered(decided: MessageDecision) -> list[str]:
    """The entries offered as choices: instead of an answer, or for a part an answer leaves."""
    return decided.keys if decided.decision == "disambiguate" else decided.also_offered


def pairs(items: list[Item], test: list[int], rng: random.Random) -> list[tuple[str, frozenset[str]]]:
    """Two-question messages from held-out variants of entries of different programmes."""
    pool = [i for i in test if items[i].source == "variant" and items[i].key != NONE_CLASS]
    made: list[tuple[str, frozenset[str]]] = []
    for _ in range(PAIRS_PER_FOLD * 20):
        if len(made) >= PAIRS_PER_FOLD:
            break
        a, b = (items[i] for i in rng.sample(pool, 2))
        if programme_of(a.key) == programme_of(b.key):
            continue
        first, second = a.text.rstrip("。？?！! "), b.text
        made.append((rng.choice(JOINS).format(a=first, b=second), frozenset({a.key, b.key})))
    return made


def shares(messages: list[Message], names: ProgrammeNames, rule: Rule) -> dict[str, float]:
    counts = {"both": 0, "one": 0, "wrong": 0, "none": 0, "two_answers": 0, "covered": 0}
    for m in messages:
        decided = outcome(m, names, rule)
        given = decided.answered
        right = sum(k in m.keys for k in given)
        counts["covered"] += m.keys <= {*given, *offered(decided)}
        counts["two_answers"] += len(given) >= 2
        if len(given) > right:
            counts["wrong"] += 1
        elif right >= 2:
            counts["both"] += 1
        elif right == 1:
            counts["one"] += 1
        else:
            counts["none"] += 1
    return {k: v / max(len(messages), 1) for k, v in counts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="fold seed (and the pairs' seed)")
    parser.add_argument(
        "--min-probability",
        type=floats,
        default=THRESHOLDS,
        help=f"probabilities a clause needs (default: {THRESHOLDS}; the searcher: {EXTRA_PROBABILITY})",
    )
    parser.add_argument(
        "--gap",
        type=floats,
        default=(1.0, CLAUSE_GAP),
        help=f"margin a clause needs for its entry over the other answer (the searcher: {CLAUSE_GAP})",
    )
    parser.add_argument(
        "--phantom-probability",
        type=floats,
        default=PHANTOM_THRESHOLDS,
        help="how sure a clause naming a whole-message answer's programme must be of another entry for "
        f"that answer to count as a phantom (default: {PHANTOM_THRESHOLDS}, and kept; the searcher: "
        f"{PHANTOM_PROBABILITY})",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    records = read_faq_seed()
    names = ProgrammeNames.of((r["key"], r["question"], r["category"]) for r in records)
    rng = random.Random(args.seed)
    synthetic: list[Message] = []
    singles: dict[int, dict[str, Ranked]] = {}

    items = items_of(records)  # as cross_validate numbers them

    def on_fold(ranker: Ranker, test: list[int]) -> None:
        for text, keys in pairs(items, test, rng):
            synthetic.append(message(ranker, text, keys, ranking(ranker, text)))
        for i in test:
            if asking_clauses(items[i].text):
                singles[i] = message(ranker, items[i].text, frozenset(), []).clauses

    _, ranked, _, _ = cross_validate(records, args.folds, args.seed, on_fold=on_fold)
    print(f"{len(records)} entries, {len(items)} held-out items, {args.folds}-fold cross-validation (seed {args.seed})")

    split = [m for m in synthetic if m.clauses]
    print(
        f"1. {len(synthetic)} synthetic two-question messages ({len(split)} with two or more asking clauses): "
        "both right / one right (no wrong) / any wrong / no answer; two answers given; "
        "both asks answered or offered"
    )
    rules: list[tuple[str, Rule]] = [("whole message", None)] + [
        (f"p>={p:.2f} gap {g:.1f} " + (f"phantom {q:.2f}" if q is not None else "phantoms kept"), (p, g, q))
        for p in args.min_probability
        for g in args.gap
        for q in (None, *args.phantom_probability)
    ]
    for label, rule in rules:
        for name, subset in (("all", synthetic), ("split", split)):
            s = shares(subset, names, rule)
            print(
                f"  {label:<31} {name:<5} {s['both']:6.1%} / {s['one']:6.1%} / {s['wrong']:6.2%} / "
                f"{s['none']:6.1%}; {s['two_answers']:6.1%}; {s['covered']:6.1%}"
            )

    policy = [n for n, i in enumerate(items) if i.key != NONE_CLASS]
    outside = [n for n, i in enumerate(items) if i.key == NONE_CLASS]
    print(
        f"2. held-out items: {len(policy)} policy questions, {len(outside)} outside the FAQ; "
        f"{len(singles)} with two or more asking clauses"
    )
    held_out = [Message(i.text, frozenset({i.key}), ranked[n], singles.get(n, {})) for n, i in enumerate(items)]
    for label, rule in rules:
        extra = extra_wrong = wrong = outside_answers = changed = lost = 0
        for item, m in zip(items, held_out, strict=True):
            base = answers(m, names, None)
            given = answers(m, names, rule)
            if given != base:
                changed += 1
                added = [k for k in given if k not in base]
                extra += len(added)
                extra_wrong += sum(k != item.key for k in added)
                lost += item.key in base and item.key not in given
            if item.key == NONE_CLASS:
                outside_answers += bool(given)
            else:
                wrong += any(k != item.key for k in given)
        print(
            f"  {label:<31} messages changed {changed} ({changed / len(items):.2%}), extra answers {extra} "
            f"({extra_wrong} wrong), right answers lost {lost}; "
            f"confident-wrong {wrong / len(policy):.2%} of policy questions; "
            f"outside-FAQ answered {outside_answers / len(outside):.1%}"
        )
    print(f"time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
