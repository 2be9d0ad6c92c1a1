"""Telegram adapter of the civil-affairs chat service: passes residents' messages to Rasa and back.

``build_application(settings)`` returns the python-telegram-bot Application; ``python -m bot`` runs it.
"""

from bot.application import build_application

__all__ = ["build_application"]
