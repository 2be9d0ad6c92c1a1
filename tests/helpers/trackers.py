"""Build rasa-sdk trackers for action tests without eight positional arguments."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def make_tracker(
    text: str = "",
    intent: str = "ask_benefits",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    sender_id: str = "test-sender",
    confidence: float = 0.9,
) -> Tracker:
    """A tracker whose latest message is ``text`` classified as ``intent`` (at ``confidence``) with
    ``entities``."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [],
    }
    return Tracker(
        sender_id,
        slots or {},
        latest,
        [{"event": "user", "text": text, "parse_data": latest}],
        False,
        None,
        {},
        "action_listen",
    )
