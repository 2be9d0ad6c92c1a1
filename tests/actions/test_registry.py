"""Every custom action the domain names is registered by the action server's executor."""

from __future__ import annotations

import inspect

from rasa_sdk.executor import ActionExecutor

from actions.asking import AskForSlot


def test_every_domain_action_is_registered(domain: dict) -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    custom = [a for a in domain["actions"] if a.startswith(("action_", "validate_"))]
    missing = [name for name in custom if name not in executor.actions]
    assert not missing, f"domain names unregistered actions: {missing}"


def test_every_asked_form_slot_has_a_question(domain: dict) -> None:
    """Forms ask with action_ask_<form>_<slot> or action_ask_<slot> (actions/asking.py), not responses."""
    never_asked = {"booking_kind", "booking_abort"}  # read from the request itself / set by validation
    executor = ActionExecutor()
    executor.register_package("actions")
    assert inspect.isabstract(AskForSlot)  # so the executor does not try to register the base
    for form, spec in domain["forms"].items():
        for slot in set(spec["required_slots"]) - never_asked:
            names = [f"action_ask_{form}_{slot}", f"action_ask_{slot}"]
            assert any(n in domain["actions"] and n in executor.actions for n in names), (form, slot)
    assert not [r for r in domain["responses"] if r.startswith("utter_ask_")]
