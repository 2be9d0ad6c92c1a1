"""One action call per form turn: Rasa takes the question the validation action already sent.

Rasa 3.6's ``FormAction`` calls ``validate_<form>`` and then the ask action of the slot it requests
next: two calls to the action server for each answer in a form. The validation actions
(``actions.asking.AsksNextQuestion``) now send that question themselves, marked with the slot's name
(``FORM_QUESTION_KEY`` in the message's metadata), when Rasa says it takes such questions
(``RASA_TAKES_QUESTIONS_KEY`` in the domain sent to them, added by ``servers.rasa_fixes``).

Two narrow changes to ``FormAction``:

- ``_ask_for_slot``: when this run's events (after the form's own ``ActionExecuted`` on the tracker
  Rasa builds for the question) hold the marked question for the slot about to be asked, those
  messages are the answer, unmarked, instead of a call to the ask action. Otherwise Rasa's own.
- ``run``: the marked messages are taken out of the validation's events, so every question stands
  where Rasa's ask action put it, and the channels and the tracker store never see the mark. A marked
  question Rasa did not ask (the validation action guessed wrong) is dropped with a warning: the
  resident then gets exactly what Rasa would have sent.

When the form comes back after an interruption, Rasa validates without candidates and the
validation action does not ask (it cannot tell that turn from a rejected one), so Rasa asks as before.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from actions.asking import FORM_QUESTION_KEY

logger = logging.getLogger(__name__)

_RASA_ASK_FOR_SLOT: Any = None  # Rasa's own ``FormAction._ask_for_slot``
_RASA_RUN: Any = None  # Rasa's own ``FormAction.run`` (``LoopAction.run``)
_INSTALLED = False
_TAKEN: ContextVar[list[str] | None] = ContextVar("form_questions_taken", default=None)


def marked_slot(event: Any) -> str | None:
    """The slot a validation action's question message asks for, or None for any other event."""
    from rasa.shared.core.events import BotUttered

    return event.metadata.get(FORM_QUESTION_KEY) if isinstance(event, BotUttered) and event.metadata else None


def unmarked(event: Any) -> Any:
    """The message as Rasa's ask action call would have made it (without the mark)."""
    from rasa.shared.core.events import BotUttered

    metadata = {k: v for k, v in event.metadata.items() if k != FORM_QUESTION_KEY}
    return BotUttered(event.text, event.data, metadata, timestamp=event.timestamp)


def questions_sent(tracker: Any, form_name: str, slot: str) -> list[Any]:
    """This run's marked messages asking ``slot``: the events after the form's ``ActionExecuted``."""
    from rasa.shared.core.events import ActionExecuted

    found = []
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name == form_name:
            break
        if marked_slot(event) == slot:
            found.append(event)
    return found[::-1]


async def ask_for_slot(self: Any, domain: Any, nlg: Any, output_channel: Any, slot_name: str, tracker: Any) -> Any:
    """``FormAction._ask_for_slot``, taking the validation action's question for ``slot_name`` if sent."""
    sent = questions_sent(tracker, self.name(), slot_name)
    if not sent:
        return await _RASA_ASK_FOR_SLOT(self, domain, nlg, output_channel, slot_name, tracker)
    taken = _TAKEN.get()
    if taken is not None:
        taken.append(slot_name)
    return [unmarked(event) for event in sent]


async def form_run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
    """``FormAction.run`` without the marked messages (their unmarked copies stand where Rasa asks)."""
    token = _TAKEN.set([])
    try:
        events = await _RASA_RUN(self, output_channel, nlg, tracker, domain)
        taken = _TAKEN.get() or []
    finally:
        _TAKEN.reset(token)
    marked = {slot for slot in map(marked_slot, events) if slot}
    if not marked:
        return events
    if marked - set(taken):
        logger.warning("form %s: dropped a question Rasa did not ask (%s)", self.name(), sorted(marked - set(taken)))
    return [event for event in events if not marked_slot(event)]


def installed() -> bool:
    """Whether Rasa takes marked questions (``servers.rasa_fixes`` then tells the validation actions)."""
    return _INSTALLED


def install() -> None:
    """Patch ``FormAction`` (called by ``servers.rasa_fixes.install``; idempotent)."""
    global _RASA_ASK_FOR_SLOT, _RASA_RUN, _INSTALLED
    from rasa.core.actions.forms import FormAction

    if _INSTALLED:
        return
    _RASA_ASK_FOR_SLOT = FormAction._ask_for_slot
    _RASA_RUN = FormAction.run
    FormAction._ask_for_slot = ask_for_slot
    FormAction.run = form_run
    _INSTALLED = True


def uninstall() -> None:
    """Rasa's own methods again (tests compare with them)."""
    global _INSTALLED
    from rasa.core.actions.forms import FormAction

    if _INSTALLED:
        FormAction._ask_for_slot = _RASA_ASK_FOR_SLOT
        del FormAction.run  # inherited from LoopAction again
        _INSTALLED = False
