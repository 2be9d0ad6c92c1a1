"""FAQ search: the learned ranker (``faq_ranker``) kept in step with the store, and the decision.

For each message the ranker scores every active entry; a calibrated probability that the best entry
is the one asked about decides between answering, offering the 2-3 likeliest entries as choices,
and admitting not knowing (thresholds chosen by cross-validation, ``make eval-faq``).

Staff edits need no Rasa retrain: each search checks the store's version (one cheap query). When
it changed, the entries that were added or edited get their own one-vs-rest classifier at once
(a fraction of a second each; after an import of more than ``PATCH_LIMIT`` entries the previous
model serves instead) and a full refit starts in a background thread; its result replaces the model
when done. A watcher thread makes the refit happen within
``WATCH_INTERVAL_SECONDS`` of an edit even when no resident writes. Deactivated entries are never
offered, from the first search after the change.

The former BM25 search is ``civil_affairs.faq.bm25``, kept as the baseline ``make eval-faq`` compares
against.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from civil_affairs.faq.decision import DECISION_DEPTH, DEFAULT_CALIBRATION, Calibration, Decision
from civil_affairs.faq.message import decide_message
from civil_affairs.faq.programmes import ProgrammeNames
from civil_affairs.faq.ranker import NONE_CLASS, Ranker, TrainingEntry, training_entry
from civil_affairs.models import FaqEntry

logger = logging.getLogger(__name__)

CATEGORY_BONUS = 0.2  # margin added to entries of the NLU topic (chosen by make eval-faq --nlu-model)
STRICT_ANSWER_PROBABILITY = 0.97  # the NLU model could not place the message: answer only when sure
STRICT_OFFER_RAISE = 0.3
RELATED_WINDOW = 0.3  # runner-ups this close to an answered entry are shown beside it
RELATED_MAX_PROBABILITY = 0.98
PATCH_LIMIT = 10  # more changed entries than this (an import): wait for the background refit
REFIT_DELAY_SECONDS = 1.0
# The watcher's check is one cheap query (count and latest update of the entries); every 5 s, so an
# edit made while nobody writes starts its refit within 5 s rather than 30 (the issue: the refit done
# within a minute of the edit).
WATCH_INTERVAL_SECONDS = 5.0


def strict_calibration(calibration: Calibration) -> Calibration:
    """The thresholds for a message the NLU model could not place (or called out of scope): answer
    only when sure, offer only closer matches."""
    return replace(
        calibration,
        answer_probability=max(calibration.answer_probability, STRICT_ANSWER_PROBABILITY),
        offer_score=calibration.offer_score + STRICT_OFFER_RAISE,
    )


@dataclass(frozen=True)
class Candidate:
    """One ranked entry: its score (ranker margin, or BM25 in ``FaqIndex``) and confidence
    (the calibrated probability of being right, for the best candidate)."""

    entry_id: int
    key: str
    question: str
    category: str
    score: float
    confidence: float
    evidence: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    """The ranked candidates, what to do with them, and the entries to offer as choices."""

    decision: Decision
    candidates: list[Candidate]
    offered: list[Candidate] = field(default_factory=list)
    probability: float = 0.0
    # The programme's name when the message only named one ("高龄津贴"): ``offered`` are its
    # entries, and the question back asks which aspect (``civil_affairs.faq.programmes``).
    programme_name: str | None = None
    # A message asking two things ("结婚要带啥材料？能在外地领吗？"): the other entries answered
    # beside ``best`` (``civil_affairs.faq.multi``).
    also: list[Candidate] = field(default_factory=list)
    # The entries offered as choices for a part of such a message left unanswered ("低保怎么申请？
    # 高龄津贴…？" with only the first clause sure): the second clause's likeliest entries.
    also_offered: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def related(self, limit: int = 2) -> list[Candidate]:
        """Runner-up entries worth offering beside an answer that was not quite certain."""
        if self.decision != "answer" or self.probability >= RELATED_MAX_PROBABILITY or not self.best:
            return []
        if self.also or self.also_offered:  # a second question: its answer or choices follow instead
            return []
        return [c for c in self.candidates[1 : 1 + limit] if c.score >= self.best.score - RELATED_WINDOW]


class FaqSearcher:
    """Keeps a ``Ranker`` in step with the store and decides answer / disambiguate / unknown.

    The decision reads the ranker's calibrated probability (``calibration``, chosen by
    cross-validation: ``make eval-faq ARGS=--calibrate``).
    """

    def __init__(
        self,
        calibration: Calibration = DEFAULT_CALIBRATION,
        background: bool = True,
        watch_interval: float | None = WATCH_INTERVAL_SECONDS,
        fit_processes: int = 1,
    ) -> None:
        self.calibration = calibration
        # Worker processes a large fit is split over (``Settings.faq_fit_processes``; 1: none).
        self.fit_processes = fit_processes
        self.background = background
        self.watch_interval = watch_interval
        self._state: _State | None = None
        self._version: tuple[Any, ...] | None = None
        self._lock = threading.Lock()
        self._refit_lock = threading.Lock()
        self._refit_wanted = threading.Event()
        self._refit_thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._engine: Any = None
        self.refits = 0  # full fits finished (tests and logs)

    # --- keeping the model in step -------------------------------------------------------------------

    @staticmethod
    def _store_version(session: Session) -> tuple[Any, ...]:
        return tuple(session.execute(select(func.count(FaqEntry.id), func.max(FaqEntry.updated_at))).one())

    @staticmethod
    def _load(session: Session) -> list[tuple[FaqEntry, TrainingEntry]]:
        entries = session.scalars(
            select(FaqEntry)
            .where(FaqEntry.active == True)  # noqa: E712
            .order_by(FaqEntry.id)
        ).all()
        return [(e, training_entry(e)) for e in entries]

    def _state_for(self, session: Session) -> _State:
        """The current model and entry snapshot, updated when the store changed."""
        version = self._store_version(session)
        with self._lock:
            if self._state is not None and version == self._version:
                return self._state
            loaded = self._load(session)
            entries = {t.key: _Meta(e.id, e.key, e.question, e.category) for e, t in loaded}
            training = [t for _, t in loaded]
            ranker = self._state.ranker if self._state is not None else None
            stale = [t for t in training if ranker is None or ranker.fingerprints.get(t.key) != t.fingerprint]
            if ranker is None or not self.background or not training:
                ranker = Ranker.fit(training, processes=self.fit_processes) if training else None
                if ranker is not None:
                    self.refits += 1
                    logger.info("faq ranker fitted on %d entries in %.1f s", len(training), ranker.fit_seconds)
            else:
                if 0 < len(stale) <= PATCH_LIMIT:
                    ranker = ranker.patched(stale)
                    logger.info("faq ranker patched for %s; full refit scheduled", [t.key for t in stale])
                elif stale:  # an import: patching each would hold this message up too long
                    logger.info(
                        "faq ranker: %d entries changed; the previous model serves until the background refit",
                        len(stale),
                    )
                self._schedule_refit(session)
            self._state = _State(ranker, entries, _programmes(entries))
            self._version = version
            self._ensure_watcher(session)
            return self._state

    def _schedule_refit(self, session: Session) -> None:
        """Refit on the whole store in the background (or now, when ``background`` is off)."""
        self._engine = session.get_bind().engine  # an Engine, also when bound to a Connection
        self._refit_wanted.set()
        if self._refit_thread is None or not self._refit_thread.is_alive():
            self._refit_thread = threading.Thread(target=self._refit_loop, name="faq-refit", daemon=True)
            self._refit_thread.start()

    def _refit_loop(self) -> None:
        while self._refit_wanted.is_set():
            time.sleep(REFIT_DELAY_SECONDS)  # let a burst of edits (an import) settle
            self._refit_wanted.clear()
            try:
                self._refit()
            except Exception:  # noqa: BLE001 - the old model keeps serving; retried on next change
                logger.exception("faq ranker refit failed; the previous model keeps serving")

    def _refit(self) -> None:
        """Fit on a fresh snapshot and swap it in unless the store changed meanwhile."""
        with self._refit_lock, Session(bind=self._engine) as session:
            version = self._store_version(session)
            loaded = self._load(session)
            training = [t for _, t in loaded]
            ranker = Ranker.fit(training, processes=self.fit_processes) if training else None
            entries = {t.key: _Meta(e.id, e.key, e.question, e.category) for e, t in loaded}
        with self._lock:
            self.refits += 1
            # If the store changed meanwhile, the next search or the watcher patches and
            # schedules another refit; this result is dropped.
            if ranker is not None and version == self._version:
                self._state = _State(ranker, entries, _programmes(entries))
                logger.info("faq ranker refitted on %d entries in %.1f s", len(training), ranker.fit_seconds)

    def wait_for_refit(self, timeout: float = 60.0) -> bool:
        """Block until no refit is pending or running (tests, benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            thread = self._refit_thread
            if not self._refit_wanted.is_set() and (thread is None or not thread.is_alive()):
                return True
            time.sleep(0.05)
        return False

    def _ensure_watcher(self, session: Session) -> None:
        """Start the thread that notices edits even while nobody asks anything."""
        if not self.background or not self.watch_interval or self._watcher is not None:
            return
        self._engine = session.get_bind().engine  # an Engine, also when bound to a Connection
        self._watcher = threading.Thread(target=self._watch, name="faq-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        # Its own engine without a pool: no connection stays open between checks.
        engine = create_engine(self._engine.url, poolclass=NullPool)
        while True:
            time.sleep(self.watch_interval or WATCH_INTERVAL_SECONDS)
            try:
                with Session(bind=engine) as session:
                    self._state_for(session)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the watcher
                logger.warning("faq watcher could not check the store", exc_info=True)

    # --- searching -----------------------------------------------------------------------------------

    def rank(
        self,
        session: Session,
        text: str,
        category: str | None = None,
        limit: int | None = DECISION_DEPTH,
        context: str | None = None,
    ) -> list[tuple[str, float]]:
        """(key, margin) of the active entries best first (``limit`` of them, None: all),
        ``__none__`` included; entries in the topic the NLU model recognised get a small bonus."""
        return _ranked(self._state_for(session), text, category, limit, context)

    def search(
        self, session: Session, text: str, category: str | None = None, strict: bool = False, context: str | None = None
    ) -> SearchResult:
        """Rank entries for ``text`` and decide; ``strict`` when the NLU model could not place it,
        which asks for a higher probability before answering or offering; ``context`` is the
        previous question when ``text`` is a follow-up that leans on it."""
        ranked = self.rank(session, text, category=category, context=context, limit=None)
        state = self._state
        calibration = strict_calibration(self.calibration) if strict else self.calibration
        programmes = state.programmes if state else ProgrammeNames.of([])
        decided = decide_message(
            text,
            ranked,
            calibration,
            programmes,
            lambda clause: _ranked(state, clause, None, None, None) if state else [],
            follow_up=context is not None,
        )
        metas = state.entries if state else {}
        scores = dict(ranked)

        def candidate(key: str, confidence: float = 0.0) -> Candidate:
            meta = metas[key]
            return Candidate(
                meta.entry_id, key, meta.question, meta.category, round(scores[key], 4), round(confidence, 4)
            )

        decision, keys, probability = decided.decision, decided.keys, decided.probability
        # The answered entry first (a clause's answer may rank below others for the whole message).
        first = keys[:1] if decision == "answer" else []
        listed = first + [k for k, _ in ranked[:DECISION_DEPTH] if k in metas and k not in first]
        return SearchResult(
            decision,
            [candidate(k, probability if n == 0 else 0.0) for n, k in enumerate(listed)],
            [candidate(k) for k in keys if k in metas],
            probability,
            decided.asked.name if decided.asked else None,
            [candidate(c.key, c.probability) for c in decided.also if c.key in metas],
            [candidate(k) for k in decided.also_offered if k in metas],
        )


@dataclass(frozen=True)
class _Meta:
    entry_id: int
    key: str
    question: str
    category: str


@dataclass(frozen=True)
class _State:
    ranker: Ranker | None
    entries: dict[str, _Meta]
    programmes: ProgrammeNames


def _ranked(
    state: _State, text: str, category: str | None, limit: int | None, context: str | None
) -> list[tuple[str, float]]:
    """``FaqSearcher.rank`` on a state already loaded."""
    if state.ranker is None or not text.strip():
        return []
    scores = state.ranker.scores(text, context)
    ranked = []
    for key, score in scores.items():
        meta = state.entries.get(key)
        if meta is None and key != NONE_CLASS:
            continue  # deactivated or deleted since the model was fitted
        if category and meta is not None and meta.category == category:
            score += CATEGORY_BONUS
        ranked.append((key, score))
    ranked.sort(key=lambda item: item[1], reverse=True)
    return ranked[:limit] if limit is not None else ranked


def _programmes(entries: dict[str, _Meta]) -> ProgrammeNames:
    return ProgrammeNames.of((m.key, m.question, m.category) for m in entries.values())
