"""Rasa's SQL tracker store on the application database, masking personal numbers before storing.

Configured in ``endpoints.yml`` (``tracker_store: type: civil_affairs.ops.tracker_store.
MaskingSQLTrackerStore``). It reads ``DATABASE_URL`` through the service's settings, so Rasa keeps
its conversations in the same SQLite file or PostgreSQL database as everything else, in the
``rasa_tracker_event`` table created by the migrations. Every Rasa replica reads and writes the same
table, which (with the Redis lock store) lets any replica continue any conversation, and a
restarted Rasa continues an open booking form.

Rasa's own SQL tracker store rebuilds a tracker from all events of the current session on every
message, and every policy prediction then walks that whole history again (``past_states``), as does
the tracker sent to the action server: a conversation's 80th message cost twice its first. This
store hands Rasa a *compacted* tracker instead (``compact_rows``): the session start, the value each
slot had, and only the last ``KEEP_TURNS`` resident turns. Every rule spans a single resident turn,
the actions read slots (and the booking form's activation, which is never cut), so predictions and
answers are the same, and the work per message no longer grows with the conversation.
``retrieve_full_tracker`` (Rasa's HTTP API, exports) still returns every event.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import ujson
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import TrackerEvent
from civil_affairs.ops import metrics
from civil_affairs.ops.tracker_events import mask_event
from civil_affairs.ops.worker_threads import WorkerThreads

logger = logging.getLogger(__name__)

# Resident turns a compacted tracker keeps (every rule of dialogue/ spans one; see the module docstring).
KEEP_TURNS = 5
# Events that reset every slot (and, but for ``reset_slots``, the whole tracker) when applied.
_RESET_TYPES = ("session_started", "restart", "reset_slots")
_LOOP_TYPES = ("active_loop", "form")
# Number of events of a retrieved tracker already stored: ``save`` appends only what follows.
_STORED_ATTR = "_civil_affairs_stored_events"
# Threads that wait for the database for one Rasa process: conversations handled at once that can
# wait together (SQLite serialises writers anyway; PostgreSQL takes them in parallel).
DB_THREADS = 4


def _current_session_statements() -> tuple[sa.Select, sa.Select, sa.Select]:
    """The retrieve queries, built once: a conversation's current session (Rasa's ``_event_query``:
    events from the latest ``session_started`` on, by timestamp, in id order) as (id, type, action
    name) rows, as stored data, and the stored data of a compaction's events.

    Rasa builds them with the ORM's ``Query`` on every message; reading the rows through it cost
    about a tenth of Rasa's CPU per message.
    """
    event = TrackerEvent
    sender = event.sender_id == sa.bindparam("sender_id")
    start = (
        sa.select(sa.func.max(event.timestamp))
        .where(event.sender_id == sa.bindparam("sender_id"), event.type_name == "session_started")
        .scalar_subquery()
    )
    current = sa.and_(sender, sa.or_(event.timestamp >= start, start.is_(None)))
    rows = sa.select(event.id, event.type_name, event.action_name).where(current).order_by(event.id)
    data = sa.select(event.data).where(current).order_by(event.id)
    compacted = (
        sa.select(event.data)
        .where(
            sender,
            sa.or_(
                event.id.in_(sa.bindparam("head_ids", expanding=True)),
                event.id.between(sa.bindparam("tail_from"), sa.bindparam("tail_to")),
            ),
        )
        .order_by(event.id)
    )
    return rows, data, compacted


_SESSION_ROWS, _SESSION_DATA, _COMPACTED_DATA = _current_session_statements()


@dataclass(frozen=True)
class Compaction:
    """Which stored events a compacted tracker is rebuilt from."""

    head_ids: list[int]  # kept from before the cut: the last reset, the pause state, each slot's value
    tail_from: int  # id of the first event of the kept turns; every later event is kept


def compact_rows(rows: Sequence[tuple[int, str, str | None]], keep_turns: int = KEEP_TURNS) -> Compaction | None:
    """How to compact a session whose events are ``rows``, or None to keep them all.

    ``rows`` are (id, type_name, action_name) of the session's events in order; ``action_name``
    holds the slot's name for slot events and the loop's for loop events. The cut is at an
    ``action_listen`` followed by a resident message, at least ``keep_turns`` such messages from
    the end, and never inside an active loop (a form's events are kept whole, including its
    activation, which the booking action reads). Before the cut only the session start, the last
    reset, the pause state and the latest value of each slot are kept.
    """
    users = [position for position, row in enumerate(rows) if row[1] == "user"]
    if len(users) <= keep_turns:
        return None
    first_kept_user = users[-keep_turns]
    cut = None
    loop_active = False
    for position, (_id, type_name, name) in enumerate(rows[: first_kept_user + 1]):
        if type_name in _LOOP_TYPES:
            loop_active = bool(name)
        elif type_name in ("session_started", "restart"):
            loop_active = False
        elif (
            type_name == "user"
            and position > 1
            and not loop_active
            and rows[position - 1][1:] == ("action", "action_listen")
        ):
            cut = position - 1
    if cut is None:
        return None
    head = rows[:cut]
    kept = [row[0] for row in head if row[1] == "session_started"][-1:]
    base = max((position for position, row in enumerate(head) if row[1] in _RESET_TYPES), default=-1)
    if base >= 0 and head[base][1] != "session_started":
        kept.append(head[base][0])
    after_base = head[base + 1 :]
    # Pausing survives ``reset_slots`` but not a session start or a restart.
    restarted = max(
        (position for position, row in enumerate(head) if row[1] in ("session_started", "restart")), default=-1
    )
    kept += [row[0] for row in head[restarted + 1 :] if row[1] in ("pause", "resume")][-1:]
    latest_slot: dict[str | None, int] = {}
    for event_id, type_name, name in after_base:
        if type_name == "slot":
            latest_slot[name] = event_id
    kept += latest_slot.values()
    return Compaction(head_ids=sorted(kept), tail_from=rows[cut][0])


class MaskingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` on ``DATABASE_URL`` (table ``rasa_tracker_event``), storing masked events."""

    SQLEvent = TrackerEvent

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Rasa passes the endpoint's ``url`` as ``host``; without one, the service's database is used.
        database_url = url or (host if host and "://" in host else "") or Settings.from_env().database_url
        # The table comes from the migrations, so unlike SQLTrackerStore nothing is created here.
        self.engine = make_engine(database_url)
        self.sessionmaker = make_session_factory(self.engine)
        # Database round trips run here, off Rasa's event loop (a synchronous query there stalled
        # every other conversation of the replica: a third of its time under load). The
        # conversation lock keeps one conversation's reads and writes in order.
        self._db = WorkerThreads("tracker-db", DB_THREADS)
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        self._replica = Settings.from_env().process_name or "rasa"
        logger.info(
            "conversation events stored in %s (table %s)",
            self.engine.url.get_backend_name(),
            TrackerEvent.__tablename__,
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's current session, compacted to its last turns (see ``compact_rows``)."""
        data = await self._db.run(self._read_current_session, sender_id)
        if data is None or self.domain is None:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [ujson.loads(item) for item in data], self.domain.slots)
        # Everything in it is stored already; ``save`` appends what the processor adds after this.
        setattr(tracker, _STORED_ATTR, len(tracker.events))
        metrics.TRACKER_EVENTS.labels(replica=self._replica).observe(len(tracker.events))
        return tracker

    def _read_current_session(self, sender_id: str) -> Sequence[str] | None:
        """The stored events to rebuild the tracker from (None: no conversation), in a worker thread."""
        with self.session_scope() as session:
            rows = [tuple(row) for row in session.execute(_SESSION_ROWS, {"sender_id": sender_id})]
            if not rows:
                return None
            compaction = compact_rows(rows)
            if compaction is None:
                return session.scalars(_SESSION_DATA, {"sender_id": sender_id}).all()
            # Events stored after ``rows`` was read (none, under the conversation lock) wait.
            return session.scalars(
                _COMPACTED_DATA,
                {
                    "sender_id": sender_id,
                    "head_ids": compaction.head_ids,
                    "tail_from": compaction.tail_from,
                    "tail_to": rows[-1][0],
                },
            ).all()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events, masked, in one transaction."""
        await self.stream_events(tracker)
        stored = getattr(tracker, _STORED_ATTR, None)
        if stored is None:
            # Not retrieved from this store: compare with the table, as Rasa does.
            await self._db.run(self._append_unstored, tracker)
        else:
            await self._db.run(
                self._append, self._rows(tracker.sender_id, itertools.islice(tracker.events, stored, None))
            )
        setattr(tracker, _STORED_ATTR, len(tracker.events))

    def _rows(self, sender_id: str, events: Iterable[Event]) -> list[dict[str, Any]]:
        """Table rows of ``events``, masked."""
        rows = []
        for event in events:
            data = mask_event(event.as_dict())
            if event.type_name == "user" and getattr(event, "intent_name", None) == "nlu_fallback":
                metrics.FALLBACKS.labels(replica=self._replica).inc()
            rows.append(
                {
                    "sender_id": sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data, ensure_ascii=False),
                }
            )
        return rows

    def _append(self, rows: list[dict[str, Any]]) -> None:
        """One INSERT executed for all rows, in order (ids follow the events), in a worker thread: the
        ORM's unit of work per event was most of a save's time."""
        if not rows:
            return
        with self.session_scope() as session:
            session.execute(sa.insert(TrackerEvent), rows)
            session.commit()

    def _append_unstored(self, tracker: DialogueStateTracker) -> None:
        """Append what the table lacks of a tracker this store did not retrieve, in a worker thread."""
        with self.session_scope() as session:
            rows = self._rows(tracker.sender_id, self._additional_events(session, tracker))
        self._append(rows)
