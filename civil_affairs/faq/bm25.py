"""The former FAQ search: BM25 over words and character bigrams, kept as the baseline ``make eval-faq``
compares the learned ranker against (the service does not use it)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from civil_affairs.faq.search import Candidate
from civil_affairs.models import FaqEntry
from civil_affairs.text import char_bigrams, tokenize

K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"question": 3.0, "alternatives": 2.0, "keywords": 3.0, "answer": 0.5}
BIGRAM_WEIGHT = 0.35
CATEGORY_BOOST = 1.5
PHRASE_WEIGHT = 3.0  # an entry with one phrasing close to the question outranks scattered matches


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
    tf: dict[str, float]
    length: float
    question_terms: frozenset[str]
    phrasings: list[frozenset[str]]


class FaqIndex:
    """An immutable BM25 index over a snapshot of the active FAQ entries."""

    def __init__(self, entries: Iterable[FaqEntry]) -> None:
        self.docs: list[_Doc] = []
        for entry in entries:
            tf: dict[str, float] = {}
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
                        tf[term] = tf.get(term, 0) + FIELD_WEIGHTS[field_name]
                    if field_name != "answer":
                        question_side.update(terms)
            self.docs.append(
                _Doc(
                    entry.id,
                    entry.key,
                    entry.question,
                    entry.category,
                    tf,
                    sum(tf.values()),
                    frozenset(question_side),
                    phrasings,
                )
            )
        n = len(self.docs)
        df: Counter[str] = Counter()
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
            ranked.append(
                Candidate(
                    doc.entry_id,
                    doc.key,
                    doc.question,
                    doc.category,
                    score,
                    round(min(confidence, 1.0), 4),
                    round(evidence, 3),
                )
            )
        ranked.sort(key=lambda c: c.score, reverse=True)
        return ranked[:limit]
