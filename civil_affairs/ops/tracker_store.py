"""Rasa's SQL tracker store on the application database, masking personal numbers before storing.

Configured in ``endpoints.yml`` (``tracker_store: type: civil_affairs.ops.tracker_store.
MaskingSQLTrackerStore``). It reads ``DATABASE_URL`` through the service's settings, so Rasa keeps
its conversations in the same SQLite file or PostgreSQL database as everything else, in the
``rasa_tracker_event`` table created by the migrations. Every Rasa replica reads and writes the same
table, which (with the Redis lock store) lets any replica continue any conversation, and a
restarted Rasa continues an open booking form.

Rasa rebuilds a tracker from all events of the current session on every message (see
``SQLTrackerStore._retrieve``); the index on (sender_id, type_name, timestamp) keeps the session
lookup cheap, but the replay itself grows with the session.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import TrackerEvent
from civil_affairs.ops import metrics
from civil_affairs.ops.tracker_events import mask_event

logger = logging.getLogger(__name__)


class MaskingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` on ``DATABASE_URL`` (table ``rasa_tracker_event``), storing masked events."""

    SQLEvent = TrackerEvent

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, url: str | None = None, **kwargs: Any) -> None:
        # Rasa passes the endpoint's ``url`` as ``host``; without one, the service's database is used.
        database_url = url or (host if host and "://" in host else "") or Settings.from_env().database_url
        # The table comes from the migrations, so unlike SQLTrackerStore nothing is created here.
        self.engine = make_engine(database_url)
        self.sessionmaker = make_session_factory(self.engine)
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        self._replica = Settings.from_env().process_name or "rasa"
        logger.info("conversation events stored in %s (table %s)", self.engine.url.get_backend_name(),
                    TrackerEvent.__tablename__)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's current session, rebuilt from its stored events."""
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            metrics.TRACKER_EVENTS.labels(replica=self._replica).observe(len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events, masked, in one transaction."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = mask_event(event.as_dict())
                if event.type_name == "user" and getattr(event, "intent_name", None) == "nlu_fallback":
                    metrics.FALLBACKS.labels(replica=self._replica).inc()
                session.add(TrackerEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"),
                    data=json.dumps(data, ensure_ascii=False),
                ))
            session.commit()
