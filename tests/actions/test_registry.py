"""Every custom action the domain names is registered by the action server's executor."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor


def test_every_domain_action_is_registered(domain: dict) -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    custom = [a for a in domain["actions"] if a.startswith(("action_", "validate_"))]
    missing = [name for name in custom if name not in executor.actions]
    assert not missing, f"domain names unregistered actions: {missing}"
