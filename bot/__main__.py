"""Entry point: ``python -m bot`` runs the Telegram bot by long polling or as a webhook."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.application import ALLOWED_UPDATES, build_application
from bot.webhook import serve_webhook
from civil_affairs import clock
from civil_affairs.config import ConfigError, Settings
from civil_affairs.ops.logs import configure_logging as configure_service_logging

logger = logging.getLogger(__name__)


def configure_logging(settings: Settings) -> None:
    """Log in LOG_FORMAT at LOG_LEVEL (masked), but keep libraries that print tokens or messages quieter."""
    configure_service_logging(settings)  # also quiets httpx, whose URLs contain the bot token
    level = logging.getLevelName(settings.log_level)
    # PTB's DEBUG output includes whole updates, i.e. residents' messages.
    level = level if isinstance(level, int) else logging.INFO
    logging.getLogger("telegram").setLevel(max(level, logging.INFO))


def main() -> None:
    """Read settings and run the bot until interrupted."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        sys.exit(f"配置错误 / configuration error: {exc}")
    configure_logging(settings)
    clock.use_timezone(settings.timezone)
    if not settings.telegram_bot_token:
        sys.exit(
            "TELEGRAM_BOT_TOKEN is not set: the Telegram bot cannot start. "
            "Get a token from @BotFather and put it in the environment or .env "
            "(the web chat works without it)."
        )
    application = build_application(settings)
    if settings.telegram_mode == "webhook":
        logger.info("starting in webhook mode")
        asyncio.run(serve_webhook(application, settings))
    else:
        logger.info("starting in polling mode")
        application.run_polling(allowed_updates=ALLOWED_UPDATES)


if __name__ == "__main__":
    main()
