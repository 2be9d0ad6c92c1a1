"""Entry point: ``python -m bot`` runs the Telegram bot by long polling or as a webhook."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.application import ALLOWED_UPDATES, build_application
from bot.webhook import serve_webhook
from civil_affairs.config import ConfigError, Settings

logger = logging.getLogger(__name__)


def configure_logging(level_name: str) -> None:
    """Log at ``level_name``, but keep libraries that print tokens or message contents quieter."""
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        level = logging.INFO
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    # httpx logs every request URL, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # PTB's DEBUG output includes whole updates, i.e. residents' messages.
    logging.getLogger("telegram").setLevel(max(level, logging.INFO))


def main() -> None:
    """Read settings and run the bot until interrupted."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        sys.exit(f"配置错误 / configuration error: {exc}")
    configure_logging(settings.log_level)
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
