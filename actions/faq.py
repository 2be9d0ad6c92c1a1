"""Policy questions: answer from the FAQ store, offer "您是想问…" candidates, or admit not knowing."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import texts
from actions.common import INTENT_CATEGORIES, services
from actions.escalation import hand_over, send_emergency_help, send_hotlines
from civil_affairs.conversations.emergency import is_self_harm, looks_urgent, tells_without_asking
from civil_affairs.faq.search import Candidate, SearchResult
from civil_affairs.faq.store import find_entry, format_answer, record_unanswered
from civil_affairs.models import FaqEntry
from civil_affairs.text import has_meaningful_text, normalize

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
MAX_SUGGESTIONS = 4  # "您是想问…" offers 2-3 entries; a programme named alone, up to 4
MISUNDERSTOOD_LIMIT = 2
# "那离婚呢？" / "还有补领的呢" / "如果是外地户口呢": short questions that lean on the previous one.
_ELLIPTICAL_RE = re.compile(r"^(那|那么|还有|如果|要是|假如|另外)|呢$")
ELLIPTICAL_MAX_CHARS = 14
# Searched once at start-up to fit the ranker; never shown to anyone.
WARM_UP_QUERY = "低保怎么申请"
# True when the bot's last reply offered FAQ choices with 都不是: a no next means none of them fits
# (dialogue/rules.yml). Any other message closes the offer (domain.yml, the slot's mapping).
OFFER_OPEN = "faq_offer_open"


def is_elliptical(text: str) -> bool:
    """A short follow-up that only makes sense with the previous question."""
    compact = normalize(text).replace(" ", "")
    return len(compact) <= ELLIPTICAL_MAX_CHARS and bool(_ELLIPTICAL_RE.search(compact))


def runner_up_policy_intent(message: dict[str, Any]) -> str | None:
    """Under the fallback threshold, the model's best guess if it is a policy topic.

    A long, colloquial policy question often gets a low but still best score for the right topic;
    that guess is enough to search the right category, while the search itself still decides.
    """
    ranking = [r for r in message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    if ranking and ranking[0].get("name") in INTENT_CATEGORIES:
        return str(ranking[0]["name"])
    return None


def _choice_index(value: str | None) -> int | None:
    """1-based ordinal from the ``choice`` entity ("1", "2", "3")."""
    if value and str(value).strip().isdecimal():
        return int(str(value).strip()) - 1
    return None


def suggestion_buttons(candidates: list[Candidate], with_none: bool = True) -> list[dict[str, str]]:
    """One button per candidate question, plus "都不是" when asking which one was meant."""
    buttons = [
        {"title": c.question, "payload": "/choose_faq" + json.dumps({"faq_key": c.key}, ensure_ascii=False)}
        for c in candidates
    ]
    if with_none:
        # A no: the dialogue reads it as "none of these" because the offer is open (dialogue/rules.yml).
        buttons.append({"title": texts.FAQ_NONE_BUTTON_TITLE, "payload": "/deny"})
    return buttons


def human_button() -> dict[str, str]:
    return {"title": texts.HUMAN_BUTTON_TITLE, "payload": "/request_human"}


async def misunderstood(dispatcher: CollectingDispatcher, tracker: Tracker, reply: str) -> list[EventType]:
    """The bot could not help; the second time in a row a person takes over."""
    count = int(tracker.get_slot("misunderstood_count") or 0) + 1
    if count >= MISUNDERSTOOD_LIMIT:
        dispatcher.utter_message(text=texts.MISUNDERSTOOD_PREFIX + await hand_over(tracker, "misunderstood"))
        return offer_closed(misunderstood_count=0)
    dispatcher.utter_message(text=reply, buttons=[human_button()])
    return offer_closed(misunderstood_count=count)


def offer_closed(misunderstood_count: int) -> list[EventType]:
    """No choices stay open, and the misunderstanding count the next "please rephrase" starts from."""
    return [
        SlotSet("faq_candidates", None),
        SlotSet(OFFER_OPEN, False),
        SlotSet("misunderstood_count", float(misunderstood_count)),
    ]


def offered_within_form(tracker: Tracker, events: list[EventType]) -> list[EventType]:
    """``events`` without opening the offer when a form is active: a no there is the form's (it
    leaves the booking, dialogue/booking.yml), and an offer left open would outlive the form."""
    if not tracker.active_loop_name:
        return events
    return [e for e in events if not (e.get("event") == "slot" and e.get("name") == OFFER_OPEN)]


def told_complaint(intent: str, text: str, result: SearchResult) -> bool:
    """A ``complain`` (without complaint words: ``action_handoff`` let it through) that asks nothing
    and that the FAQ only guesses at: a story told, to which choices are no reply, so staff hear it.
    A programme named alone ("低保") is asked back as always: that is no guess."""
    return (
        intent == "complain"
        and result.decision == "disambiguate"
        and result.programme_name is None
        and tells_without_asking(text)
    )


def search_faq(
    session: Session, query: str, intent: str, context: str | None = None, strict: bool | None = None
) -> SearchResult:
    """The FAQ search and its decision for a message the NLU model classified as ``intent``: the
    topic it recognised gets a bonus, and a message it could not place at all needs more certainty
    (``strict``; a caller whose default is not to answer may ask for it too)."""
    if strict is None:
        strict = intent in ("nlu_fallback", "")
    result = services().faq.search(
        session, query, category=INTENT_CATEGORIES.get(intent), strict=strict, context=context
    )
    logger.info(
        "faq decision=%s intent=%s best=%s p=%s",
        result.decision,
        intent,
        result.best.key if result.best else None,
        result.best.confidence if result.best else None,
    )
    return result


def choices_of(entry: FaqEntry, session: Session) -> list[Candidate]:
    """The active entries an entry that asks back offers, in its order."""
    keys = [str(k) for k in entry.choices or []]
    if not keys:
        return []
    found = {e.key: e for e in session.scalars(select(FaqEntry).where(FaqEntry.key.in_(keys), FaqEntry.active))}
    return [Candidate(found[k].id, k, found[k].question, found[k].category, 0.0, 0.0) for k in keys if k in found]


def ask_back(
    dispatcher: CollectingDispatcher, entry: FaqEntry, choices: list[Candidate], query: str
) -> list[EventType]:
    """An entry with choices is a question back ("有什么补贴": which programme?): its answer
    introduces the choices, and the pick (a button, 第二个) or 都不是 is read as after "您是想问…"."""
    dispatcher.utter_message(text=format_answer(entry, services().settings.bureau), buttons=suggestion_buttons(choices))
    return [
        SlotSet("faq_candidates", [c.key for c in choices]),
        SlotSet(OFFER_OPEN, True),
        SlotSet("unanswered_text", query[:MAX_QUERY_CHARS]),
        SlotSet("last_faq_query", query),
    ]


def answer_with(
    dispatcher: CollectingDispatcher, session: Session, result: SearchResult, query: str
) -> list[EventType]:
    """Send the confidently found entry (and close runner-ups as buttons), then the entries that
    answer a second question in the message (``result.also``), or the choices for a second question
    that is not clear (``result.also_offered``, an open offer); the slots that remember the first."""
    assert result.best is not None
    entry = session.get(FaqEntry, result.best.entry_id)
    choices = choices_of(entry, session)
    if choices:
        return ask_back(dispatcher, entry, choices, query)
    dispatcher.utter_message(text=format_answer(entry, services().settings.bureau))
    for other in result.also:  # the message asked a second thing (civil_affairs.faq.multi)
        extra = session.get(FaqEntry, other.entry_id)
        if extra is not None and extra.active and not extra.choices:  # an entry that asks back is no answer
            dispatcher.utter_message(text=format_answer(extra, services().settings.bureau))
    answered = [
        SlotSet("last_faq_key", entry.key),
        SlotSet("last_faq_query", query),
        SlotSet("misunderstood_count", 0.0),
    ]
    if result.also_offered:  # the other part was not clear: which entry it meant, as after "您是想问…"
        shown = result.also_offered[:MAX_SUGGESTIONS]
        dispatcher.utter_message(text=texts.FAQ_OTHER_PART, buttons=suggestion_buttons(shown))
        return [
            *answered,
            SlotSet("faq_candidates", [c.key for c in shown]),
            SlotSet(OFFER_OPEN, True),
            SlotSet("unanswered_text", query[:MAX_QUERY_CHARS]),
        ]
    related = result.related()
    if related:
        dispatcher.utter_message(text=texts.FAQ_RELATED, buttons=suggestion_buttons(related, with_none=False))
    return [*answered, SlotSet("faq_candidates", None)]


def offer_choices(dispatcher: CollectingDispatcher, result: SearchResult, text: str, query: str) -> list[EventType]:
    """Ask which of the offered entries was meant ("您是想问…"), or, when the message only named a
    programme, which of its questions ("关于高龄津贴，您想了解哪方面？"); a pick answers it, 都不是
    records ``text``."""
    shown = result.offered[:MAX_SUGGESTIONS] or result.candidates[:2]
    asking = texts.FAQ_WHICH_ASPECT.format(name=result.programme_name) if result.programme_name else texts.FAQ_WHICH_ONE
    dispatcher.utter_message(text=asking, buttons=suggestion_buttons(shown))
    return [
        SlotSet("faq_candidates", [c.key for c in shown]),
        SlotSet(OFFER_OPEN, True),
        SlotSet("unanswered_text", text[:MAX_QUERY_CHARS]),
        SlotSet("last_faq_query", query),
    ]


async def answer_if_confident(
    dispatcher: CollectingDispatcher, tracker: Tracker, strict: bool | None = None
) -> list[EventType] | None:
    """Answer the latest message from the FAQ only when the search decides to answer it, or ask
    back when it only names a programme ("福利彩票": a policy question the FAQ covers, answered
    before with one guessed entry); otherwise say nothing, record nothing and return None (the
    caller does what it would have done)."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name") or ""
    query = (message.get("text") or "")[:MAX_QUERY_CHARS]
    with services().sessions.begin() as session:
        result = search_faq(session, query, intent, strict=strict)
        if result.decision == "answer" and result.best:
            return offered_within_form(tracker, answer_with(dispatcher, session, result, query))
        if result.programme_name and result.offered:
            return offered_within_form(tracker, offer_choices(dispatcher, result, query, query))
    return None


class ActionAnswerFaq(Action):
    """Answers a policy question from the FAQ store, or offers candidates, or records it."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return offered_within_form(tracker, await self._run(dispatcher, tracker))

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name") or ""
        text = message.get("text") or ""
        if intent == "choose_faq":
            return self._answer_choice(dispatcher, tracker)
        if not has_meaningful_text(text):
            dispatcher.utter_message(text=texts.FAQ_NOT_TEXT)
            return []
        if is_self_harm(text):
            return await send_emergency_help(dispatcher, tracker)

        query = text[:MAX_QUERY_CHARS]
        previous = tracker.get_slot("last_faq_query")
        context = previous if previous and is_elliptical(text) else None
        if intent == "nlu_fallback":
            intent = runner_up_policy_intent(message) or intent
        app = services()
        with app.sessions.begin() as session:
            result = search_faq(session, query, intent, context)
            if context:
                query = f"{context} {query}"  # what a further follow-up leans on
            if result.decision == "answer" and result.best:
                return answer_with(dispatcher, session, result, query)
            # Words of danger in a message the bot cannot answer ("家里断粮两天了"): the hotlines
            # first; when it cannot even guess the question, a person at once instead of "please rephrase".
            urgent = looks_urgent(text)
            if result.decision == "disambiguate" and not told_complaint(intent, text, result):
                if urgent:
                    send_hotlines(dispatcher, tracker)
                return offer_choices(dispatcher, result, text, query)
            if not urgent and intent != "complain":  # a complaint goes to staff below, not to the FAQ's gaps
                record_unanswered(text[:MAX_QUERY_CHARS], session=session, intent=intent)
        if urgent:
            return await send_emergency_help(dispatcher, tracker)
        if intent == "complain":
            # The model heard a complaint without complaint words (action_handoff let it through as a
            # likely policy question), and the FAQ cannot even guess the question, or only guesses at
            # one in a message that asks nothing ("叫我明天再来 明天来了又叫我后天来"): it was a
            # complaint after all, and a person hears it, not "please rephrase" or "您是想问…".
            dispatcher.utter_message(text=await hand_over(tracker, "complaint"))
            return offer_closed(misunderstood_count=0)
        return await misunderstood(dispatcher, tracker, texts.FAQ_UNKNOWN)

    def _answer_choice(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """The resident pressed a suggestion button or typed 第一个/第二个."""
        key = next(tracker.get_latest_entity_values("faq_key"), None)
        candidates = tracker.get_slot("faq_candidates") or []
        if not key:
            index = _choice_index(next(tracker.get_latest_entity_values("choice"), None))
            if index is not None and 0 <= index < len(candidates):
                key = candidates[index]
        app = services()
        with app.sessions.begin() as session:
            entry = find_entry(key or "", session=session)
            if entry is None or not entry.active:
                # The buttons are still there to press: the offer stays open for a 都不是.
                dispatcher.utter_message(text=texts.FAQ_CHOICE_UNCLEAR)
                return [SlotSet(OFFER_OPEN, True)] if candidates else []
            choices = choices_of(entry, session)
            if choices:
                return ask_back(dispatcher, entry, choices, entry.question)
            dispatcher.utter_message(text=format_answer(entry, app.settings.bureau))
            return [
                SlotSet("last_faq_key", entry.key),
                SlotSet("last_faq_query", entry.question),
                SlotSet("faq_candidates", None),
            ]


class ActionFaqNone(Action):
    """None of the suggested questions fits (a no right after the offer): record the question and
    offer a person."""

    def name(self) -> str:
        return "action_faq_none"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text: Any = tracker.get_slot("unanswered_text")
        if text:
            app = services()
            with app.sessions.begin() as session:
                record_unanswered(str(text), session=session, intent="faq_none")
        return await misunderstood(dispatcher, tracker, texts.FAQ_NONE) + [SlotSet("unanswered_text", None)]


def warm_up_faq_ranker() -> None:
    """Fit the FAQ ranker before the first resident asks (a first fit takes seconds, longer than
    Rasa waits for an action). Runs at import in the action server process only, which then
    reports healthy once the ranker is ready; a failure only defers the fit to the first question."""
    try:
        started = time.perf_counter()
        app = services()
        with app.sessions.begin() as session:
            app.faq.search(session, WARM_UP_QUERY)
        logger.info("faq ranker ready in %.1f s", time.perf_counter() - started)
    except Exception:  # noqa: BLE001 - the action server must start even if the store is unreachable
        logger.exception("faq ranker warm-up failed; it will be fitted on the first question")


# Entry modules of an action server: the service's (``python -m servers.action_server``, as the
# launcher starts it) and rasa-sdk's own command line.
ACTION_SERVER_ENTRIES = ("servers.action_server", "rasa_sdk")


def _in_action_server() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return bool(spec and spec.name.startswith(ACTION_SERVER_ENTRIES))


if _in_action_server():
    warm_up_faq_ranker()
