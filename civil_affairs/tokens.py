"""The one comparison of shared secrets (CSRF tokens, the action token, Rasa's REST channel token).

Every check of a secret a caller presents goes through ``tokens_match``, so each is constant-time
and none accepts an empty token by accident (an unset setting must never open a door).
"""

from __future__ import annotations

import secrets

# The header every channel (console, bot, scripts) sends to Rasa's REST channel with RASA_REST_TOKEN
# (servers.rest_channel checks it).
REST_TOKEN_HEADER = "X-Rasa-Rest-Token"


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison; an empty value never matches, non-ASCII is compared (never an error)."""
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
