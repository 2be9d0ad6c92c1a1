"""Rasa's stored conversation events as the rest of the service sees them, without importing Rasa.

Two jobs: mask ID and phone numbers in an event before it is stored (defence in depth: no slot
should hold one, but if one ever does it is stored masked), and find the answer Rasa already gave
to a message, so a channel that lost the HTTP answer (a Rasa replica died) replays it instead of
asking Rasa twice.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs.models import TrackerEvent
from civil_affairs.privacy import mask_personal_data

# The channels tag each resident message with this metadata key (REST channel ``metadata``).
MESSAGE_ID_KEY = "channel_message_id"
# Hashes (lowercase hex) and sealed values (civil_affairs.sealing) are long opaque tokens; masking a
# digit run inside one would corrupt it. Nothing else is exempt: a resident's text such as
# "110105-19491231-002X-13812345678-…" is long and token-like too.
_OPAQUE_TOKEN_RE = re.compile(r"^(?:sealed:[A-Za-z0-9_=-]{32,}|[0-9a-f]{32,})$")
# How far back to look for a message being retried: retries follow the failure within seconds.
_RECENT_USER_EVENTS = 20
_TURN_EVENTS_LIMIT = 200


def mask_value(value: Any) -> Any:
    """``value`` with ID and phone numbers masked in every string inside it (lists and dicts too)."""
    if isinstance(value, str):
        return value if _OPAQUE_TOKEN_RE.match(value) else mask_personal_data(value)
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    return value


def mask_event(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of one serialised Rasa event with personal numbers masked where people's words are.

    Masked: what the resident typed (text, parsed text, entity values), what the bot said (text
    and its buttons/attachments) and slot values. Names of intents, actions and slots, timestamps
    and metadata are left as they are, so the tracker rebuilt from storage behaves the same.
    """
    masked = dict(data)
    kind = data.get("event")
    if "text" in masked:
        masked["text"] = mask_value(masked["text"])
    if kind == "user" and isinstance(masked.get("parse_data"), dict):
        parse_data = dict(masked["parse_data"])
        parse_data["text"] = mask_value(parse_data.get("text"))
        parse_data["entities"] = _mask_entities(parse_data.get("entities"))
        masked["parse_data"] = parse_data
    if kind == "entities":
        masked["entities"] = _mask_entities(masked.get("entities"))
    if kind == "slot":
        masked["value"] = mask_value(masked.get("value"))
    if kind == "bot" and "data" in masked:
        masked["data"] = mask_value(masked["data"])
    return masked


def _mask_entities(entities: Any) -> Any:
    if not isinstance(entities, list):
        return entities
    return [
        {**entity, "value": mask_value(entity.get("value"))} if isinstance(entity, dict) else entity
        for entity in entities
    ]


def answered_turn(sender_id: str, message_id: str, *, session: Session) -> list[dict[str, Any]] | None:
    """What the bot answered to the message tagged ``message_id``, if Rasa stored the whole turn.

    Returns the answers in the REST channel's JSON shape (``text``, ``buttons``, ``image``,
    ``custom``), ``[]`` when Rasa answered nothing, and None when the message is not stored (Rasa
    never processed it, or died before saving the turn — the save is one transaction).
    """
    recent = session.execute(
        select(TrackerEvent.id, TrackerEvent.data)
        .where(TrackerEvent.sender_id == sender_id, TrackerEvent.type_name == "user")
        .order_by(TrackerEvent.id.desc())
        .limit(_RECENT_USER_EVENTS)
    ).all()
    user_event_id = next((row.id for row in recent if _message_id(row.data) == message_id), None)
    if user_event_id is None:
        return None
    later = session.execute(
        select(TrackerEvent.type_name, TrackerEvent.action_name, TrackerEvent.data)
        .where(TrackerEvent.sender_id == sender_id, TrackerEvent.id > user_event_id)
        .order_by(TrackerEvent.id)
        .limit(_TURN_EVENTS_LIMIT)
    ).all()
    answers: list[dict[str, Any]] = []
    for row in later:
        if row.type_name == "user":
            break
        if row.type_name == "bot":
            answers.append(_rest_message(json.loads(row.data or "{}")))
        elif row.type_name == "action" and row.action_name == "action_listen":
            return answers
    return None


def _message_id(data: str | None) -> str | None:
    try:
        event = json.loads(data or "{}")
    except ValueError:
        return None
    metadata = event.get("metadata") if isinstance(event, dict) else None
    return metadata.get(MESSAGE_ID_KEY) if isinstance(metadata, dict) else None


def _rest_message(event: dict[str, Any]) -> dict[str, Any]:
    """The REST channel's JSON for a stored ``bot`` event."""
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    message: dict[str, Any] = {"text": event.get("text")}
    for key in ("buttons", "image", "custom", "attachment"):
        if data.get(key):
            message[key] = data[key]
    return message
