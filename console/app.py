"""Builds the console's ASGI app; shared clients live in the lifespan state, not in globals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from civil_affairs import clock
from civil_affairs.booking import rules_from_settings
from civil_affairs.booking.reminders import run_reminder_loop
from civil_affairs.config import Settings
from civil_affairs.conversations.delivery import Delivery
from civil_affairs.conversations.rasa_client import RasaClient
from civil_affairs.conversations.service import ConversationService
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.ops.logs import configure_logging
from civil_affairs.ops.retention import run_retention_loop
from console import errors, routes
from console.auth import bootstrap_admin
from console.security import BodyLimitMiddleware, SecurityHeadersMiddleware, TrustedProxyMiddleware

HERE = Path(__file__).resolve().parent


def create_app(settings: Settings | None = None) -> FastAPI:
    """The console app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    configure_logging(settings)
    clock.use_timezone(settings.timezone)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.sessions = make_session_factory(engine)
        with app.state.sessions.begin() as session:
            bootstrap_admin(settings, session=session)
        delivery = Delivery(settings, app.state.sessions)
        app.state.conversations = ConversationService(
            settings, app.state.sessions, RasaClient.for_settings(settings), delivery
        )
        app.state.booking_rules = rules_from_settings(settings)
        reminders = None
        if settings.booking_reminders:
            # Reminders the day before; safe in several replicas (each reminder is claimed once).
            reminders = asyncio.create_task(
                run_reminder_loop(
                    app.state.sessions,
                    delivery,
                    interval_seconds=settings.booking_reminder_interval_seconds,
                    rules=app.state.booking_rules,
                )
            )
        retention = None
        if settings.retention_interval_seconds > 0:
            # Purges old transcripts and conversation events; safe in several workers and replicas.
            retention = asyncio.create_task(
                run_retention_loop(
                    app.state.sessions, settings.retention_days, interval_seconds=settings.retention_interval_seconds
                )
            )
        try:
            yield
        finally:
            for task in (reminders, retention):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await app.state.conversations.aclose()
            engine.dispose()

    app = FastAPI(title="民政便民服务机器人 · 控制台", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    routes.register(app)
    errors.register(app)
    # Added innermost first: forwarded headers are settled, then headers wrap every answer (a 413 too).
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies)
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory console.app:app_factory``."""
    return create_app()
