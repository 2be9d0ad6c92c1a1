"""Questions the model calls out of scope: "not our business", unless the FAQ is sure it is one of its own.

Why: the model calls about 1.6% of the FAQ's own phrasings out of scope ("结婚证丢了…能补吗" with a
house sale in the story, "家暴 找谁", "醫療救助找哪個部門"), and the resident is then sent to 12345 for
a question the bureau answers. The FAQ decides strictly here (as for a message the model could not
place), and only when the model is not itself near-certain: a message it calls out of scope with
high confidence keeps the reply even if it shares words with an entry ("居住证怎么办",
"房产证丢了能补吗"). The thresholds are measured in README, "Answer quality".
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.faq import answer_if_confident

# The FAQ may answer only below this out-of-scope confidence of the model.
RESCUE_BELOW_CONFIDENCE = 0.8


class ActionOutOfScope(Action):
    """The out-of-scope reply, or the FAQ's answer when the FAQ is sure and the model was not."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message or {}).get("intent") or {}
        if float(intent.get("confidence") or 0.0) < RESCUE_BELOW_CONFIDENCE:
            answered = await answer_if_confident(dispatcher, tracker, strict=True)
            if answered is not None:
                return answered
        dispatcher.utter_message(response="utter_out_of_scope")
        return []
