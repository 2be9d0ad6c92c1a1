"""The trained Rasa model loaded for dialogue tests that run the real rules and forms."""

from __future__ import annotations

from typing import Any

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
