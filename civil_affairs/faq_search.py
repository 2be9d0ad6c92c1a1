"""Lexical retrieval over the policy FAQ store, with a calibrated three-way decision.

Each active entry is indexed as one BM25 document built from its canonical question, alternative
phrasings and keywords (weighted higher) and its answer (weighted lower); terms are jieba words with
synonyms mapped to a canonical term plus character bigrams, so typos and dialect still match.

BM25 ranks. The decision reads three signals of the best entry: ``confidence`` in [0, 1] (the
IDF-weighted share of the query's terms found on the entry's question side), ``evidence`` (the IDF
mass of whole words matched there, so a single common word is weak evidence however well it
"covers" a one-word query) and the lead of its score over the runner-up. Messages that the NLU
model could not place (``strict``) must clear a higher bar. When the lead is small the answer goes
out with the runner-up questions as buttons, so a near miss costs the resident one tap. The
index is rebuilt whenever the store changes (checked per search by a cheap version query), so staff
edits take effect for the next message without retraining.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civil_affairs.models import FaqEntry
from civil_affairs.text import char_bigrams, content_words, tokenize

K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"question": 3.0, "alternatives": 2.0, "keywords": 3.0, "answer": 0.5}
BIGRAM_WEIGHT = 0.35
CATEGORY_BOOST = 1.5
PHRASE_WEIGHT = 3.0  # an entry with one phrasing close to the question outranks scattered matches
MIN_EVIDENCE = 2.5  # about one distinctive word (the rarest words score ~4.5)
STRICT_MIN_EVIDENCE = 3.5
RELATED_LEAD = 1.3  # below this, runner-ups go beside an answer, and a one-word question is ambiguous
CLEAR_LEAD = 1.05  # below this, a two-word question is ambiguous

Decision = Literal["answer", "disambiguate", "unknown"]


@dataclass(frozen=True)
class Candidate:
    """One ranked entry with its BM25 score and calibrated confidence."""

    entry_id: int
    key: str
    question: str
    category: str
    score: float
    confidence: float
    evidence: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    """The ranked candidates and what to do with them."""

    decision: Decision
    candidates: list[Candidate]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def lead(self) -> float:
        """Best score over runner-up score (infinite when there is no runner-up)."""
        if len(self.candidates) < 2 or self.candidates[1].score <= 0:
            return float("inf")
        return self.candidates[0].score / self.candidates[1].score

    def related(self, limit: int = 2) -> list[Candidate]:
        """Runner-up entries worth offering beside an answer whose lead is small."""
        if self.decision != "answer" or self.lead >= RELATED_LEAD:
            return []
        return self.candidates[1 : 1 + limit]


def _terms(text: str) -> list[str]:
    """Index terms: words (full weight) and character bigrams (prefixed, lower weight)."""
    return tokenize(text) + ["#" + gram for gram in char_bigrams(text)]


def _term_weight(term: str) -> float:
    return BIGRAM_WEIGHT if term.startswith("#") else 1.0


@dataclass
class _Doc:
    entry_id: int
    key: str
    question: str
    category: str
    tf: Counter
    length: float
    question_terms: frozenset[str]
    phrasings: list[frozenset[str]]


class FaqIndex:
    """An immutable BM25 index over a snapshot of the active FAQ entries."""

    def __init__(self, entries: Iterable[FaqEntry]) -> None:
        self.docs: list[_Doc] = []
        for entry in entries:
            tf: Counter = Counter()
            question_side: set[str] = set()
            phrasings = [frozenset(_terms(t)) for t in [entry.question, *(entry.alternatives or [])]]
            fields = {
                "question": [entry.question],
                "alternatives": list(entry.alternatives or []),
                "keywords": list(entry.keywords or []),
                "answer": [entry.answer],
            }
            for field_name, texts in fields.items():
                for text in texts:
                    terms = _terms(text)
                    for term in terms:
                        tf[term] += FIELD_WEIGHTS[field_name]
                    if field_name != "answer":
                        question_side.update(terms)
            self.docs.append(
                _Doc(entry.id, entry.key, entry.question, entry.category, tf,
                     sum(tf.values()), frozenset(question_side), phrasings)
            )
        n = len(self.docs)
        df: Counter = Counter()
        for doc in self.docs:
            df.update(doc.tf.keys())
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.avg_len = sum(d.length for d in self.docs) / n if n else 1.0

    def _phrase_similarity(self, query: frozenset[str], doc: _Doc) -> float:
        """IDF-weighted cosine between the query and the entry's closest single phrasing."""
        def norm(terms: frozenset[str]) -> float:
            return math.sqrt(sum((self.idf.get(t, 0.0) * _term_weight(t)) ** 2 for t in terms))

        query_norm = norm(query)
        best = 0.0
        for phrasing in doc.phrasings:
            shared = query & phrasing
            if shared and query_norm:
                overlap = sum((self.idf[t] * _term_weight(t)) ** 2 for t in shared)
                best = max(best, overlap / (query_norm * norm(phrasing)))
        return best

    def rank(self, text: str, category: str | None = None, limit: int = 5) -> list[Candidate]:
        """Entries ranked by BM25 (boosted in ``category``), each with its confidence."""
        query = Counter(_terms(text))
        if not query or not self.docs:
            return []
        query_mass = sum(self.idf.get(t, 0.0) * _term_weight(t) for t in query)
        ranked: list[Candidate] = []
        for doc in self.docs:
            score = 0.0
            covered = 0.0
            evidence = 0.0
            for term in query:
                freq = doc.tf.get(term)
                if not freq:
                    continue
                idf = self.idf[term] * _term_weight(term)
                norm = K1 * (1 - B + B * doc.length / self.avg_len)
                score += idf * freq * (K1 + 1) / (freq + norm)
                if term in doc.question_terms:
                    covered += idf
                    if not term.startswith("#"):
                        evidence += idf
            if score <= 0:
                continue
            score *= 1 + PHRASE_WEIGHT * self._phrase_similarity(frozenset(query), doc)
            if category and doc.category == category:
                score *= CATEGORY_BOOST
            confidence = covered / query_mass if query_mass else 0.0
            ranked.append(Candidate(doc.entry_id, doc.key, doc.question, doc.category,
                                    score, round(min(confidence, 1.0), 4), round(evidence, 3)))
        ranked.sort(key=lambda c: c.score, reverse=True)
        return ranked[:limit]


class FaqSearcher:
    """Keeps a ``FaqIndex`` in step with the store and decides answer / disambiguate / unknown."""

    def __init__(self, answer_threshold: float, suggest_threshold: float) -> None:
        self.answer_threshold = answer_threshold
        self.suggest_threshold = suggest_threshold
        self._index: FaqIndex | None = None
        self._version: tuple | None = None
        self._lock = threading.Lock()

    def index(self, session: Session) -> FaqIndex:
        """The current index, rebuilt when any entry was added, edited or (de)activated."""
        version = tuple(
            session.execute(
                select(func.count(FaqEntry.id), func.max(FaqEntry.updated_at))
            ).one()
        )
        with self._lock:
            if self._index is None or version != self._version:
                entries = session.scalars(select(FaqEntry).where(FaqEntry.active == True)).all()  # noqa: E712
                self._index = FaqIndex(entries)
                self._version = version
            return self._index

    def search(self, session: Session, text: str, category: str | None = None,
               strict: bool = False) -> SearchResult:
        """Rank entries for ``text`` and decide; ``strict`` when the NLU model could not place it."""
        candidates = self.index(session).rank(text, category=category)
        word_count = len(content_words(text))
        return SearchResult(self.decide(candidates, word_count, strict), candidates)

    def decide(self, candidates: list[Candidate], word_count: int, strict: bool = False) -> Decision:
        """Answer, offer candidates, or admit not knowing (see the module docstring)."""
        if not candidates:
            return "unknown"
        best = candidates[0]
        lead = best.score / candidates[1].score if len(candidates) > 1 else float("inf")
        if strict:
            if best.evidence >= STRICT_MIN_EVIDENCE and best.confidence >= self.answer_threshold \
                    and lead >= RELATED_LEAD:
                return "answer"
            return "disambiguate" if best.evidence >= STRICT_MIN_EVIDENCE else "unknown"
        if best.evidence < MIN_EVIDENCE and best.confidence < self.answer_threshold:
            return "disambiguate" if best.confidence >= self.suggest_threshold else "unknown"
        if (word_count <= 1 and lead < RELATED_LEAD) or (word_count == 2 and lead < CLEAR_LEAD):
            return "disambiguate"  # "补贴" alone fits many entries about as well
        return "answer"
