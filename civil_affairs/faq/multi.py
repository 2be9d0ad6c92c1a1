"""Two questions in one message ("低保怎么申请？高龄津贴多少钱？"): answer each part it asks.

The whole message is ranked and decided as always; when it has two or more asking clauses
(``civil_affairs.text.question_clauses``), each clause is also ranked on its own, without the rest
of the message, and decided with the same calibration. Two questions split the whole message's
margins, so it often gets choices ("您是想问…") or one answer only:

- at least two clauses each answered confidently with distinct entries: those are answered, whatever
  the whole message got (choices, "don't know", or an answer that mixing the two made);
- otherwise, the whole message answered with entry K: a clause answered confidently with another entry
  K2 adds K2 as a second answer;
- at most ``MAX_ANSWERS`` answers, the whole message's first when it is one of them.

"Confidently" asks more of a clause than of a message, all chosen by cross-validation
(``scripts/eval_faq_multi.py``, never on evaluation sets): a clause alone is often a sub-question
of the same ask ("…要带哪些东西去 户口本要不要" answered the generic 户口本 entry beside the
programme's documents), so a clause answer counts only when

- its probability is at least ``EXTRA_PROBABILITY``;
- the clause names the programme of its entry (``ProgrammeNames.mentioned``: 低保 in 低保怎么申请),
  so it stands for itself ("能在外地领吗" alone is no question about marriage);
- its clause ranks it at least ``CLAUSE_GAP`` above each other answer (the clause asks about it, not
  about the other answer's entry).

A clause that only names a programme ("低保呢？") is no confident answer (the searcher asks such a
message back). Follow-ups that lean on the previous question and messages that only name a
programme are never split (the searcher's decision stands).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from civil_affairs.faq.decision import Calibration, Decision, decide
from civil_affairs.faq.facets import programme_of
from civil_affairs.faq.programmes import ProgrammeNames
from civil_affairs.text import question_clauses

MAX_ANSWERS = 2
# Cross-validation, 5 folds, seed 0 (scripts/eval_faq_multi.py): see the module docstring.
EXTRA_PROBABILITY = 0.95
CLAUSE_GAP = 1.5

Ranked = Sequence[tuple[str, float]]


def asking_clauses(text: str) -> list[str]:
    """The asking clauses of ``text`` when it has two or more ([] otherwise: nothing to split)."""
    asked = question_clauses(text)
    return asked if len(asked) >= 2 else []


@dataclass(frozen=True)
class ClauseAnswer:
    """The entry one asking clause, ranked on its own, is answered with, and the clause's margins."""

    key: str
    probability: float
    margins: dict[str, float]

    def asks_rather_than(self, other: str, gap: float = CLAUSE_GAP) -> bool:
        """The clause ranks its entry at least ``gap`` above ``other``."""
        return self.margins[self.key] - self.margins.get(other, float("-inf")) >= gap


def clause_answer(
    ranked: Ranked, calibration: Calibration, min_probability: float = EXTRA_PROBABILITY
) -> ClauseAnswer | None:
    """The clause's answer when ``ranked`` (one clause's ranking) is answered confidently."""
    decision, keys, probability = decide(ranked, calibration)
    if decision == "answer" and keys and probability >= min_probability:
        return ClauseAnswer(keys[0], probability, dict(ranked))
    return None


def clause_answers(
    clauses: Sequence[str],
    rank: Callable[[str], Ranked],
    calibration: Calibration,
    programmes: ProgrammeNames,
    min_probability: float = EXTRA_PROBABILITY,
) -> list[ClauseAnswer]:
    """The confident answer of each clause ranked on its own (``rank``) whose programme the clause
    names, distinct entries in the clauses' order; a clause that only names a programme counts as
    none (it would be asked back)."""
    found: dict[str, ClauseAnswer] = {}
    for clause in clauses:
        ranked = rank(clause)
        if programmes.ask_back(clause, ranked) is not None:
            continue
        answer = clause_answer(ranked, calibration, min_probability)
        if answer and answer.key not in found and programme_of(answer.key) in programmes.mentioned(clause):
            found[answer.key] = answer
    return list(found.values())


def combine(
    decision: Decision,
    keys: Sequence[str],
    clauses: Sequence[ClauseAnswer],
    probability: float = 0.0,
    limit: int = MAX_ANSWERS,
    gap: float = CLAUSE_GAP,
) -> list[ClauseAnswer]:
    """The answers to send, the main one first, when the clauses change the whole message's decision
    (``decision``/``keys`` at ``probability``); [] keeps the decision.

    Two or more clauses answered on their own, each asking about its entry rather than the others',
    are answered whatever the whole message got: mixed, two questions make phantoms ("低保怎么申请？
    高龄津贴多少钱？" as a whole was the high-age allowance's application). Otherwise an answered
    message gets the clauses that ask about something else than its answer beside it."""
    main = keys[0] if decision == "answer" and keys else None
    distinct = [c for c in clauses if all(c.asks_rather_than(o.key, gap) for o in clauses if o is not c)]
    if len(distinct) >= 2:
        return sorted(distinct, key=lambda c: c.key != main)[:limit]  # the whole message's answer first
    if main is None:
        return []
    extra = [c for c in clauses if c.key != main and c.asks_rather_than(main, gap)][: limit - 1]
    return [ClauseAnswer(main, probability, {}), *extra] if extra else []
