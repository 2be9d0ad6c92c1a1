"""ORM models, one module per feature; importing this package registers them all on ``Base``."""

from civil_affairs.models.base import Base
from civil_affairs.models.booking import Appointment, AppointmentParty, BookingSlot, CalendarDay, CalendarYear, CapacityOverride, SlotDay  # noqa: F401
from civil_affairs.models.applications import Application, ApplicationStageText, ApplicationStatusEvent, StatusLookupFailure, StatusSubscription  # noqa: F401
from civil_affairs.models.conversation import Conversation, ConversationMessage, Handoff, HandoffNote
from civil_affairs.models.faq import FaqEntry, UnansweredQuestion
from civil_affairs.models.operations import TelegramUpdate, TrackerEvent
from civil_affairs.models.staff import AuditLog, StaffSession, StaffUser
from civil_affairs.models.security import RateLimitCounter, StatusLookupProof  # noqa: F401

__all__ = ["AuditLog", "Base", "Conversation", "ConversationMessage", "Handoff", "HandoffNote", "FaqEntry",
           "StaffSession", "StaffUser", "TelegramUpdate", "TrackerEvent", "UnansweredQuestion",
           "Appointment", "AppointmentParty", "BookingSlot", "CalendarDay", "CalendarYear", "CapacityOverride",
           "SlotDay", "Application", "ApplicationStageText", "ApplicationStatusEvent", "StatusLookupFailure",
           "StatusSubscription", "RateLimitCounter", "StatusLookupProof"]
