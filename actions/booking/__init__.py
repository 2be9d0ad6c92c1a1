"""Marriage-registration appointments in the chat: the booking form, cancelling and rescheduling.

Three forms share one way of reading answers: every slot has a ``custom`` mapping and an
``extract_<slot>`` method here that reads the requested slot's answer from a button payload
(``/inform{"booking_choice": …}``) or the typed text. An answer that cannot be read while the
resident plainly asks something else (a policy question, "转人工", "不约了") is left unextracted, so
the form rejects and the rules in dialogue/booking.yml answer the question or stop the form.
The checks themselves live in ``civil_affairs`` (identity, date_parsing, booking).

Modules: ``answers`` (reading answers), ``form`` (the booking form), ``questions``
(action_ask_<slot>), ``submit`` (booking), ``manage`` (cancel and reschedule). What they say to
residents is in ``actions/texts.py``.
"""

from __future__ import annotations

from actions.booking.answers import clean_name, infer_kind, match_slot, now
from actions.booking.form import BookingFormBase, ValidateBookingForm
from actions.booking.manage import (
    ActionAskCancelConfirmed,
    ActionBookingCodeOnly,
    ActionCancelBooking,
    ActionRescheduleBooking,
    ActionStopBooking,
    ManageFormBase,
    ValidateCancelBookingForm,
    ValidateRescheduleForm,
)
from actions.booking.questions import (
    ActionAskBookingConfirmed,
    ActionAskBookingDate,
    ActionAskBookingSlot,
    AskBookingCode,
    AskBookingIdLast6,
    AskBookingPhone,
    AskDivorceApplicationDate,
    AskParty1Id,
    AskParty1Name,
    AskParty2Id,
    AskParty2Name,
)
from actions.booking.submit import ActionSubmitBooking

__all__ = [
    "ActionAskBookingConfirmed",
    "ActionAskBookingDate",
    "ActionAskBookingSlot",
    "ActionAskCancelConfirmed",
    "ActionBookingCodeOnly",
    "ActionCancelBooking",
    "ActionRescheduleBooking",
    "ActionStopBooking",
    "ActionSubmitBooking",
    "AskBookingCode",
    "AskBookingIdLast6",
    "AskBookingPhone",
    "AskDivorceApplicationDate",
    "AskParty1Id",
    "AskParty1Name",
    "AskParty2Id",
    "AskParty2Name",
    "BookingFormBase",
    "ManageFormBase",
    "ValidateBookingForm",
    "ValidateCancelBookingForm",
    "ValidateRescheduleForm",
    "clean_name",
    "infer_kind",
    "match_slot",
    "now",
]
