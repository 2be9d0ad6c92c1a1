"""Two questions in one message ("低保怎么申请？高龄津贴多少钱？"): answer each part it asks.

The whole message is ranked and decided as always; when it has two or more asking clauses
(``civil_affairs.text.question_clauses``), each clause is also ranked on its own, without the rest
of the message, and decided with the same calibration. Two questions split the whole message's
margins, so it often gets choices ("您是想问…") or one answer only:

- at least two clauses each answered confidently with distinct entries: those are answered, whatever
  the whole message got (choices, "don't know", or an answer that mixing the two made);
- otherwise, the whole message answered with entry K: a clause answered confidently with another entry
  K2 adds K2 as a second answer;
- at most ``MAX_ANSWERS`` answers, the whole message's first when it is one of them;
- a whole-message answer that mixes two asks naming different programmes (a **phantom**, ``split``)
  is never sent beside a sure clause: that clause is answered and the other part gets choices
  ("您还问了另一件事…").

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
from dataclasses import dataclass, field, replace

from civil_affairs.faq.decision import Calibration, Decision, decide
from civil_affairs.faq.facets import programme_of
from civil_affairs.faq.programmes import ProgrammeNames
from civil_affairs.faq.ranker import NONE_CLASS
from civil_affairs.text import question_clauses

MAX_ANSWERS = 2
# Cross-validation, 5 folds, seed 0 (scripts/eval_faq_multi.py): see the module docstring.
EXTRA_PROBABILITY = 0.95
CLAUSE_GAP = 1.5
# A whole-message answer is a phantom only when a clause naming its programme asks, this sure, about
# another entry (scripts/eval_faq_multi.py; see ``split``).
PHANTOM_PROBABILITY = 0.9
OFFERED = 3  # choices offered for the part of a message its answers leave (as "您是想问…": 2-3)

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


@dataclass(frozen=True)
class Clause:
    """One asking clause ranked on its own: the programmes it names, its best entry, the entries it
    would be offered (``choices``), and its answer when confident (``ClauseAnswer``)."""

    text: str
    named: frozenset[str]
    best: str | None
    choices: tuple[str, ...]
    answer: ClauseAnswer | None
    margins: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0  # that its best entry is the one it asks about

    def asks_other_than(self, key: str, min_probability: float) -> bool:
        """The clause names ``key``'s programme and asks, at least ``min_probability`` sure, about
        another entry."""
        return programme_of(key) in self.named and self.best != key and self.probability >= min_probability


def clause_answer(
    ranked: Ranked, calibration: Calibration, min_probability: float = EXTRA_PROBABILITY
) -> ClauseAnswer | None:
    """The clause's answer when ``ranked`` (one clause's ranking) is answered confidently."""
    decision, keys, probability = decide(ranked, calibration)
    if decision == "answer" and keys and probability >= min_probability:
        return ClauseAnswer(keys[0], probability, dict(ranked))
    return None


def ranked_clauses(
    clauses: Sequence[str],
    rank: Callable[[str], Ranked],
    calibration: Calibration,
    programmes: ProgrammeNames,
    min_probability: float = EXTRA_PROBABILITY,
) -> list[Clause]:
    """Each clause ranked on its own (``rank``). Its answer counts only when confident and the clause
    names the entry's programme; a clause that only names a programme ("低保呢？") has no answer, and
    its programme's entries as choices (it would be asked back)."""
    found: list[Clause] = []
    never_answer = replace(calibration, answer_probability=float("inf"))
    for text in clauses:
        ranked = rank(text)
        probability = calibration.probability(ranked)
        named = programmes.mentioned(text)
        best = next((k for k, _ in ranked if k != NONE_CLASS), None)
        asked = programmes.ask_back(text, ranked)
        if asked is not None:
            found.append(Clause(text, named, best, tuple(asked[1]), None, dict(ranked), probability))
            continue
        decision, offered, probability = decide(ranked, never_answer, named=named)
        answer = clause_answer(ranked, calibration, min_probability)
        if answer and programme_of(answer.key) not in named:
            answer = None
        choices = tuple(offered) if decision == "disambiguate" else ()
        found.append(Clause(text, named, best, choices, answer, dict(ranked), probability))
    return found


def distinct_answers(clauses: Sequence[Clause]) -> list[ClauseAnswer]:
    """The clauses' confident answers, one per entry, in the clauses' order."""
    found: dict[str, ClauseAnswer] = {}
    for clause in clauses:
        if clause.answer and clause.answer.key not in found:
            found[clause.answer.key] = clause.answer
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
    are answered whatever the whole message got: mixed, two questions make phantoms. Otherwise an
    answered message gets the clauses that ask about something else than its answer beside it."""
    main = keys[0] if decision == "answer" and keys else None
    distinct = [c for c in clauses if all(c.asks_rather_than(o.key, gap) for o in clauses if o is not c)]
    if len(distinct) >= 2:
        return sorted(distinct, key=lambda c: c.key != main)[:limit]  # the whole message's answer first
    if main is None:
        return []
    extra = [c for c in clauses if c.key != main and c.asks_rather_than(main, gap)][: limit - 1]
    return [ClauseAnswer(main, probability, {}), *extra] if extra else []


def names_programmes_apart(clauses: Sequence[Clause]) -> bool:
    """Two or more clauses name programmes, and not all the same ones ("低保…？高龄津贴…？")."""
    named = [c.named for c in clauses if c.named]
    return len(named) >= 2 and len(set(named)) >= 2


@dataclass(frozen=True)
class Split:
    """What the clauses make of a message: the answers to send (main first) and the entries to offer
    as choices beside them, for the part they leave."""

    answers: list[ClauseAnswer]
    offered: list[str]


def interleave(choices: Sequence[Sequence[str]], exclude: Sequence[str] = (), limit: int = OFFERED) -> list[str]:
    """Each list's first entry, then each one's second …, distinct, without ``exclude``."""
    merged: list[str] = []
    for rank in range(max((len(c) for c in choices), default=0)):
        for offered in choices:
            if rank < len(offered) and offered[rank] not in merged and offered[rank] not in exclude:
                merged.append(offered[rank])
    return merged[:limit]


def split(
    decision: Decision,
    keys: Sequence[str],
    clauses: Sequence[Clause],
    probability: float = 0.0,
    limit: int = MAX_ANSWERS,
    gap: float = CLAUSE_GAP,
    phantom_probability: float | None = PHANTOM_PROBABILITY,
) -> Split | None:
    """The clauses' change to the whole message's decision (``decision``/``keys`` at
    ``probability``), or None to keep it.

    As ``combine``, except for a **phantom**: the clauses name different programmes
    (``names_programmes_apart``), the whole message is answered with K, K is no clause's best entry,
    and a clause naming K's programme asks, at least ``phantom_probability`` sure, about another
    entry. K mixes the two asks ("低保怎么申请？高龄津贴多少钱？" as a whole ranked the high-age
    allowance's application first, asked by neither; its amount clause alone is at P 0.949) and is
    not sent beside a sure clause: two sure clauses are answered, else the sure one (if it ranks its
    entry ``gap`` above K) with the other clauses' likeliest entries offered as choices. With no
    sure clause K stands alone (in ``make eval-faq-multi`` such a K was right in each of the 3
    synthetic messages where offering the clauses' entries instead would have changed anything).
    ``phantom_probability`` None keeps phantoms (as before the rule, for the evaluation)."""
    found = distinct_answers(clauses)
    main = keys[0] if decision == "answer" and keys else None
    phantom = (
        phantom_probability is not None
        and main is not None
        and names_programmes_apart(clauses)
        and all(main != c.best for c in clauses)
        and any(c.asks_other_than(main, phantom_probability) for c in clauses)
    )
    if main is None or not phantom:
        combined = combine(decision, keys, found, probability, limit, gap)
        return Split(combined, []) if combined else None
    both = combine("unknown", [], found, probability, limit, gap)  # two clauses, each sure of its own
    if both:
        return Split(both, [])
    # At most one clause asks about its entry rather than another clause's: the surest one answers.
    sure = sorted((c for c in found if c.asks_rather_than(main, gap)), key=lambda c: -c.probability)[:1]
    if not sure:  # K alone: measured, the whole message's answer was right more often than not
        return None
    answered = [c.key for c in sure]
    rest = [c.choices for c in clauses if c.answer is None or c.answer.key not in answered]
    return Split(sure, interleave(rest, exclude=answered))
