"""This service's speed fixes to Rasa, installed by ``servers.rasa_run`` before Rasa's own ``main`` runs:

- **one action-response validator, built once**: Rasa 3.6 checks every action server answer with
  ``jsonschema.validate(answer, schema)``, which first re-validates the (large) schema itself
  against JSON Schema's meta-schema, on every action call. That was the largest single cost of a
  message (``scripts/profile_message.py``: about a third of Rasa's time per message). The schema is
  checked once here; each answer is validated as before, with Rasa's error message.

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


def install() -> None:
    """Install the fixes into Rasa (idempotent). ``scripts/profile_message.py`` uses it too."""
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
    _INSTALLED = True
