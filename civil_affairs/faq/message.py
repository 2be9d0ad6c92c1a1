"""One message's decision: ask back a bare programme name, decide as a whole, split two questions.

``decide_message`` is the composition ``FaqSearcher.search`` applies to every message and
``scripts/eval_faq_multi.py`` measures, one pure function over rankings:

1. a message that only names a programme ("高龄津贴") is asked which aspect
   (``ProgrammeNames.ask_back``), never for a follow-up that leans on the previous question;
2. the whole message is decided (``decide``, with the programmes it names);
3. a message with two or more asking clauses, neither asked back nor a follow-up, has each clause
   ranked and decided on its own (``civil_affairs.faq.multi.split``): two answers, or an answer
   and choices for the other part instead of a phantom answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from civil_affairs.faq.decision import Calibration, Decision, decide
from civil_affairs.faq.multi import (
    CLAUSE_GAP,
    EXTRA_PROBABILITY,
    PHANTOM_PROBABILITY,
    ClauseAnswer,
    Ranked,
    asking_clauses,
    ranked_clauses,
    split,
)
from civil_affairs.faq.programmes import ProgrammeMention, ProgrammeNames


@dataclass(frozen=True)
class MessageDecision:
    """What to do with a message: ``decision`` with ``keys`` (the entry answered first, or the
    entries offered) at ``probability``; the programme a message only named (``keys`` are its
    entries); the entries answered beside the first (``also``), and the entries offered for a part
    of the message those answers leave (``also_offered``)."""

    decision: Decision
    keys: list[str]
    probability: float
    asked: ProgrammeMention | None = None
    also: list[ClauseAnswer] = field(default_factory=list)
    also_offered: list[str] = field(default_factory=list)

    @property
    def answered(self) -> list[str]:
        """The entries sent as answers, the first one first."""
        return [*self.keys[:1], *(c.key for c in self.also)] if self.decision == "answer" else []


def decide_message(
    text: str,
    ranked: Ranked,
    calibration: Calibration,
    programmes: ProgrammeNames,
    rank_clause: Callable[[str], Ranked],
    follow_up: bool = False,
    min_probability: float = EXTRA_PROBABILITY,
    gap: float = CLAUSE_GAP,
    phantom_probability: float | None = PHANTOM_PROBABILITY,
    split_clauses: bool = True,
) -> MessageDecision:
    """The decision for ``text`` ranked as ``ranked`` ((key, margin) best first, ``__none__``
    included); ``rank_clause`` ranks one asking clause on its own; ``follow_up``: ``text`` leans on
    the previous question (ranked with it), so it is neither asked back nor split. ``min_probability``,
    ``gap`` and ``phantom_probability`` (None: phantoms kept) are ``civil_affairs.faq.multi``'s,
    measured by ``make eval-faq-multi``; ``split_clauses`` False decides the whole message only (as
    before the clauses, for the evaluation)."""
    asked = None if follow_up else programmes.ask_back(text, ranked)
    decision, keys, probability = decide(
        ranked, calibration, programme_offer=asked[1] if asked else (), named=programmes.mentioned(text)
    )
    clauses = asking_clauses(text) if split_clauses and not asked and not follow_up else []
    if not clauses:
        return MessageDecision(decision, keys, probability, asked[0] if asked else None)
    found = ranked_clauses(clauses, rank_clause, calibration, programmes, min_probability)
    changed = split(decision, keys, found, probability, gap=gap, phantom_probability=phantom_probability)
    if changed is None:
        return MessageDecision(decision, keys, probability)
    first, *also = changed.answers
    return MessageDecision("answer", [first.key], first.probability, None, also, changed.offered)
