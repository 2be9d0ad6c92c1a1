"""Sealed values: a personal number a form needs for a few turns travels encrypted, never in clear.

The booking form needs both ID numbers and the phone number until the resident confirms, and Rasa
keeps slots in its tracker store (the database). Sealed with a key derived from ``SECRET_KEY``,
they are useless to anyone reading the database or a log; the tracker store's masking leaves such
long opaque tokens alone (masking would destroy them) and masks anything that still looks like a
raw ID or phone number.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:"


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"civil-affairs slot seal\0" + secret_key.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value: str, secret_key: str) -> str:
    """``value`` encrypted and authenticated with ``secret_key``."""
    return PREFIX + _fernet(secret_key).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(value: str | None, secret_key: str) -> str | None:
    """The clear value of a sealed one; an unsealed value is returned as is, a forged one as None."""
    if not value or not value.startswith(PREFIX):
        return value
    try:
        return _fernet(secret_key).decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
