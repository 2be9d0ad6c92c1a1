"""This service's speed fixes to Rasa, installed by ``servers.rasa_run`` before Rasa's own ``main`` runs:

- **one action-response validator, built once**: Rasa 3.6 checks every action server answer with
  ``jsonschema.validate(answer, schema)``, which first re-validates the (large) schema itself
  against JSON Schema's meta-schema, on every action call. That was the largest single cost of a
  message (``scripts/profile_message.py``: about a third of Rasa's time per message). The schema is
  checked once here; each answer is validated as before, with Rasa's error message.
- **event classes looked up once**: rebuilding a conversation turns every stored event into its
  class with ``Event.resolve_by_type``, which walks the whole tree of ``Event`` subclasses (and
  asks ``inspect.isabstract`` of each) for every event: a sixth of Rasa's CPU per message in a
  profile. A found class is remembered by its type name; unknown names go to Rasa's own lookup.

Everything else is Rasa's: arguments, logging, channels, endpoints.
"""

from __future__ import annotations

import functools
from typing import Any

_INSTALLED = False


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """A validator for Rasa's action-server answer schema; the schema itself is checked once, here."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the prebuilt validator (same errors as Rasa's)."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


_EVENT_CLASSES: dict[str, Any] = {}
_RASA_RESOLVE_BY_TYPE: Any = None  # Rasa's own lookup, kept by ``install``


def resolve_event_type(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type``, remembering each class it finds (the event classes never change)."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    found = _EVENT_CLASSES.get(type_name)
    if found is not None:
        return found
    for cls in all_subclasses(Event):
        if cls.type_name == type_name:
            _EVENT_CLASSES[type_name] = cls
            return cls
    return _RASA_RESOLVE_BY_TYPE(type_name, default)  # Rasa's answer for unknown names (or an error)


def install() -> None:
    """Install the fixes into Rasa (idempotent). ``scripts/profile_message.py`` uses it too."""
    global _INSTALLED, _RASA_RESOLVE_BY_TYPE
    if _INSTALLED:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    RemoteAction._validate_action_result = _validate_action_result
    _RASA_RESOLVE_BY_TYPE = Event.resolve_by_type
    Event.resolve_by_type = staticmethod(resolve_event_type)
    _INSTALLED = True
