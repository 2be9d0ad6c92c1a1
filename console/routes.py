"""Every route of the console, listed in one place."""

from __future__ import annotations

from fastapi import FastAPI

from console import (
    applications,
    appointments,
    auth,
    dashboard,
    faq,
    handoffs,
    handoffs_api,
    health,
    staff_accounts,
    system_health,
    webchat,
)


def register(app: FastAPI) -> None:
    """Attach all routers to ``app``."""
    app.include_router(health.router)
    app.include_router(webchat.router)
    app.include_router(auth.router)
    app.include_router(faq.router)
    app.include_router(appointments.router)
    app.include_router(applications.router)
    app.include_router(handoffs.router)
    app.include_router(handoffs_api.router)
    app.include_router(dashboard.router)
    app.include_router(system_health.router)
    app.include_router(staff_accounts.router)
