"""What every action shares: settings, the database session factory and the FAQ searcher.

Built on first use rather than at import, because the action server imports every module here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import sessionmaker

from civil_affairs import clock
from civil_affairs.booking import BookingRules, rules_from_settings
from civil_affairs.config import Settings
from civil_affairs.conversations.delivery import Delivery
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.faq.search import FaqSearcher
from civil_affairs.privacy import install_log_masking

INTENT_CATEGORIES = {
    "ask_benefits": "benefits",
    "ask_elderly": "elderly",
    "ask_disability_children": "disability_children",
    "ask_marriage": "marriage",
    "ask_funeral": "funeral",
    "ask_other_policy": "other",
}


@dataclass(frozen=True)
class Services:
    """Long-lived objects of the action server process."""

    settings: Settings
    sessions: sessionmaker
    faq: FaqSearcher
    delivery: Delivery
    booking_rules: BookingRules


@lru_cache(maxsize=1)
def services() -> Services:
    """The action server's services, created once per process."""
    settings = Settings.from_env()
    install_log_masking(settings.log_level)
    clock.use_timezone(settings.timezone)
    sessions = make_session_factory(make_engine(settings.database_url))
    return Services(
        settings=settings,
        sessions=sessions,
        faq=FaqSearcher(fit_processes=settings.faq_fit_processes),
        delivery=Delivery(settings, sessions),
        booking_rules=rules_from_settings(settings),
    )
