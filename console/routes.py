"""Every route of the console, listed in one place."""

from __future__ import annotations

from fastapi import FastAPI

from console import auth, faq, health, webchat


def register(app: FastAPI) -> None:
    """Attach all routers to ``app``."""
    app.include_router(health.router)
    app.include_router(webchat.router)
    app.include_router(auth.router)
    app.include_router(faq.router)
