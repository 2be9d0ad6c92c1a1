"""Start and stop an Application outside ``run_polling``, calling the same hooks it calls."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram.ext import Application

logger = logging.getLogger(__name__)


@asynccontextmanager
async def running(
    application: Application,
    *,
    poll: bool,
    poll_timeout: float = 10.0,
    allowed_updates: Sequence[str] | None = None,
) -> AsyncIterator[Application]:
    """Run ``application`` (optionally polling) inside the current event loop, like run_polling does."""
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        if poll:
            if application.updater is None:
                raise RuntimeError("polling needs an Application built with an Updater")
            await application.updater.start_polling(
                poll_interval=0.0, timeout=timedelta(seconds=poll_timeout), allowed_updates=allowed_updates
            )
        await application.start()
        try:
            yield application
        finally:
            if poll and application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
