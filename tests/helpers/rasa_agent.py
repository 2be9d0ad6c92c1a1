"""The trained Rasa model loaded for dialogue tests that run the real rules and forms."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.utils.endpoints import EndpointConfig

from civil_affairs.config import PROJECT_ROOT


def trained_agent() -> Any:
    """The current data's model with in-memory trackers; its action endpoint is a placeholder that
    the tests patch (``EndpointConfig.request``) to run the actions in process."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore

    from civil_affairs.rasa_model import ensure_model

    return Agent.load(
        str(ensure_model(PROJECT_ROOT / "models")),
        tracker_store=InMemoryTrackerStore(None),
        action_endpoint=EndpointConfig("http://actions.invalid/webhook"),
    )


def turn(agent: Any, sender: str, text: str, intent: str | None = None, confidence: float = 0.6) -> list[dict]:
    """The bot's messages for one turn of ``sender``; ``intent`` overrides what the model understood
    (a reading the model might give another resident's wording)."""
    original = agent.processor.parse_message

    async def parse(message: UserMessage, *args: Any, **kwargs: Any) -> dict:
        parsed = await original(message, *args, **kwargs)
        if intent:
            parsed["intent"] = {"name": intent, "confidence": confidence}
            parsed["intent_ranking"] = [parsed["intent"]]
        return parsed

    output = CollectingOutputChannel()
    with mock.patch.object(agent.processor, "parse_message", parse):
        asyncio.run(agent.handle_message(UserMessage(text, output, sender_id=sender)))
    return output.messages
