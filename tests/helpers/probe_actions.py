"""Actions for testing the action server's entry module: one answers, one fails, one waits."""

from __future__ import annotations

import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionProbeOk(Action):
    """Answers with the sender id, proving the action ran."""

    def name(self) -> str:
        return "action_probe_ok"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        dispatcher.utter_message(text=f"ran for {tracker.sender_id}")
        return []


class ActionProbeFail(Action):
    """Fails with the resident's words in the exception, as a bug in an action might."""

    def name(self) -> str:
        return "action_probe_fail"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        raise ValueError(f"could not handle {tracker.latest_message.get('text')}")


class ActionProbeSlow(Action):
    """Waits synchronously, as an action waiting for a slow database does."""

    def name(self) -> str:
        return "action_probe_slow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        time.sleep(1.0)
        dispatcher.utter_message(text="slow done")
        return []
