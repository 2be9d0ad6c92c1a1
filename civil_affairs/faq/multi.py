"""Two questions in one message ("结婚要带啥材料？能在外地领吗？"): answer each part it asks.

The whole message is ranked and decided as always; when it has two or more asking clauses
(``civil_affairs.text.question_clauses``), each clause is also ranked on its own, without the rest
of the message, and decided with the same calibration. Two questions split the whole message's
margins, so it often gets choices ("您是想问…") or one answer only:

- the whole message answered with entry K: a clause answered confidently with another entry K2 adds
  K2 as a second answer;
- the whole message not answered: when at least two clauses are each answered confidently with
  distinct entries, those are answered instead of offering choices;
- at most ``MAX_ANSWERS`` answers, the whole message's first.

A clause that only names a programme ("低保呢？") is no confident answer (the searcher asks such
a message back). Follow-ups that lean on the previous question and messages that only name a
programme are never split (the searcher's decision stands).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from civil_affairs.faq.decision import Calibration, Decision, decide
from civil_affairs.text import question_clauses

MAX_ANSWERS = 2
# A clause needs at least the calibration's answer probability; this can ask for more (chosen by
# cross-validation, ``scripts/eval_faq_multi.py``).
EXTRA_PROBABILITY = 0.8

Ranked = Sequence[tuple[str, float]]


def asking_clauses(text: str) -> list[str]:
    """The asking clauses of ``text`` when it has two or more ([] otherwise: nothing to split)."""
    asked = question_clauses(text)
    return asked if len(asked) >= 2 else []


def clause_answer(
    ranked: Ranked, calibration: Calibration, min_probability: float = EXTRA_PROBABILITY
) -> tuple[str, float] | None:
    """(entry, probability) when ``ranked`` (one clause's ranking) is answered confidently."""
    decision, keys, probability = decide(ranked, calibration)
    if decision == "answer" and keys and probability >= min_probability:
        return keys[0], probability
    return None


def clause_answers(
    clauses: Sequence[str],
    rank: Callable[[str], Ranked],
    calibration: Calibration,
    only_names_programme: Callable[[str, Ranked], bool] = lambda _text, _ranked: False,
    min_probability: float = EXTRA_PROBABILITY,
) -> list[tuple[str, float]]:
    """The confident (entry, probability) of each clause ranked on its own (``rank``), distinct
    entries in the clauses' order; a clause that only names a programme counts as none."""
    found: dict[str, float] = {}
    for clause in clauses:
        ranked = rank(clause)
        if only_names_programme(clause, ranked):
            continue
        answer = clause_answer(ranked, calibration, min_probability)
        if answer and answer[0] not in found:
            found[answer[0]] = answer[1]
    return list(found.items())


def combine(
    decision: Decision, keys: Sequence[str], clauses: Sequence[tuple[str, float]], limit: int = MAX_ANSWERS
) -> list[tuple[str, float]]:
    """The clauses' answers that change the whole message's decision ``decision``/``keys``: for an
    answered message, the other entries to answer beside ``keys[0]``; for one not answered, the
    entries to answer instead (two or more, the first the main answer). [] keeps the decision."""
    if decision == "answer":
        main = keys[0] if keys else None
        return [(k, p) for k, p in clauses if k != main][: limit - 1]
    if len(clauses) >= 2:
        return list(clauses[:limit])
    return []
